package delta

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gdeltflow/gdeltflow/plugins/internal/deltatest"
)

func TestAddColumns(t *testing.T) {
	ctx := context.Background()
	st := deltatest.Local(t, t.TempDir())
	tbl, _ := OpenTable(ctx, st, TableConfig{})
	old := dtMeta()
	old.Configuration = map[string]string{"delta.checkpointInterval": "10"}
	if err := tbl.Create(ctx, old, Protocol{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(0)}, Txns: []Txn{{AppID: "a", Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	id := tbl.Snapshot().Metadata.ID
	wide := dtMeta()
	wide.SchemaString = strings.Replace(wide.SchemaString, `]}`, `,{"name":"note","type":"string","nullable":true,"metadata":{}},{"name":"n","type":"long","nullable":true,"metadata":{}}]}`, 1)

	// Another writer's Create refuses the wider schema; AddColumns adds them.
	other, _ := OpenTable(ctx, st, TableConfig{})
	if err := other.Create(ctx, wide, Protocol{}); !errors.Is(err, ErrMetadataMismatch) {
		t.Fatalf("Create with added columns: %v, want ErrMetadataMismatch", err)
	}
	added, err := other.AddColumns(ctx, wide)
	if err != nil || strings.Join(added, ",") != "note,n" {
		t.Fatalf("AddColumns: %v, %v", added, err)
	}
	s := other.Snapshot()
	if s.Version != 2 || s.Metadata.ID != id || s.Metadata.Configuration["delta.checkpointInterval"] != "10" || len(s.Files) != 1 {
		t.Errorf("after AddColumns: version %d, metadata %+v, %d files", s.Version, s.Metadata, len(s.Files))
	}
	if tx, _ := other.Txn("a"); tx.Version != 1 {
		t.Errorf("txn a after AddColumns: %+v", tx)
	}
	// Now Create with the wider schema passes, and a second AddColumns does nothing.
	if err := other.Create(ctx, wide, Protocol{}); err != nil {
		t.Errorf("Create after AddColumns: %v", err)
	}
	if added, err := other.AddColumns(ctx, wide); err != nil || len(added) != 0 || other.Version() != 2 {
		t.Errorf("AddColumns again: %v, %v, version %d", added, err, other.Version())
	}
	// The first writer, still on the old schema, sees a schema change: its
	// next commit is refused rather than adding files of the old shape.
	if _, err := tbl.Commit(ctx, Commit{Adds: []Add{dtAdd(1)}}); !errors.Is(err, ErrConcurrentModification) {
		t.Errorf("an old writer's commit after AddColumns: %v, want ErrConcurrentModification", err)
	}

	// Refused: a changed column, a column dropped, a non-nullable column added, other partitioning.
	for name, m := range map[string]Metadata{
		"changed type": {SchemaString: strings.Replace(wide.SchemaString, `"type":"long"`, `"type":"integer"`, 1), PartitionColumns: []string{"day"}},
		"dropped":      old,
		"not nullable": {SchemaString: strings.Replace(wide.SchemaString, `]}`, `,{"name":"x","type":"long","nullable":false,"metadata":{}}]}`, 1), PartitionColumns: []string{"day"}},
		"partitioning": {SchemaString: strings.Replace(wide.SchemaString, `]}`, `,{"name":"y","type":"long","nullable":true,"metadata":{}}]}`, 1)},
	} {
		if _, err := other.AddColumns(ctx, m); !errors.Is(err, ErrMetadataMismatch) {
			t.Errorf("%s: %v, want ErrMetadataMismatch", name, err)
		}
	}
	if other.Version() != 2 {
		t.Errorf("refused AddColumns committed: version %d", other.Version())
	}
}
