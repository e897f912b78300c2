package join

import "time"

// The audit/windows table: one row per window and shard each time the window
// changes status. It is append-only, a lifecycle log: a window's current
// status is its newest row. Later stages append their own statuses.
const (
	StatusWaiting        = "WAITING"         // the window received its first row; its mentions wait for the watermark
	StatusSilverComplete = "SILVER_COMPLETE" // its mentions are joined and handed to silver
	StatusGoldComplete   = "GOLD_COMPLETE"   // gdelt_gold committed the window's gold (row by gdelt_gold, shard "gold")
	StatusMartComplete   = "MART_COMPLETE"   // the mart applied the window's gold batch (row by gdelt_mart_check, shard "mart")
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
		// Added later (nullable: the table gains them, delta_lake add_columns);
		// null in the rows of the other statuses.
		{"gold_rows", "long", "GOLD_COMPLETE: gold rows written for the window (the five daily tables, the days it touched)"},
		{"gold_days", "long", "GOLD_COMPLETE: distinct days recomputed"},
		{"gold_seconds", "double", "GOLD_COMPLETE: from the window's SILVER_COMPLETE reaching gdelt_gold to its gold commits done"},
		{"gold_country_daily_rows", "long", "GOLD_COMPLETE: rows of gold/country_daily written"},
		{"gold_country_daily_category_rows", "long", "GOLD_COMPLETE: rows of gold/country_daily_category written"},
		{"gold_actor_network_daily_rows", "long", "GOLD_COMPLETE: rows of gold/actor_network_daily written"},
		{"gold_top_events_daily_rows", "long", "GOLD_COMPLETE: rows of gold/top_events_daily written"},
		{"gold_source_daily_rows", "long", "GOLD_COMPLETE: rows of gold/source_daily written"},
		{"mart_rows", "long", "MART_COMPLETE: rows the mart's transaction wrote"},
		{"mart_days", "long", "MART_COMPLETE: table days replaced"},
		{"mart_seconds", "double", "MART_COMPLETE: from the batch reaching gdelt_mart to the end of its check"},
		{"mart_last_window", "long", "MART_COMPLETE: the window the mart's progress row held at the check"},
		{"mart_checked", "boolean", "MART_COMPLETE: whether mart and gold were compared (false: the mart was past the window, or unreadable)"},
		{"mart_in_sync", "boolean", "MART_COMPLETE: the comparison agreed"},
		{"mart_mismatches", "array<string>", "MART_COMPLETE: the figures that disagreed"},
		{"mart_error", "string", "MART_COMPLETE: why the check could not compare (null when it could)"},
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
