package gdelt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// Streams of the GDELT 2.0 feed.
const (
	StreamEnglish     = "english"
	StreamTranslation = "translation"
)

// ListEntry is one line of lastupdate.txt or masterfilelist.txt:
// "<size-bytes> <md5-hex> <url>".
type ListEntry struct {
	Size   int64
	MD5    string
	URL    string
	Name   string // the file name, e.g. 20230702153000.gkg.csv.zip
	Window string // YYYYMMDDHHMMSS
	Table  string // export, mentions, gkg
	Stream string // english, translation
}

// Reasons a list line is skipped as a bad line: the reason label of
// gdelt_feed_list_bad_lines. A bad line costs that line only; the rest of the
// list is read.
const (
	BadLineTooLong = "line_too_long" // over max_list_line_bytes
	BadLineFields  = "bad_fields"    // not "<size> <md5> <url>"
	BadLineSize    = "bad_size"      // not an integer, negative, or over max_file_bytes
	BadLineMD5     = "bad_md5"       // not 32 hex digits
	BadLineWindow  = "bad_window"    // not a real UTC time on a 15-minute boundary
	BadLineFuture  = "future_window" // later than now plus future_window_slack
)

// BadLineError says why a list line was skipped.
type BadLineError struct {
	Reason string // one of the BadLine* constants
	Detail string
}

func (e *BadLineError) Error() string { return e.Reason + ": " + e.Detail }

// ListLimits bound what a list may hold. Defaults are far above the real
// feed's (a 150 MB master list of ~110-byte lines, zips under 100 MB) and far
// below what would exhaust memory.
type ListLimits struct {
	MaxListBytes int64         // the whole list; more is a *ListTooBigError
	MaxLineBytes int           // one line; more is a bad line
	MaxFileBytes int64         // a listed file size; more is a bad line
	FutureSlack  time.Duration // a window later than now plus this is a bad line
	Now          func() time.Time
}

// DefaultListLimits are the defaults of the gdelt_feed options.
func DefaultListLimits() ListLimits {
	return ListLimits{MaxListBytes: 1 << 30, MaxLineBytes: 4096, MaxFileBytes: 1 << 30, FutureSlack: time.Hour, Now: time.Now}
}

// ListTooBigError is a list longer than max_list_bytes.
type ListTooBigError struct{ Max int64 }

func (e *ListTooBigError) Error() string {
	return fmt.Sprintf("the list is over max_list_bytes (%d bytes); stopped reading it", e.Max)
}

// ParseListLine parses one list line. Lines for files that are not GDELT 2.0
// window files give ok=false and no error (masterfilelist has none today, but
// a list is not ours to police). A malformed line gives a *BadLineError.
func ParseListLine(line string) (e ListEntry, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return e, false, nil
	}
	if len(fields) != 3 {
		return e, false, &BadLineError{BadLineFields, fmt.Sprintf("want 3 space-separated fields <size> <md5> <url>, got %d", len(fields))}
	}
	if e.Size, err = strconv.ParseInt(fields[0], 10, 64); err != nil || e.Size < 0 {
		return e, false, &BadLineError{BadLineSize, fmt.Sprintf("size %.40q is not a byte count", fields[0])}
	}
	if !isMD5(fields[1]) {
		return e, false, &BadLineError{BadLineMD5, fmt.Sprintf("md5 %.40q is not 32 hex digits", fields[1])}
	}
	e.MD5 = strings.ToLower(fields[1])
	e.URL = fields[2]
	e.Name = path.Base(e.URL)
	var good bool
	e.Window, e.Table, e.Stream, good = ParseFileName(e.Name)
	if good {
		if err := ValidWindowID(e.Window); err != nil {
			return e, false, &BadLineError{BadLineWindow, err.Error()}
		}
	}
	return e, good, nil
}

// check applies the limits that depend on configuration and time.
func (lim ListLimits) check(e ListEntry) error {
	if lim.MaxFileBytes > 0 && e.Size > lim.MaxFileBytes {
		return &BadLineError{BadLineSize, fmt.Sprintf("size %d is over max_file_bytes %d", e.Size, lim.MaxFileBytes)}
	}
	if lim.Now != nil {
		t, _ := WindowTime(e.Window)
		if limit := lim.Now().Add(lim.FutureSlack); t.After(limit) {
			return &BadLineError{BadLineFuture, fmt.Sprintf("window %s is later than now plus future_window_slack (%s)", e.Window, WindowID(limit))}
		}
	}
	return nil
}

func isMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ParseFileName splits a GDELT 2.0 window file name into window, table and stream:
// 20230702153000.gkg.csv.zip, 20230702153000.translation.export.CSV.zip.
// The window is 14 digits here; ValidWindowID says whether it is a real window.
func ParseFileName(name string) (window, table, stream string, ok bool) {
	if len(name) < 15 || name[14] != '.' || !isWindowID(name[:14]) {
		return "", "", "", false
	}
	window, rest := name[:14], name[15:]
	stream = StreamEnglish
	if r, found := strings.CutPrefix(rest, "translation."); found {
		stream, rest = StreamTranslation, r
	}
	switch rest {
	case "export.CSV.zip":
		table = "export"
	case "mentions.CSV.zip":
		table = "mentions"
	case "gkg.csv.zip":
		table = "gkg"
	default:
		return "", "", "", false
	}
	return window, table, stream, true
}

// FileName is the inverse of ParseFileName.
func FileName(window, table, stream string) string {
	ext := map[string]string{"export": "export.CSV.zip", "mentions": "mentions.CSV.zip", "gkg": "gkg.csv.zip"}[table]
	if stream == StreamTranslation {
		return window + ".translation." + ext
	}
	return window + "." + ext
}

// ListNames returns the names of the master list and the last-update list of a stream.
func ListNames(stream string) (master, last string) {
	if stream == StreamTranslation {
		return "masterfilelist-translation.txt", "lastupdate-translation.txt"
	}
	return "masterfilelist.txt", "lastupdate.txt"
}

// The feed handles windows by their ids (YYYYMMDDHHMMSS strings: list
// lines, file names, the checkpoint); contract.Window does the arithmetic.

// isWindowID tells 14 digits: the shape of a window id, real time or not
// (ValidWindowID judges that, so a bad one is reported, not passed over).
func isWindowID(s string) bool {
	if len(s) != 14 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// WindowDuration is the length of a GDELT 2.0 update window.
const WindowDuration = contract.Duration

// WindowTime parses a window id.
func WindowTime(id string) (time.Time, error) {
	return time.ParseInLocation(contract.IDLayout, id, time.UTC)
}

// WindowID formats a time as a window id.
func WindowID(t time.Time) string { return t.UTC().Format(contract.IDLayout) }

// ValidWindowID accepts a real UTC time on a 15-minute boundary
// (YYYYMMDDHH{00,15,30,45}00), the only times GDELT 2.0 publishes.
func ValidWindowID(id string) error { return contract.Valid(id) }

// windowsBetween is the number of windows in (a, b]; a and b are valid window ids.
func windowsBetween(a, b string) int64 {
	wa, _ := contract.ParseID(a)
	wb, _ := contract.ParseID(b)
	return int64(wb - wa)
}

// addWindows moves a window id n windows on (back, if n < 0).
func addWindows(id string, n int) string {
	w, err := contract.ParseID(id)
	if err != nil {
		return id
	}
	return w.Add(int64(n)).String()
}

func nextWindow(id string) string { return addWindows(id, 1) }

// ShowWindow writes a window id the way a person reads it: 2023-07-02 15:45.
func ShowWindow(id string) string {
	w, err := contract.ParseID(id)
	if err != nil {
		return id
	}
	return w.Show()
}

// ParseWindowBound accepts a window id (20230702150000), an RFC 3339 time or a
// date (2023-07-02), and returns the window id of that instant. A date means
// its midnight as a lower bound (end false) and its whole day, through its
// last window (23:45:00), as an upper bound (end true): `to: 2023-07-02`
// includes the afternoon of the 2nd, as a person means it.
func ParseWindowBound(s string, end bool) (string, error) {
	s = strings.TrimSpace(s)
	if isWindowID(s) {
		if _, err := WindowTime(s); err != nil {
			return "", fmt.Errorf("%s is not a real time (YYYYMMDDHHMMSS, UTC)", s)
		}
		return s, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.UTC); err == nil {
		if end {
			t = t.Add(24*time.Hour - WindowDuration)
		}
		return WindowID(t), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return WindowID(t), nil
		}
	}
	return "", fmt.Errorf("cannot read %q as a window (want YYYYMMDDHHMMSS, RFC 3339 or YYYY-MM-DD, UTC)", s)
}

// windowPlan is the files of one window to read, in table order.
type windowPlan struct {
	Window  string
	Files   []ListEntry // present in the list, in table order
	Missing []string    // tables asked for but absent from the list
	// MissingDetail says why Missing is final (default: no line in the list).
	MissingDetail string
}

// listFilter keeps the entries of one stream and some tables whose windows lie in (after, to].
type listFilter struct {
	stream string
	tables []string
	after  string // exclusive; "" = no lower bound
	from   string // inclusive; "" = no lower bound
	to     string // inclusive; "" = no upper bound
	// lookahead keeps, besides, the first lookahead windows of the list
	// after `to` (whatever `after` is: they are the windows that follow to).
	lookahead int
	// windows, when set, keeps only these windows.
	windows map[string]bool
}

func (f listFilter) wanted(e ListEntry) bool {
	return e.Stream == f.stream && slices.Contains(f.tables, e.Table)
}

func (f listFilter) inRange(w string) bool {
	return (f.from == "" || w >= f.from) && (f.to == "" || w <= f.to)
}

// listScan is what one read of a list found.
type listScan struct {
	plans       []windowPlan // the kept windows, oldest first
	first, last string       // the oldest and newest window of the list (stream and tables asked)
	anyInRange  bool         // a window of the list lies in [from, to], before `after` is applied
	lines, bad  int
}

// listLines reads a list line by line with no limit on a line's length: a
// line over max bytes is returned cut, flagged, and the reader moves on to
// the next line (a bufio.Scanner stops for good at its token limit).
type listLines struct {
	br   *bufio.Reader
	max  int
	line []byte
}

func newListLines(r io.Reader, max int) *listLines {
	return &listLines{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line end (cut to max bytes), and
// whether it was over max bytes. It returns io.EOF after the last line.
func (l *listLines) next() (line []byte, tooLong bool, err error) {
	l.line = l.line[:0]
	n := 0 // bytes of the line, its LF included
	for {
		b, err := l.br.ReadSlice('\n')
		n += len(b)
		if room := l.max + 1 - len(l.line); room > 0 {
			l.line = append(l.line, b[:min(room, len(b))]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && n == 0:
			return nil, false, io.EOF
		case err != nil && err != io.EOF:
			return nil, false, err
		}
		length := n
		if err == nil {
			length-- // the LF
		}
		line = l.line[:min(len(l.line), length)]
		if tooLong = length > l.max; tooLong {
			line = line[:l.max]
		}
		return bytes.TrimSuffix(line, []byte("\r")), tooLong, nil
	}
}

// boundedReader fails with a *ListTooBigError once more than max bytes were read.
type boundedReader struct {
	r    io.Reader
	max  int64
	read int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read > b.max {
		return 0, &ListTooBigError{Max: b.max}
	}
	if room := b.max + 1 - b.read; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.max {
		return n, &ListTooBigError{Max: b.max}
	}
	return n, err
}

// readList streams a list and groups the kept entries into window plans,
// oldest first. Bad lines are reported through bad (with their 1-based line
// number) and skipped; the error is only for a list that cannot be read
// through (a read error, or a list over lim.MaxListBytes).
func readList(r io.Reader, f listFilter, lim ListLimits, bad func(lineNo int, err *BadLineError, line []byte)) (listScan, error) {
	var scan listScan
	byWindow := map[string][]ListEntry{}
	var ahead []string // the first f.lookahead windows after f.to, sorted
	if lim.MaxListBytes > 0 {
		r = &boundedReader{r: r, max: lim.MaxListBytes}
	}
	maxLine := lim.MaxLineBytes
	if maxLine <= 0 {
		maxLine = 1 << 20
	}
	lines := newListLines(r, maxLine)
	for {
		raw, tooLong, err := lines.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return listScan{}, err
		}
		scan.lines++
		var e ListEntry
		var ok bool
		if tooLong {
			err = &BadLineError{BadLineTooLong, fmt.Sprintf("the line is over max_list_line_bytes (%d)", maxLine)}
		} else if e, ok, err = ParseListLine(string(raw)); err == nil && ok {
			err = lim.check(e)
		}
		if err != nil {
			scan.bad++
			var be *BadLineError
			if !errors.As(err, &be) {
				be = &BadLineError{BadLineFields, err.Error()}
			}
			if bad != nil {
				bad(scan.lines, be, raw)
			}
			continue
		}
		if !ok || !f.wanted(e) {
			continue
		}
		w := e.Window
		if scan.first == "" || w < scan.first {
			scan.first = w
		}
		if w > scan.last {
			scan.last = w
		}
		if f.windows != nil && !f.windows[w] {
			continue
		}
		if f.inRange(w) {
			scan.anyInRange = true
			if f.after == "" || w > f.after {
				byWindow[w] = append(byWindow[w], e)
			}
			continue
		}
		if f.to == "" || w < f.to || f.lookahead <= 0 || (f.from != "" && w < f.from) {
			continue
		}
		// A window after `to`: kept while it is among the first f.lookahead.
		if _, known := byWindow[w]; !known {
			i, _ := slices.BinarySearch(ahead, w)
			if i >= f.lookahead {
				continue
			}
			ahead = slices.Insert(ahead, i, w)
			if len(ahead) > f.lookahead {
				delete(byWindow, ahead[len(ahead)-1])
				ahead = ahead[:len(ahead)-1]
			}
		}
		byWindow[w] = append(byWindow[w], e)
	}
	if f.after != "" {
		for _, w := range ahead {
			if w <= f.after {
				delete(byWindow, w)
			}
		}
	}
	scan.plans = plansFrom(byWindow, f.tables)
	return scan, nil
}

func plansFrom(byWindow map[string][]ListEntry, tables []string) []windowPlan {
	windows := make([]string, 0, len(byWindow))
	for w := range byWindow {
		windows = append(windows, w)
	}
	slices.Sort(windows)
	plans := make([]windowPlan, 0, len(windows))
	for _, w := range windows {
		p := windowPlan{Window: w}
		for _, t := range tables {
			var found *ListEntry
			for i := range byWindow[w] {
				if byWindow[w][i].Table == t {
					found = &byWindow[w][i] // a duplicated line: the last one wins
				}
			}
			if found != nil {
				p.Files = append(p.Files, *found)
			} else {
				p.Missing = append(p.Missing, t)
			}
		}
		plans = append(plans, p)
	}
	return plans
}
