package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// auditRow is one row of audit/windows (README: Reading audit/windows).
type auditRow struct {
	Window                               int64
	Status, Shard                        string
	Shards                               int64
	Events, Mentions, GKG                int64
	Complete, NoGKG, Expired             int64
	FirstArrival, SilverDone, RecordedAt time.Time
}

// readAudit reads every live row of the audit table (append-only: no deletion vectors).
func readAudit(ctx context.Context, st storage.Storage) ([]auditRow, error) {
	snap, err := delta.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	if snap.Metadata == nil {
		return nil, fmt.Errorf("no metadata")
	}
	sch, err := schema.Parse(snap.Metadata.SchemaString)
	if err != nil {
		return nil, err
	}
	var out []auditRow
	for _, a := range snap.SortedFiles() {
		if a.HasDeletionVector() {
			return nil, fmt.Errorf("%s has a deletion vector: audit/windows is append-only", a.Path)
		}
		b, err := st.Read(ctx, a.Path)
		if err != nil {
			return nil, err
		}
		r, err := datafile.NewReader(bytes.NewReader(b), int64(len(b)), sch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Path, err)
		}
		for {
			m, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("%s: %w", a.Path, err)
			}
			out = append(out, auditRow{
				Window: i64(m["window"]), Status: str(m["status"]), Shard: str(m["shard"]), Shards: i64(m["shards"]),
				Events: i64(m["events_rows"]), Mentions: i64(m["mentions_rows"]), GKG: i64(m["gkg_rows"]),
				Complete: i64(m["complete_rows"]), NoGKG: i64(m["no_gkg_rows"]), Expired: i64(m["expired_rows"]),
				FirstArrival: ts(m["first_arrival"]), SilverDone: ts(m["silver_completed"]), RecordedAt: ts(m["recorded_at"]),
			})
		}
		r.Close()
	}
	return out, nil
}

func i64(v any) int64 {
	n, _ := datafile.AsInt64(v)
	return n
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func ts(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case int64: // microseconds
		return time.UnixMicro(t).UTC()
	}
	return time.Time{}
}

// checkpoint is the part of the feed's checkpoint (plugins/gdelt.Checkpoint,
// JSON in its cache) the report reads.
type checkpoint struct {
	Window     string `json:"window"`
	Incomplete []struct {
		Window string `json:"window"`
		Table  string `json:"table"`
		File   string `json:"file"`
		Reason string `json:"reason"`
	} `json:"incomplete"`
}

func readCheckpoint(path string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return &c, nil
}

// Window is one line of the report.
type Window struct {
	Window         int64            `json:"window"`
	Statuses       []string         `json:"statuses"`
	EventsRows     int64            `json:"events_rows"`
	MentionsRows   int64            `json:"mentions_rows"`
	GKGRows        int64            `json:"gkg_rows"`
	CompleteRows   int64            `json:"complete_rows"`
	NoGKGRows      int64            `json:"no_gkg_rows"`
	ExpiredRows    int64            `json:"expired_rows"`
	JoinRate       *float64         `json:"join_rate"`
	ShardsReported int64            `json:"shards_reported"`
	Shards         int64            `json:"shards"`
	FirstArrival   *time.Time       `json:"first_arrival,omitempty"`
	Completed      map[string]int64 `json:"completed_unix,omitempty"` // status -> when (unix seconds)
	MissingFiles   []string         `json:"missing_files,omitempty"`  // "table: reason"
	Anomalies      []string         `json:"anomalies,omitempty"`
}

type report struct {
	Windows   []Window
	Anomalies int
	MartSeen  bool
}

func buildReport(rows []auditRow, cp *checkpoint, minRate float64, n int) report {
	by := map[int64]*Window{}
	statuses := map[int64]map[string]bool{}
	martSeen := false
	var newestMart int64
	for _, r := range rows {
		w := by[r.Window]
		if w == nil {
			w = &Window{Window: r.Window, Completed: map[string]int64{}}
			by[r.Window] = w
			statuses[r.Window] = map[string]bool{}
		}
		statuses[r.Window][r.Status] = true
		if !r.FirstArrival.IsZero() && (w.FirstArrival == nil || r.FirstArrival.Before(*w.FirstArrival)) {
			t := r.FirstArrival
			w.FirstArrival = &t
		}
		done := r.RecordedAt
		switch r.Status {
		case "WAITING":
			continue
		case "SILVER_COMPLETE":
			w.EventsRows += r.Events
			w.MentionsRows += r.Mentions
			w.GKGRows += r.GKG
			w.CompleteRows += r.Complete
			w.NoGKGRows += r.NoGKG
			w.ExpiredRows += r.Expired
			w.ShardsReported++
			w.Shards = max(w.Shards, r.Shards)
			if !r.SilverDone.IsZero() {
				done = r.SilverDone
			}
		case "MART_COMPLETE":
			martSeen = true
			newestMart = max(newestMart, r.Window)
		}
		if u := done.Unix(); !done.IsZero() && u > w.Completed[r.Status] {
			w.Completed[r.Status] = u
		}
	}
	if cp != nil {
		for _, f := range cp.Incomplete {
			var id int64
			fmt.Sscan(f.Window, &id)
			if w := by[id]; w != nil {
				w.MissingFiles = append(w.MissingFiles, f.Table+": "+f.Reason)
			}
		}
	}
	ids := make([]int64, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	if n > 0 && len(ids) > n {
		ids = ids[:n]
	}
	rep := report{MartSeen: martSeen}
	for _, id := range ids {
		w := by[id]
		for s := range statuses[id] {
			w.Statuses = append(w.Statuses, s)
		}
		sort.Slice(w.Statuses, func(i, j int) bool { return stageOrder(w.Statuses[i]) < stageOrder(w.Statuses[j]) })
		silver := w.ShardsReported > 0 && w.ShardsReported >= w.Shards
		if w.MentionsRows > 0 {
			r := float64(w.CompleteRows) / float64(w.MentionsRows)
			w.JoinRate = &r
			if r < minRate {
				w.Anomalies = append(w.Anomalies, fmt.Sprintf("join rate %.3f < %.3g", r, minRate))
			}
		}
		if !silver {
			w.Anomalies = append(w.Anomalies, fmt.Sprintf("silver not complete (%d of %d shards)", w.ShardsReported, max(w.Shards, 1)))
		}
		if len(w.MissingFiles) > 0 {
			w.Anomalies = append(w.Anomalies, "files not read: "+strings.Join(w.MissingFiles, ", "))
		}
		if martSeen && silver && !statuses[id]["MART_COMPLETE"] && id <= newestMart {
			w.Anomalies = append(w.Anomalies, "mart not synced (no MART_COMPLETE)")
		}
		if len(w.Completed) == 0 {
			w.Completed = nil
		}
		rep.Anomalies += len(w.Anomalies)
		rep.Windows = append(rep.Windows, *w)
	}
	return rep
}

// stageOrder sorts statuses along the lifecycle WAITING -> SILVER -> GOLD -> MART.
func stageOrder(s string) int {
	for i, p := range []string{"WAITING", "SILVER", "GOLD", "MART"} {
		if strings.HasPrefix(s, p) {
			return i
		}
	}
	return 9
}

func (r report) writeText(w io.Writer, lake string) {
	fmt.Fprintf(w, "trust report of %s: %d windows, newest first\n", lake, len(r.Windows))
	fmt.Fprintf(w, "%-14s  %-28s %7s %8s %6s %8s %6s %7s %6s  %-29s  %s\n",
		"window", "lifecycle", "events", "mentions", "gkg", "complete", "no_gkg", "expired", "rate", "completed (s after first row)", "anomalies")
	for _, x := range r.Windows {
		rate := "-"
		if x.JoinRate != nil {
			rate = fmt.Sprintf("%.3f", *x.JoinRate)
		}
		var done []string
		for _, s := range x.Statuses {
			if t, ok := x.Completed[s]; ok && x.FirstArrival != nil {
				done = append(done, fmt.Sprintf("%s +%ds", strings.TrimSuffix(s, "_COMPLETE"), t-x.FirstArrival.Unix()))
			}
		}
		an := "ok"
		if len(x.Anomalies) > 0 {
			an = "! " + strings.Join(x.Anomalies, "; ")
		}
		fmt.Fprintf(w, "%-14d  %-28s %7d %8d %6d %8d %6d %7d %6s  %-29s  %s\n", x.Window, strings.Join(x.Statuses, ","),
			x.EventsRows, x.MentionsRows, x.GKGRows, x.CompleteRows, x.NoGKGRows, x.ExpiredRows, rate, strings.Join(done, " "), an)
	}
	if r.Anomalies > 0 {
		fmt.Fprintf(w, "%d anomalies flagged\n", r.Anomalies)
	} else {
		fmt.Fprintln(w, "no anomaly")
	}
}
