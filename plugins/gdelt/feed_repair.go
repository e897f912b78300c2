package gdelt

import (
	"context"
	"slices"
)

// Repair reads again the files of incomplete (a checkpoint's incomplete
// list) that belong to the feed's stream and tables and lie in [From, To]:
// each file from its row after the rows already emitted before it failed
// (FileError.Rows), with Chunk.Repair set. Windows go oldest first, one
// WindowEnd each with Repair set, Repaired the records read again and Errors
// the files still failing (with their new reason and row count). The master
// list gives each file's size and md5 again; a file it still lacks stays
// missing_from_list. Repair never calls End: repaired rows close no window.
func (f *Feed) Repair(ctx context.Context, incomplete []*FileError, out Emitter) error {
	byWindow := map[string][]*FileError{}
	seen := map[string]int{}
	for _, fe := range incomplete {
		_, table, stream, ok := ParseFileName(fe.File)
		if !ok || stream != f.cfg.Stream || table != fe.Table || !slices.Contains(f.cfg.Tables, table) ||
			(f.cfg.From != "" && fe.Window < f.cfg.From) || (f.cfg.To != "" && fe.Window > f.cfg.To) {
			continue
		}
		if i, dup := seen[fe.key()]; dup { // the latest record of a file wins
			byWindow[fe.Window][i] = fe
			continue
		}
		seen[fe.key()] = len(byWindow[fe.Window])
		byWindow[fe.Window] = append(byWindow[fe.Window], fe)
	}
	if len(byWindow) == 0 {
		f.log.Infof("gdelt_feed: repair: no incomplete file of %s %s in the checkpoint (%d records): nothing to read again",
			f.cfg.Stream, rangeText(f.cfg.From, f.cfg.To), len(incomplete))
		return nil
	}
	windows := make([]string, 0, len(byWindow))
	want := map[string]bool{}
	for w := range byWindow {
		windows = append(windows, w)
		want[w] = true
	}
	slices.Sort(windows)
	master, _ := ListNames(f.cfg.Stream)
	scan, err := f.scanList(ctx, master, listFilter{stream: f.cfg.Stream, tables: f.cfg.Tables, windows: want})
	if err != nil {
		return err
	}
	plans := map[string]windowPlan{}
	for _, p := range scan.plans {
		plans[p.Window] = p
	}
	f.log.Infof("gdelt_feed: repair of %d files in %d windows, %s to %s", len(seen), len(windows), ShowWindow(windows[0]), ShowWindow(windows[len(windows)-1]))
	var repaired, failing int
	for _, w := range windows {
		todo := byWindow[w]
		slices.SortStableFunc(todo, func(a, b *FileError) int {
			return slices.Index(f.cfg.Tables, a.Table) - slices.Index(f.cfg.Tables, b.Table)
		})
		end := &WindowEnd{Window: w, Rows: map[string]int{}, Repair: true, Repaired: todo}
		for _, old := range todo {
			i := slices.IndexFunc(plans[w].Files, func(e ListEntry) bool { return e.Table == old.Table })
			if i < 0 {
				end.Errors = append(end.Errors, &FileError{Window: w, Table: old.Table, File: old.File, Location: f.src.Location(old.File),
					Reason: ReasonMissingFromList, Detail: "repair: still no line for this file in the list", Rows: old.Rows})
				continue
			}
			rows, ferr, err := f.file(ctx, plans[w].Files[i], out, old.Rows, true)
			if err != nil {
				return err
			}
			end.Rows[old.Table] = rows
			if ferr != nil {
				end.Errors = append(end.Errors, ferr)
			}
		}
		for _, fe := range end.Errors {
			f.log.Warnf("gdelt_feed: repair: still incomplete: %v", fe)
		}
		repaired += len(todo) - len(end.Errors)
		failing += len(end.Errors)
		f.log.Infof("gdelt_feed: repair of window %s read: %s", w, f.rowsText(end))
		if err := out.WindowEnd(ctx, end); err != nil {
			return err
		}
	}
	f.log.Infof("gdelt_feed: repair read: %d files whole, %d still incomplete", repaired, failing)
	return nil
}
