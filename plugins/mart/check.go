package mart

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Stage is the progress row's stage: the mart's applied gold window.
const Stage = "mart"

// Table says how to reconcile one mart table: its day column and its measures.
type Table struct {
	Name          string   // the gold table's name without "gold/", e.g. country_daily
	DateColumn    string   // event_date, or mention_date for source_daily
	IntMeasures   []string // summed exactly
	FloatMeasures []string // summed, compared within FloatTolerance
}

// FloatTolerance is the relative difference two sums of a float measure may
// have and still agree: the mart stores what gold computed, so only the
// order of the additions differs.
const FloatTolerance = 1e-9

// Day is one table's day: the unit gold replaces and the check compares.
type Day struct {
	Table string
	Date  string // YYYY-MM-DD
}

// Summary is a day's checksum: its row count and the sum of each measure
// over the rows where it is not null.
type Summary struct {
	Rows   int64
	Ints   map[string]int64
	Floats map[string]float64
}

func newSummary() Summary {
	return Summary{Ints: map[string]int64{}, Floats: map[string]float64{}}
}

// Add counts one gold row (its JSON object) into the summary.
func (s *Summary) Add(t Table, row map[string]any) error {
	s.Rows++
	for _, m := range t.IntMeasures {
		v, ok, err := number(row[m])
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name, m, err)
		}
		if ok {
			s.Ints[m] += int64(v)
		}
	}
	for _, m := range t.FloatMeasures {
		v, ok, err := number(row[m])
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name, m, err)
		}
		if ok {
			s.Floats[m] += v
		}
	}
	return nil
}

func number(v any) (float64, bool, error) {
	switch n := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return n, true, nil
	case int64:
		return float64(n), true, nil
	case int:
		return float64(n), true, nil
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil, err
	}
	return 0, false, fmt.Errorf("not a number: %T %v", v, v)
}

// Result is what a check found after one gold batch.
type Result struct {
	Window     int64 // the batch's gold window
	LastWindow int64 // the mart's progress after it (0: no progress row)
	// Checked is false when the mart had moved past the batch (a later batch
	// committed before the check read it, or the batch was an old replay):
	// the mart's days then hold later totals, not the batch's.
	Checked    bool
	InSync     bool     // every day agreed (false when not Checked)
	Days       int      // days compared
	Mismatches []string // one line per disagreement
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Checker reads a day's summary back from the mart.
type Checker struct {
	db     *sql.DB
	driver string
	prefix string // "mart." or ""
	tables map[string]Table
}

// NewChecker checks the mart in db (opened with driver: pgx, postgres or
// sqlite), its tables in schema (empty: unqualified). Names are checked to
// be plain identifiers: they are written into the queries.
func NewChecker(db *sql.DB, driver, schema string, tables []Table) (*Checker, error) {
	c := &Checker{db: db, driver: driver, tables: map[string]Table{}}
	if schema != "" {
		if !identifier.MatchString(schema) {
			return nil, fmt.Errorf("schema %q is not a plain identifier", schema)
		}
		c.prefix = schema + "."
	}
	for _, t := range tables {
		for _, n := range append(append([]string{t.Name, t.DateColumn}, t.IntMeasures...), t.FloatMeasures...) {
			if !identifier.MatchString(n) {
				return nil, fmt.Errorf("table %q: %q is not a plain identifier", t.Name, n)
			}
		}
		if _, dup := c.tables[t.Name]; dup {
			return nil, fmt.Errorf("table %q listed twice", t.Name)
		}
		c.tables[t.Name] = t
	}
	return c, nil
}

// Table returns the table of a gold_table name.
func (c *Checker) Table(name string) (Table, bool) {
	t, ok := c.tables[name]
	return t, ok
}

func (c *Checker) placeholder() string {
	if c.driver == "sqlite" {
		return "?"
	}
	return "$1"
}

// Check compares the mart with what gold sent for window w: for each day,
// the rows gold sent (its full totals). It reads the progress row and every
// day in one read-only transaction, so the figures are of one moment.
func (c *Checker) Check(ctx context.Context, w int64, want map[Day]Summary) (Result, error) {
	res := Result{Window: w}
	opts := &sql.TxOptions{ReadOnly: true}
	if c.driver != "sqlite" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return res, fmt.Errorf("beginning the check's transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var last sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT last_window FROM "+c.prefix+"progress WHERE stage = "+quote(Stage)).Scan(&last)
	if err != nil && err != sql.ErrNoRows {
		return res, fmt.Errorf("reading the mart's progress: %w", err)
	}
	res.LastWindow = last.Int64
	if res.LastWindow > w {
		return res, nil
	}
	res.Checked = true
	if res.LastWindow < w {
		res.Mismatches = append(res.Mismatches, fmt.Sprintf("progress: the mart is at window %d, gold sent %d", res.LastWindow, w))
	}

	days := make([]Day, 0, len(want))
	for d := range want {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool {
		if days[i].Table != days[j].Table {
			return days[i].Table < days[j].Table
		}
		return days[i].Date < days[j].Date
	})
	for _, d := range days {
		t, ok := c.tables[d.Table]
		if !ok {
			return res, fmt.Errorf("no mart table %q", d.Table)
		}
		got, err := c.summary(ctx, tx, t, d.Date)
		if err != nil {
			return res, err
		}
		res.Days++
		res.Mismatches = append(res.Mismatches, compare(d, want[d], got, t)...)
	}
	res.InSync = len(res.Mismatches) == 0
	return res, nil
}

func (c *Checker) summary(ctx context.Context, tx *sql.Tx, t Table, date string) (Summary, error) {
	cols := []string{"count(*)"}
	for _, m := range t.IntMeasures {
		cols = append(cols, "CAST(coalesce(sum("+m+"), 0) AS bigint)")
	}
	for _, m := range t.FloatMeasures {
		cols = append(cols, "CAST(sum("+m+") AS double precision)")
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + c.prefix + t.Name + " WHERE " + t.DateColumn + " = " + c.placeholder()
	s := newSummary()
	ints := make([]int64, len(t.IntMeasures))
	floats := make([]sql.NullFloat64, len(t.FloatMeasures))
	dest := []any{&s.Rows}
	for i := range ints {
		dest = append(dest, &ints[i])
	}
	for i := range floats {
		dest = append(dest, &floats[i])
	}
	if err := tx.QueryRowContext(ctx, q, date).Scan(dest...); err != nil {
		return s, fmt.Errorf("reading %s of %s from the mart: %w", t.Name, date, err)
	}
	for i, m := range t.IntMeasures {
		s.Ints[m] = ints[i]
	}
	for i, m := range t.FloatMeasures {
		if floats[i].Valid {
			s.Floats[m] = floats[i].Float64
		}
	}
	return s, nil
}

func compare(d Day, want, got Summary, t Table) []string {
	var out []string
	at := d.Table + " " + d.Date
	if want.Rows != got.Rows {
		out = append(out, fmt.Sprintf("%s: %d rows in gold, %d in the mart", at, want.Rows, got.Rows))
	}
	for _, m := range t.IntMeasures {
		if want.Ints[m] != got.Ints[m] {
			out = append(out, fmt.Sprintf("%s: sum(%s) %d in gold, %d in the mart", at, m, want.Ints[m], got.Ints[m]))
		}
	}
	for _, m := range t.FloatMeasures {
		a, b := want.Floats[m], got.Floats[m]
		if math.Abs(a-b) > FloatTolerance*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) {
			out = append(out, fmt.Sprintf("%s: sum(%s) %g in gold, %g in the mart", at, m, a, b))
		}
	}
	return out
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// windowTime parses a window id (YYYYMMDDHHMMSS, UTC).
func windowTime(w int64) (time.Time, bool) {
	t, err := time.Parse("20060102150405", fmt.Sprintf("%014d", w))
	return t, err == nil
}

// WindowsBetween is how many 15-minute windows separate two window ids (0
// when to is not after from, or either is not a window id).
func WindowsBetween(from, to int64) int64 {
	a, ok1 := windowTime(from)
	b, ok2 := windowTime(to)
	if !ok1 || !ok2 || !b.After(a) {
		return 0
	}
	return int64(b.Sub(a) / (15 * time.Minute))
}
