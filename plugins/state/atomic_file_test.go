package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"
)

func TestAtomicFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "not", "yet")
	a, err := NewAtomicFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, service.ErrKeyNotFound) {
		t.Fatalf("get of a missing key: %v", err)
	}
	if err := a.Set(ctx, "k", []byte("one"), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, "k", []byte("two"), nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := a.Get(ctx, "k"); string(b) != "two" {
		t.Fatalf("got %q", b)
	}
	if err := a.Add(ctx, "k", []byte("three"), nil); !errors.Is(err, service.ErrKeyAlreadyExists) {
		t.Fatalf("add over an item: %v", err)
	}
	if err := a.Add(ctx, "k2", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "../escape"); err == nil {
		t.Fatal("a key with .. was accepted")
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, service.ErrKeyNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "k2" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
