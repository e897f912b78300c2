package gold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
	"github.com/gdeltflow/gdeltflow/plugins/join"
)

// Silver reads one silver window back from the lake, for a gold stage that
// does not run after the join (pipelines/gold.yaml): the window's first
// sightings from silver/events (DATEADDED = the window, as the SQL oracle
// takes them) and its rows of silver/events_detailed (column window), both
// in the partition window_date of the window's date. The three silver tables
// are written by separate outputs, so a window's SILVER_COMPLETE audit row
// may be committed before its silver rows: Read reports whether the tables
// hold as many rows as the audit rows announce.
type Silver struct {
	events, detailed *delta.Table
}

// OpenSilver opens <lake>/silver/events and <lake>/silver/events_detailed.
func OpenSilver(ctx context.Context, lake string, s3 storage.S3Config) (*Silver, error) {
	s := &Silver{}
	for _, t := range []struct {
		name string
		dst  **delta.Table
	}{{"silver/events", &s.events}, {"silver/events_detailed", &s.detailed}} {
		st, err := storage.Open(lake+"/"+t.name, s3)
		if err != nil {
			return nil, fmt.Errorf("opening %s/%s: %w", lake, t.name, err)
		}
		if *t.dst, err = delta.OpenTable(ctx, st, delta.TableConfig{}); err != nil {
			return nil, fmt.Errorf("opening %s/%s: %w", lake, t.name, err)
		}
	}
	return s, nil
}

// Read returns window w's events and silver rows when the tables hold at
// least wantEvents and wantRows of them (ok); otherwise ok is false: not
// committed yet, read again later.
func (s *Silver) Read(ctx context.Context, w, wantEvents, wantRows int64) (events, rows []map[string]any, ok bool, err error) {
	wt, err := WindowTime(w)
	if err != nil {
		return nil, nil, false, err
	}
	date := wt.Format("2006-01-02")
	if wantRows > 0 {
		if rows, err = readWindow(ctx, s.detailed, date, join.ColumnWindow, w); err != nil {
			return nil, nil, false, err
		}
		if int64(len(rows)) < wantRows {
			return nil, nil, false, nil
		}
	}
	if wantEvents > 0 {
		if events, err = readWindow(ctx, s.events, date, "date_added", w); err != nil {
			return nil, nil, false, err
		}
		if int64(len(events)) < wantEvents {
			return nil, nil, false, nil
		}
	}
	return events, rows, true, nil
}

// readWindow reads the rows of partition window_date = date whose column
// col is w, skipping files whose statistics exclude w.
func readWindow(ctx context.Context, t *delta.Table, date, col string, w int64) ([]map[string]any, error) {
	if err := t.Update(ctx); err != nil && !errors.Is(err, delta.ErrNoTable) {
		return nil, err
	}
	snap := t.Snapshot()
	if snap.Version < 0 {
		return nil, nil // not created yet
	}
	sc, err := delta.NewScan(snap.Metadata, nil)
	if err != nil {
		return nil, err
	}
	var files []*delta.Add
	for _, a := range snap.Files {
		if v := a.PartitionValues["window_date"]; v == nil || *v != date || !statsMayHold(a.Stats, col, w) {
			continue
		}
		files = append(files, a)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	names := sc.Names()
	idx := -1
	for i, n := range names {
		if n == col {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s has no column %s", t.Storage().Location(), col)
	}
	var out []map[string]any
	for _, a := range files {
		fr, err := sc.Open(ctx, t.Storage(), a)
		if err != nil {
			return nil, err
		}
		for {
			vals, err := fr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fr.Close()
				return nil, err
			}
			if v, ok := vals[idx].(int64); !ok || v != w {
				continue
			}
			row := make(map[string]any, len(names))
			for i, n := range names {
				row[n] = vals[i]
			}
			out = append(out, row)
		}
		fr.Close()
	}
	return out, nil
}

// statsMayHold reads a file's min/max of col: false only when they exclude w.
func statsMayHold(stats, col string, w int64) bool {
	var st struct {
		Min map[string]any `json:"minValues"`
		Max map[string]any `json:"maxValues"`
	}
	if stats == "" || json.Unmarshal([]byte(stats), &st) != nil {
		return true
	}
	lo, ok1 := st.Min[col].(float64)
	hi, ok2 := st.Max[col].(float64)
	if !ok1 || !ok2 {
		return true
	}
	return float64(w) >= lo && float64(w) <= hi
}
