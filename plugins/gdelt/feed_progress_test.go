package gdelt

import "testing"

// TestProgressNeverGoesBack: after a rewind (rewind_windows), windows before
// the checkpoint are read and acknowledged again; the checkpoint stays where
// it was until a newer window is done.
func TestProgressNeverGoesBack(t *testing.T) {
	var saved []string
	p := newProgress(Checkpoint{Window: "20230702160000"}, func(cp Checkpoint) error {
		saved = append(saved, cp.Window)
		return nil
	}, nil)
	for _, w := range []string{"20230702153000", "20230702154500", "20230702160000", "20230702161500"} {
		p.emitted(w)
		if err := p.ended(&WindowEnd{Window: w}); err != nil {
			t.Fatal(err)
		}
		if err := p.acked(w); err != nil {
			t.Fatal(err)
		}
		if got := p.checkpoint(); got < "20230702160000" {
			t.Fatalf("after re-reading %s the checkpoint went back to %s", w, got)
		}
	}
	if got := p.checkpoint(); got != "20230702161500" {
		t.Fatalf("checkpoint %s, want 20230702161500", got)
	}
	for _, w := range saved {
		if w < "20230702160000" {
			t.Fatalf("saved a checkpoint before the original: %v", saved)
		}
	}
}
