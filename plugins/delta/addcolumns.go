package delta

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// AddColumns brings an existing table to want's schema when want only adds
// nullable columns after the table's own (same names, types and order
// first, same partition columns): one commit with the new metaData
// (operation ADD COLUMNS) that keeps the table's id and configuration.
// Files written before it lack the new columns, which Delta readers read as
// null. It returns the columns added (none when the schema is want's
// already). Any other difference is ErrMetadataMismatch; a concurrent
// schema change is ErrConcurrentModification (nothing committed: call again).
// Writers still holding the old schema then fail their commits with
// ErrConcurrentModification: every writer of the table must know the new
// columns.
func (t *Table) AddColumns(ctx context.Context, want Metadata) ([]string, error) {
	if err := t.Update(ctx); err != nil {
		return nil, err
	}
	have := t.Snapshot().Metadata
	if have == nil {
		return nil, ErrNoTable
	}
	if sameTableShape(have, &want) == nil {
		return nil, nil
	}
	if !slices.Equal(nonNil(have.PartitionColumns), nonNil(want.PartitionColumns)) {
		return nil, fmt.Errorf("%w: partitioned by %v, want %v", ErrMetadataMismatch, have.PartitionColumns, want.PartitionColumns)
	}
	type field struct {
		Name     string `json:"name"`
		Nullable bool   `json:"nullable"`
	}
	var hs, ws struct {
		Fields []json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal([]byte(have.SchemaString), &hs); err != nil {
		return nil, fmt.Errorf("%w: the table's schema: %v", ErrMetadataMismatch, err)
	}
	if err := json.Unmarshal([]byte(want.SchemaString), &ws); err != nil {
		return nil, fmt.Errorf("the new schema: %w", err)
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: %s: schema %s, want %s", ErrMetadataMismatch, why, have.SchemaString, want.SchemaString)
	}
	if len(ws.Fields) <= len(hs.Fields) {
		return nil, refuse("not only columns added")
	}
	for i, h := range hs.Fields {
		var a, b any
		_ = json.Unmarshal(h, &a)
		_ = json.Unmarshal(ws.Fields[i], &b)
		if !reflect.DeepEqual(a, b) {
			return nil, refuse(fmt.Sprintf("column %d differs", i+1))
		}
	}
	var added []string
	for _, raw := range ws.Fields[len(hs.Fields):] {
		var f field
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("the new schema: %w", err)
		}
		if !f.Nullable {
			return nil, refuse(fmt.Sprintf("added column %q is not nullable", f.Name))
		}
		added = append(added, f.Name)
	}
	m := *have
	m.SchemaString = want.SchemaString
	_, err := t.Commit(ctx, Commit{
		Metadata:            &m,
		Operation:           "ADD COLUMNS",
		OperationParameters: map[string]any{"columns": strings.Join(added, ", ")},
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}
