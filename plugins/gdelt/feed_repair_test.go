package gdelt

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// cutZip is a zip whose one entry's deflate stream stops after `keep` of its
// bytes: its list line can be right, and inflating fails part way.
func cutZip(t *testing.T, entry string, content []byte, keep float64) []byte {
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, 6)
	must(t, err)
	fw.Write(content)
	must(t, fw.Close())
	raw := comp.Bytes()[:int(float64(comp.Len())*keep)]
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: entry, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(len(content))})
	must(t, err)
	w.Write(raw)
	must(t, zw.Close())
	return buf.Bytes()
}

// feedRow is a row as an input emitted it.
type feedRow struct {
	window, table string
	line          int
	content       string
	repair        bool
}

func feedRows(batches []service.MessageBatch) []feedRow {
	var out []feedRow
	for _, b := range batches {
		for _, m := range b {
			if kind, marker := m.MetaGet(contract.MetaMarker); marker {
				w, _ := m.MetaGet(contract.MetaWindow)
				out = append(out, feedRow{window: w, table: "marker", content: kind})
				continue
			}
			raw, _ := m.AsBytes()
			w, _ := m.MetaGet(contract.MetaWindow)
			tb, _ := m.MetaGet(contract.MetaTable)
			l, _ := m.MetaGet(contract.MetaLine)
			n, _ := strconv.Atoi(l)
			_, repair := m.MetaGet(contract.MetaRepair)
			out = append(out, feedRow{w, tb, n, string(raw), repair})
		}
	}
	return out
}

func readCheckpoint(t *testing.T, res *service.Resources) Checkpoint {
	t.Helper()
	var cp Checkpoint
	must(t, json.Unmarshal([]byte(checkpointJSON(t, res, "gdelt_feed")), &cp))
	return cp
}

func incompleteOf(cp Checkpoint) map[string]string {
	out := map[string]string{}
	for _, fe := range cp.Incomplete {
		out[fe.Window+"/"+fe.Table] = fmt.Sprintf("%s@%d", fe.Reason, fe.Rows)
	}
	return out
}

// TestFeedRepair: a backfill leaves four files incomplete (one cut part way,
// an md5 mismatch, a 404, another md5 mismatch); three are fixed in the
// mirror. Mode repair reads exactly the rows the first run did not emit
// (gdelt_repair: true, line numbers continuing), removes the repaired files
// from the incomplete list, keeps the one still failing with its new reason,
// never moves the window checkpoint (not even back, when another feed moved
// it meanwhile), honours from/to, and ends the input.
func TestFeedRepair(t *testing.T) {
	ws := generate(t, 4)
	dir := t.TempDir()
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	m, err := gdeltgen.NewMirror(dir, false)
	must(t, err)
	for _, w := range ws {
		must(t, m.AddWindow(w))
	}
	must(t, m.Close())
	name := func(i int, table string) string { return gdeltgen.FileName(id(i), table, false) }
	good := map[string][]byte{}
	for _, n := range []string{name(0, "gkg"), name(1, "mentions"), name(2, "export")} {
		good[n] = mustRead(t, dir+"/"+n)
	}
	must(t, m.AddZip(name(0, "gkg"), cutZip(t, strings.TrimSuffix(name(0, "gkg"), ".zip"), ws[0].GKG, 0.5)))
	must(t, m.CorruptMD5(name(1, "mentions")))
	must(t, m.Remove(name(2, "export")))
	must(t, m.CorruptMD5(name(3, "gkg")))

	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	conf := fmt.Sprintf("base_url: %s\ncheckpoint_cache: cp\nmax_batch_rows: 7\nwindow_markers: true\n", dir)
	first := feedRows(drain(t, newTestFeedInput(t, res, conf+"mode: backfill\n")))
	cp := readCheckpoint(t, res)
	cutRows := 0
	for _, fe := range cp.Incomplete {
		if fe.Table == "gkg" && fe.Window == id(0) {
			cutRows = fe.Rows
		}
	}
	gkgRows := strings.Count(string(ws[0].GKG), "\n")
	if cutRows <= 0 || cutRows >= gkgRows {
		t.Fatalf("the cut zip gave %d of %d rows: the test needs a failure part way", cutRows, gkgRows)
	}
	wantIncomplete := map[string]string{
		id(0) + "/gkg": fmt.Sprintf("%s@%d", ReasonCorruptZip, cutRows), id(1) + "/mentions": ReasonMD5Mismatch + "@0",
		id(2) + "/export": ReasonNotFound + "@0", id(3) + "/gkg": ReasonMD5Mismatch + "@0",
	}
	if got := incompleteOf(cp); fmt.Sprint(got) != fmt.Sprint(wantIncomplete) || cp.Window != id(3) {
		t.Fatalf("after the backfill: window %s, incomplete %v", cp.Window, got)
	}

	// Fix three files; the fourth now fails otherwise.
	must(t, m.AddZip(name(0, "gkg"), good[name(0, "gkg")]))
	must(t, m.AddZip(name(1, "mentions"), good[name(1, "mentions")]))
	must(t, m.AddZip(name(2, "export"), good[name(2, "export")]))
	must(t, m.Remove(name(3, "gkg")))

	// A repair limited to one window reads that window only.
	only := feedRows(drain(t, newTestFeedInput(t, res, conf+fmt.Sprintf("mode: repair\nfrom: %q\nto: %q\n", id(2), id(2)))))
	if len(only) != strings.Count(string(ws[2].Export), "\n") || only[0].window != id(2) || only[0].table != "export" {
		t.Fatalf("repair of %s only: %d rows, first %+v", id(2), len(only), only[0])
	}
	delete(wantIncomplete, id(2)+"/export")
	if got := incompleteOf(readCheckpoint(t, res)); fmt.Sprint(got) != fmt.Sprint(wantIncomplete) {
		t.Fatalf("after repairing %s: incomplete %v", id(2), got)
	}

	// Another feed on the key moves the window while the repair runs.
	repair := newTestFeedInput(t, res, conf+"mode: repair\n")
	ctx := context.Background()
	moved := readCheckpoint(t, res)
	moved.Window = "20230702180000"
	raw, _ := json.Marshal(moved)
	must(t, res.AccessCache(ctx, "cp", func(c service.Cache) { must(t, c.Set(ctx, "gdelt_feed", raw, nil)) }))
	second := feedRows(drain(t, repair))

	cp = readCheckpoint(t, res)
	if cp.Window != "20230702180000" {
		t.Fatalf("the repair moved the window checkpoint to %s", cp.Window)
	}
	if got := incompleteOf(cp); fmt.Sprint(got) != fmt.Sprint(map[string]string{id(3) + "/gkg": ReasonNotFound + "@0"}) {
		t.Fatalf("after the repair: incomplete %v, want only %s gkg, now not_found", got, id(3))
	}
	// Every repaired row is flagged, no marker is emitted, and the three
	// runs together emitted each row of every file once, except the file
	// still missing.
	byFile := map[string][]feedRow{}
	for _, r := range append(append(first, only...), second...) {
		if r.table == "marker" {
			continue
		}
		byFile[r.window+"/"+r.table] = append(byFile[r.window+"/"+r.table], r)
	}
	for _, r := range append(only, second...) {
		if !r.repair || r.table == "marker" {
			t.Fatalf("repair emitted %+v", r)
		}
	}
	for _, r := range first {
		if r.repair {
			t.Fatalf("the backfill emitted a row flagged as repaired")
		}
	}
	if second[0].window != id(0) || second[0].table != "gkg" || second[0].line != cutRows+1 {
		t.Fatalf("the repair began at %+v, want %s gkg line %d", second[0], id(0), cutRows+1)
	}
	for i, w := range ws {
		for table, src := range map[string][]byte{"export": w.Export, "mentions": w.Mentions, "gkg": w.GKG} {
			rows := byFile[id(i)+"/"+table]
			if i == 3 && table == "gkg" {
				if len(rows) != 0 {
					t.Fatalf("%d rows of a file never read", len(rows))
				}
				continue
			}
			var b strings.Builder
			for n, r := range rows {
				if r.line != n+1 {
					t.Fatalf("%s %s: row %d has line %d", id(i), table, n+1, r.line)
				}
				b.WriteString(r.content + "\n")
			}
			if b.String() != string(src) {
				t.Fatalf("%s %s: %d rows emitted in all, the file has %d", id(i), table, len(rows), strings.Count(string(src), "\n"))
			}
		}
	}

	// Once more: the file still missing is tried again, nothing else.
	third := feedRows(drain(t, newTestFeedInput(t, res, conf+"mode: repair\n")))
	if len(third) != 0 || fmt.Sprint(incompleteOf(readCheckpoint(t, res))) != fmt.Sprint(map[string]string{id(3) + "/gkg": ReasonNotFound + "@0"}) {
		t.Fatalf("a third repair emitted %d rows, checkpoint %v", len(third), incompleteOf(readCheckpoint(t, res)))
	}
}
