package delta

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// VacuumPlan lists what a vacuum would delete. Nothing is deleted until
// ExecuteVacuum, so a dry run is PlanVacuum alone.
type VacuumPlan struct {
	// Orphans are files under the table that no live file nor tombstone
	// names (e.g. written by a writer that crashed before its commit), last
	// modified before the retention window.
	Orphans []storage.FileInfo
	// ExpiredTombstones are files removed from the table longer ago than the
	// retention.
	ExpiredTombstones []storage.FileInfo
}

// Files is every file of the plan.
func (p *VacuumPlan) Files() []storage.FileInfo {
	return append(append([]storage.FileInfo(nil), p.Orphans...), p.ExpiredTombstones...)
}

// Bytes is the total size of the plan's files.
func (p *VacuumPlan) Bytes() int64 {
	var n int64
	for _, f := range p.Files() {
		n += f.Size
	}
	return n
}

// PlanVacuum finds the data files vacuum may delete: files not referenced by
// a live file of s whose tombstone (if any) is older than retention, and
// unreferenced files last modified more than retention before now. s should
// be the latest snapshot (Update it first): a file added by a commit newer
// than s is protected only by the retention. Files in folders whose name
// starts with '_' or '.' (the _delta_log among them) and hidden files are
// never candidates, except the ".tmp-" files a crashed local write left.
// Retention is usually the table's Metadata.DeletedFileRetention(); a
// shorter one endangers readers of older snapshots.
func PlanVacuum(ctx context.Context, st storage.Storage, s *Snapshot, retention time.Duration, now time.Time) (*VacuumPlan, error) {
	if s == nil || s.Version < 0 {
		return nil, errors.New("vacuum: the table has no committed version")
	}
	if retention < 0 {
		return nil, fmt.Errorf("vacuum: negative retention %s", retention)
	}
	// Deleting files needs the writer's understanding of the table (deletion
	// vector files, change data, ...).
	if err := checkWritable(s.Protocol, s.Metadata); err != nil {
		return nil, fmt.Errorf("vacuum of %s: %w", st.Location(), err)
	}
	files, err := st.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("vacuum of %s: %w", st.Location(), err)
	}
	// Paths in the log are relative, or absolute URIs that may point into
	// the table itself: those must protect their file too.
	live := make(map[string]bool, len(s.Files))
	for p := range s.Files {
		live[tableRelative(st.Location(), p)] = true
	}
	dead := make(map[string]*Remove, len(s.Tombstones))
	for p, r := range s.Tombstones {
		dead[tableRelative(st.Location(), p)] = r
	}
	cutoff := now.Add(-retention)
	plan := &VacuumPlan{}
	for _, f := range files {
		if !vacuumCandidate(f.Path) {
			continue
		}
		if live[f.Path] {
			continue
		}
		if r, ok := dead[f.Path]; ok {
			// A tombstone without a timestamp counts as old (as in delta-rs).
			if r.DeletionTimestamp < cutoff.UnixMilli() {
				plan.ExpiredTombstones = append(plan.ExpiredTombstones, f)
			}
			continue
		}
		if f.ModTime.Before(cutoff) {
			plan.Orphans = append(plan.Orphans, f)
		}
	}
	return plan, nil
}

// tableRelative turns an absolute file path of the log that lies under the
// table's location (s3://bucket/prefix/..., s3a://..., file:/..., /...) into
// a table-relative path; other paths come back unchanged.
func tableRelative(location, p string) string {
	if !strings.Contains(p, ":") && !strings.HasPrefix(p, "/") {
		return p
	}
	var roots []string
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		roots = []string{"s3://" + rest + "/", "s3a://" + rest + "/", "s3n://" + rest + "/"}
	} else {
		roots = []string{location + "/", "file://" + location + "/", "file:" + location + "/"}
	}
	for _, root := range roots {
		if rel, ok := strings.CutPrefix(p, root); ok && rel != "" {
			return rel
		}
	}
	return p
}

// vacuumCandidate: not in a hidden folder, not a hidden file (except an
// abandoned temporary file of ours).
func vacuumCandidate(p string) bool {
	els := strings.Split(p, "/")
	for _, el := range els[:len(els)-1] {
		if strings.HasPrefix(el, "_") || strings.HasPrefix(el, ".") {
			return false
		}
	}
	base := els[len(els)-1]
	if strings.HasPrefix(base, storage.LocalTempPrefix) {
		return true
	}
	return !strings.HasPrefix(base, "_") && !strings.HasPrefix(base, ".")
}

// ExecuteVacuum deletes the plan's files, going on past failures; the error
// joins every failure.
func ExecuteVacuum(ctx context.Context, st storage.Storage, p *VacuumPlan) error {
	var errs []error
	for _, f := range p.Files() {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := st.Delete(ctx, f.Path); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("vacuum of %s: %d of %d deletions failed: %w", st.Location(), len(errs), len(p.Files()), errors.Join(errs...))
	}
	return nil
}
