package join

import "time"

// The audit/windows table: one row per window and shard each time the window
// changes status. It is append-only, a lifecycle log: a window's current
// status is its newest row. Later stages append their own statuses.
const (
	StatusWaiting        = "WAITING"         // the window received its first row; its mentions wait for the watermark
	StatusSilverComplete = "SILVER_COMPLETE" // its mentions are joined and handed to silver
)

// AuditColumn is a column of audit/windows, with its Delta type name.
type AuditColumn struct {
	Name, Type, Doc string
}

// AuditColumns lists the columns of audit/windows in order.
func AuditColumns() []AuditColumn {
	return []AuditColumn{
		{"window", "long", "the window id, YYYYMMDDHHMMSS"},
		{"window_start", "timestamp", "the window's start, UTC"},
		{"status", "string", "WAITING or SILVER_COMPLETE (later stages add theirs)"},
		{"shard", "string", "the join replica that wrote the row"},
		{"shards", "long", "how many replicas split the work: a window is complete when that many shards report SILVER_COMPLETE"},
		{"events_rows", "long", "events of the window written to silver/events by the shard (its share of GLOBALEVENTIDs; distinct ids)"},
		{"mentions_rows", "long", "mentions rows of the window received by the shard"},
		{"gkg_rows", "long", "GKG rows of the window received by the shard"},
		{"complete_rows", "long", "silver rows of the window with join_status complete"},
		{"no_gkg_rows", "long", "silver rows with join_status no_gkg"},
		{"expired_rows", "long", "silver rows with join_status expired"},
		{"join_rate", "double", "complete_rows / mentions_rows (null without mentions)"},
		{"first_arrival", "timestamp", "when the window's first row reached the shard"},
		{"silver_completed", "timestamp", "when its silver rows were handed on (null while WAITING)"},
		{"recorded_at", "timestamp", "when this row was made"},
	}
}

// AuditRow returns the audit/windows row of a window record: WAITING (counts
// null) or SILVER_COMPLETE.
func AuditRow(ws WindowStats, status, shard string, shards int, now time.Time) map[string]any {
	row := map[string]any{
		"window":           ws.Window,
		"window_start":     nil,
		"status":           status,
		"shard":            shard,
		"shards":           int64(shards),
		"first_arrival":    ws.FirstArrival.UTC(),
		"silver_completed": nil,
		"recorded_at":      now.UTC(),
	}
	if idx, ok := windowIndex(ws.Window); ok {
		row["window_start"] = time.Unix(idx*windowSeconds, 0).UTC()
	}
	counts := []string{"events_rows", "mentions_rows", "gkg_rows", "complete_rows", "no_gkg_rows", "expired_rows", "join_rate"}
	if status == StatusWaiting {
		for _, c := range counts {
			row[c] = nil
		}
		return row
	}
	for i, n := range []int{ws.Events, ws.Mentions, ws.GKG, ws.Complete, ws.NoGKG, ws.Expired} {
		row[counts[i]] = int64(n)
	}
	row["join_rate"] = nil
	if ws.Mentions > 0 {
		row["join_rate"] = ws.JoinRate
	}
	row["silver_completed"] = ws.Completed.UTC()
	return row
}
