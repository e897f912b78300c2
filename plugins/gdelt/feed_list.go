package gdelt

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
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

// ParseListLine parses one list line. Lines for files that are not GDELT 2.0
// window files give ok=false and no error (masterfilelist has none today, but
// a list is not ours to police).
func ParseListLine(line string) (e ListEntry, ok bool, err error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return e, false, nil
	}
	if len(fields) != 3 {
		return e, false, fmt.Errorf("want 3 space-separated fields <size> <md5> <url>, got %d", len(fields))
	}
	if e.Size, err = strconv.ParseInt(fields[0], 10, 64); err != nil || e.Size < 0 {
		return e, false, fmt.Errorf("bad size %q", fields[0])
	}
	if len(fields[1]) != 32 {
		return e, false, fmt.Errorf("bad md5 %q", fields[1])
	}
	e.MD5 = strings.ToLower(fields[1])
	e.URL = fields[2]
	e.Name = path.Base(e.URL)
	var good bool
	e.Window, e.Table, e.Stream, good = ParseFileName(e.Name)
	return e, good, nil
}

// ParseFileName splits a GDELT 2.0 window file name into window, table and stream:
// 20230702153000.gkg.csv.zip, 20230702153000.translation.export.CSV.zip.
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

const windowLayout = "20060102150405"

// WindowTime parses a window id.
func WindowTime(id string) (time.Time, error) {
	return time.ParseInLocation(windowLayout, id, time.UTC)
}

// WindowID formats a time as a window id.
func WindowID(t time.Time) string { return t.UTC().Format(windowLayout) }

// ParseWindowBound accepts a window id (20230702150000), an RFC 3339 time or a
// date (2023-07-02), and returns the window id of that instant.
func ParseWindowBound(s string) (string, error) {
	s = strings.TrimSpace(s)
	if isWindowID(s) {
		if _, err := WindowTime(s); err != nil {
			return "", err
		}
		return s, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return WindowID(t), nil
		}
	}
	return "", fmt.Errorf("cannot read %q as a window (want YYYYMMDDHHMMSS, RFC 3339 or YYYY-MM-DD)", s)
}

// windowPlan is the files of one window to read, in table order.
type windowPlan struct {
	Window  string
	Files   []ListEntry // present in the list, in table order
	Missing []string    // tables asked for but absent from the list
}

// listFilter keeps the entries of one stream and some tables whose windows lie in (after, to].
type listFilter struct {
	stream string
	tables []string
	after  string // exclusive; "" = no lower bound
	from   string // inclusive; "" = no lower bound
	to     string // inclusive; "" = no upper bound
}

func (f listFilter) keep(e ListEntry) bool {
	if e.Stream != f.stream || !contains(f.tables, e.Table) {
		return false
	}
	if f.after != "" && e.Window <= f.after {
		return false
	}
	if f.from != "" && e.Window < f.from {
		return false
	}
	return f.to == "" || e.Window <= f.to
}

// readList scans a list and groups the kept entries into window plans, oldest first.
// Unparsable lines are reported through bad and skipped.
func readList(r io.Reader, f listFilter, bad func(lineNo int, line string, err error)) ([]windowPlan, error) {
	byWindow := map[string][]ListEntry{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		e, ok, err := ParseListLine(sc.Text())
		if err != nil {
			if bad != nil {
				bad(n, sc.Text(), err)
			}
			continue
		}
		if ok && f.keep(e) {
			byWindow[e.Window] = append(byWindow[e.Window], e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return plansFrom(byWindow, f.tables), nil
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
