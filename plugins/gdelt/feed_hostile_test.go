package gdelt

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

// recLog keeps every line it is given, and shows them in the test's log.
type recLog struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(level, f string, a ...any) {
	s := level + " " + fmt.Sprintf(f, a...)
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	l.t.Log(s)
}
func (l *recLog) Infof(f string, a ...any)  { l.add("INFO", f, a...) }
func (l *recLog) Warnf(f string, a ...any)  { l.add("WARN", f, a...) }
func (l *recLog) Errorf(f string, a ...any) { l.add("ERROR", f, a...) }

// find returns the lines that start with level and hold every part.
func (l *recLog) find(level string, parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, s := range l.lines {
		if !strings.HasPrefix(s, level+" ") {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(s, p) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func (l *recLog) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// observed counts what the feed reports to its Observer.
type observed struct {
	mu      sync.Mutex
	bad     map[string]int // list/reason
	skipped int64
}

func (o *observed) BadListLine(list, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.bad == nil {
		o.bad = map[string]int{}
	}
	o.bad[list+"/"+reason]++
}

func (o *observed) WindowsSkipped(n int64) {
	o.mu.Lock()
	o.skipped += n
	o.mu.Unlock()
}

// run runs a feed over src until it returns, within a minute.
func run(t testing.TB, cfg FeedConfig, src Source, log Logger, after string) (*collector, error) {
	t.Helper()
	c := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := NewFeed(cfg, src, log).Run(ctx, after, c)
	return c, err
}

func source(t testing.TB, base string, log Logger) Source {
	t.Helper()
	src, err := NewSource(base, nil, RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, log)
	must(t, err)
	return src
}

// checkWhole fails unless every file of ws that is not in bad was emitted whole.
func checkWhole(t *testing.T, ws []gdeltgen.Window, bad map[string]bool, c *collector) {
	t.Helper()
	for _, w := range ws {
		id := gdeltgen.WindowID(w.Time)
		for table, src := range map[string][]byte{"export": w.Export, "mentions": w.Mentions, "gkg": w.GKG} {
			if bad[id+"/"+table] {
				continue
			}
			if got := c.content(id, table); !bytes.Equal(got, src) {
				t.Errorf("%s %s: emitted %d bytes, the file has %d", id, table, len(got), len(src))
			}
		}
	}
}

// TestFeedBodyNeverReadPastListedSize: a server that sends more than the
// listed bytes, without end or with a Content-Length over the size, gives
// size_mismatch after reading at most the listed size plus one byte; the
// other files are read whole.
func TestFeedBodyNeverReadPastListedSize(t *testing.T) {
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	endless := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[0].Time), "gkg", false)
	longer := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[1].Time), "export", false)
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case endless: // the real bytes, then zeros until the client hangs up (10 s at most)
			b, _ := os.ReadFile(filepath.Join(dir, r.URL.Path))
			w.Header().Set("Content-Type", "application/zip")
			n, _ := w.Write(b)
			sent.Add(int64(n))
			zeros := make([]byte, 64<<10)
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				n, err := w.Write(zeros)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		case longer: // announces and sends one byte more than listed
			b, _ := os.ReadFile(filepath.Join(dir, r.URL.Path))
			b = append(b, 0)
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b)
		default:
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	c, err := run(t, testConfig(ModeBackfill), source(t, srv.URL, testLog{t}), testLog{t}, "")
	must(t, err)
	want := map[string]string{
		gdeltgen.WindowID(ws[0].Time) + "/gkg":    ReasonSizeMismatch,
		gdeltgen.WindowID(ws[1].Time) + "/export": ReasonSizeMismatch,
	}
	if got := c.errors(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	st, _ := os.Stat(filepath.Join(dir, endless))
	t.Logf("the endless server sent %d bytes for a %d-byte file", sent.Load(), st.Size())
	// The server writes into socket buffers before it sees the hang-up: a
	// few MB at most, against the 10 s × the loopback's GB/s it would send.
	if n := sent.Load(); n > st.Size()+32<<20 {
		t.Fatalf("the endless server sent %d bytes for a %d-byte file: the body was read on", n, st.Size())
	}
	checkWhole(t, ws, map[string]bool{gdeltgen.WindowID(ws[0].Time) + "/gkg": true, gdeltgen.WindowID(ws[1].Time) + "/export": true}, c)

	// The same from a directory: a file longer than listed is not read.
	must(t, os.WriteFile(filepath.Join(dir, longer), append(mustRead(t, filepath.Join(dir, longer)), 1, 2, 3), 0o644))
	c, err = run(t, testConfig(ModeBackfill), source(t, dir, nil), testLog{t}, "")
	must(t, err)
	if got := c.errors(); got[gdeltgen.WindowID(ws[1].Time)+"/export"] != ReasonSizeMismatch || len(got) != 1 {
		t.Fatalf("directory: errors %v", got)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

// hostileList is a master list whose good lines are those of the mirror,
// with bad lines of every kind between them: each is skipped, counted and
// logged with its line number, and every good window is still read whole.
func TestFeedListBadLinesSkipped(t *testing.T) {
	ws := generate(t, 3)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	good := strings.Split(strings.TrimSuffix(string(mustRead(t, filepath.Join(dir, "masterfilelist.txt"))), "\n"), "\n")
	md5 := strings.Repeat("ab", 16)
	url := func(window, table string) string {
		return gdeltgen.FeedURLPrefix + gdeltgen.FileName(window, table, false)
	}
	bad := []struct{ line, reason string }{
		{strings.Repeat("x", 2<<20), BadLineTooLong}, // over bufio.Scanner's old 1 MiB limit too
		{"99999999999 " + md5 + " " + url("20230702154500", "export"), BadLineSize},
		{"9223372036854775807 " + md5 + " " + url("20230702154500", "mentions"), BadLineSize},
		{"-5 " + md5 + " " + url("20230702154500", "gkg"), BadLineSize},
		{"12ab " + md5 + " " + url("20230702154500", "gkg"), BadLineSize},
		{"100 " + strings.Repeat("zz", 16) + " " + url("20230702154500", "gkg"), BadLineMD5},
		{"100 abc " + url("20230702154500", "gkg"), BadLineMD5},
		{"100 " + md5 + " " + url("20231399999999", "export"), BadLineWindow},
		{"100 " + md5 + " " + url("20230702154501", "export"), BadLineWindow},
		{"100 " + md5 + " " + url("20230702154000", "export"), BadLineWindow},
		{"100 " + md5 + " " + url("99991231234500", "export"), BadLineFuture},
		{"100 " + md5, BadLineFields},
	}
	var lines []string
	wantLine := map[int]string{}
	for i, g := range good {
		lines = append(lines, g)
		if i < len(bad) {
			lines = append(lines, bad[i].line)
			wantLine[len(lines)] = bad[i].reason
		}
	}
	for _, b := range bad[len(good):] {
		lines = append(lines, b.line)
		wantLine[len(lines)] = b.reason
	}
	must(t, os.WriteFile(filepath.Join(dir, "masterfilelist.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	for _, base := range []string{dir, "http"} {
		t.Run(map[bool]string{true: "dir", false: "http"}[base == dir], func(t *testing.T) {
			if base == "http" {
				srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
				defer srv.Close()
				base = srv.URL
			}
			log := &recLog{t: t}
			obs := &observed{}
			cfg := testConfig(ModeBackfill)
			cfg.Observer = obs
			c, err := run(t, cfg, source(t, base, log), log, "")
			must(t, err)
			if len(c.ends) != 3 || len(c.errors()) != 0 {
				t.Fatalf("%d windows, errors %v; want the 3 good windows whole", len(c.ends), c.errors())
			}
			checkWhole(t, ws, nil, c)
			for _, e := range c.ends {
				if e.Window > gdeltgen.WindowID(ws[2].Time) {
					t.Fatalf("window %s of a bad line was read", e.Window)
				}
			}
			// The first maxBadLineLogs bad lines are logged one by one, the
			// rest in one line; all are counted.
			wantObs := map[string]int{}
			var numbers []int
			for n := range wantLine {
				numbers = append(numbers, n)
			}
			slices.Sort(numbers)
			for i, n := range numbers {
				reason := wantLine[n]
				wantObs["masterfilelist.txt/"+reason]++
				logged := len(log.find("WARN", fmt.Sprintf("masterfilelist.txt line %d skipped: %s", n, reason)))
				if want := map[bool]int{true: 1, false: 0}[i < maxBadLineLogs]; logged != want {
					t.Errorf("line %d (%s) logged %d times, want %d", n, reason, logged, want)
				}
			}
			if len(log.find("WARN", fmt.Sprintf("%d more bad lines skipped", len(bad)-maxBadLineLogs))) != 1 {
				t.Errorf("no summary of the bad lines not logged one by one")
			}
			if fmt.Sprint(obs.bad) != fmt.Sprint(wantObs) {
				t.Errorf("counted %v, want %v", obs.bad, wantObs)
			}
			if strings.Contains(log.all(), strings.Repeat("x", 1000)) {
				t.Errorf("the log holds the whole over-long line")
			}
		})
	}
}

// TestFeedListTooBig: a list over max_list_bytes fails a backfill at once
// (a JobError, not an out-of-memory) and is retried, logged, in follow mode.
func TestFeedListTooBig(t *testing.T) {
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	cfg := testConfig(ModeBackfill)
	cfg.Limits = DefaultListLimits()
	cfg.Limits.MaxListBytes = 300 // the list has 6 lines of ~110 bytes
	_, err := run(t, cfg, source(t, dir, nil), testLog{t}, "")
	var je *JobError
	var tb *ListTooBigError
	if !errors.As(err, &je) || !errors.As(err, &tb) || !strings.Contains(je.Remedy, "max_list_bytes") {
		t.Fatalf("backfill: %v, want a JobError for a list over max_list_bytes", err)
	}
	cfg.Mode = ModeFollow
	cfg.Limits.MaxListBytes = 100 // lastupdate.txt has 3 lines
	log := &recLog{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := NewFeed(cfg, source(t, dir, nil), log).Run(ctx, "", &collector{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("follow: %v, want it to go on retrying until stopped", err)
	}
	if len(log.find("WARN", "lastupdate.txt", "max_list_bytes", "retrying")) == 0 {
		t.Fatalf("follow did not log its retry")
	}
}

// TestListLinesLongLines: lines of any length are read, the over-long ones
// flagged and cut, and the lines after them kept.
func TestListLinesLongLines(t *testing.T) {
	in := "a\n" + strings.Repeat("b", 200_000) + "\r\nc\r\n" + strings.Repeat("d", 10) + "\nlast"
	l := newListLines(strings.NewReader(in), 10)
	var got []string
	for {
		line, long, err := l.next()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatal(err)
			}
			break
		}
		got = append(got, fmt.Sprintf("%s/%v", line, long))
	}
	want := []string{"a/false", strings.Repeat("b", 10) + "/true", "c/false", strings.Repeat("d", 10) + "/false", "last/false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q", got)
	}
}

func TestValidWindowID(t *testing.T) {
	for id, ok := range map[string]bool{
		"20230702154500": true, "20230702000000": true, "20240229231500": true,
		"20231399999999": false, "20230230000000": false, "20230702154501": false, "20230702154000": false,
		"2023070215450": false, "2023070215450x": false, "20230229000000": false,
	} {
		if err := ValidWindowID(id); (err == nil) != ok {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestZipEntryChoice: directory entries are skipped; the entry named like
// the zip is read wherever it is, else the first file.
func TestZipEntryChoice(t *testing.T) {
	mk := func(entries ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			w, err := zw.Create(e)
			must(t, err)
			if !strings.HasSuffix(e, "/") {
				fmt.Fprintf(w, "row of %s\n", e)
			}
		}
		must(t, zw.Close())
		return buf.Bytes()
	}
	const name = "20230702154500.export.CSV.zip"
	for _, tc := range []struct {
		entries []string
		want    string
	}{
		{[]string{"gdelt/", "20230702154500.export.CSV"}, "row of 20230702154500.export.CSV\n"},
		{[]string{"gdelt/", "other.csv", "gdelt/20230702154500.EXPORT.csv"}, "row of gdelt/20230702154500.EXPORT.csv\n"},
		{[]string{"a/", "b/", "only.csv"}, "row of only.csv\n"},
	} {
		rc, err := openZipEntry(mk(tc.entries...), name)
		must(t, err)
		var b bytes.Buffer
		b.ReadFrom(rc)
		if b.String() != tc.want {
			t.Errorf("%v: read %q, want %q", tc.entries, b.String(), tc.want)
		}
	}
	if _, err := openZipEntry(mk("a/", "b/"), name); err == nil || !strings.Contains(err.Error(), "no file entry") {
		t.Errorf("folders only: %v", err)
	}
	// Through the feed: a zip with a folder first is read, not empty_file.
	dir := t.TempDir()
	m, err := gdeltgen.NewMirror(dir, false)
	must(t, err)
	must(t, m.AddZip(name, mk("20230702154500/", "20230702154500.export.CSV")))
	must(t, m.Close())
	cfg := testConfig(ModeBackfill)
	cfg.Tables = []string{"export"}
	c, err := run(t, cfg, source(t, dir, nil), testLog{t}, "")
	must(t, err)
	if got := string(c.content("20230702154500", "export")); got != "row of 20230702154500.export.CSV\n" || len(c.errors()) != 0 {
		t.Fatalf("read %q, errors %v", got, c.errors())
	}
}

// TestFeedRedirectsStayOnTheHost: a redirect within the host is followed; one
// to another host (another port of 127.0.0.1 is another host) is refused, for
// a file (fetch_failed, the stream goes on) and for a list (a backfill stops).
func TestFeedRedirectsStayOnTheHost(t *testing.T) {
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer other.Close()
	away := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[0].Time), "mentions", false)
	moved := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[1].Time), "gkg", false)
	listAway := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == away, listAway && r.URL.Path == "/masterfilelist.txt":
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		case r.URL.Path == moved:
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, "/moved/"):
			http.ServeFile(w, r, filepath.Join(dir, strings.TrimPrefix(r.URL.Path, "/moved/")))
		default:
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	c, err := run(t, testConfig(ModeBackfill), source(t, srv.URL, testLog{t}), testLog{t}, "")
	must(t, err)
	key := gdeltgen.WindowID(ws[0].Time) + "/mentions"
	if got := c.errors(); len(got) != 1 || got[key] != ReasonFetchFailed {
		t.Fatalf("errors %v, want %s fetch_failed", got, key)
	}
	for _, e := range c.ends {
		for _, fe := range e.Errors {
			if !strings.Contains(fe.Detail, "refused a redirect") || !strings.Contains(fe.Detail, "same scheme and host") {
				t.Errorf("detail %q does not say the redirect was refused", fe.Detail)
			}
		}
	}
	if otherHits.Load() != 0 {
		t.Fatalf("the other host was asked %d times", otherHits.Load())
	}
	checkWhole(t, ws, map[string]bool{key: true}, c)

	listAway = true
	_, err = run(t, testConfig(ModeBackfill), source(t, srv.URL, nil), testLog{t}, "")
	var je *JobError
	if !errors.As(err, &je) || !strings.Contains(err.Error(), "refused a redirect") {
		t.Fatalf("a list redirected away: %v, want a JobError at once", err)
	}
}

// TestFeedCredentialsNeverShown: a password in base_url is used to fetch,
// and shown as xxxxx in logs, file errors, job errors and the checkpoint.
func TestFeedCredentialsNeverShown(t *testing.T) {
	const user, password = "gdelt", "s3cret-pw"
	ws := generate(t, 2)
	dir := t.TempDir()
	gone := gdeltgen.FileName(gdeltgen.WindowID(ws[1].Time), "export", false)
	writeMirror(t, dir, ws, func(m *gdeltgen.Mirror) { must(t, m.Remove(gone)) })
	busy := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[0].Time), "gkg", false)
	var busyOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		failed := false
		if r.URL.Path == busy {
			busyOnce.Do(func() { failed = true })
		}
		if failed {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	base := "http://" + user + ":" + password + "@" + strings.TrimPrefix(srv.URL, "http://") + "/"
	shown := "http://" + user + ":xxxxx@" + strings.TrimPrefix(srv.URL, "http://") + "/"

	log := &recLog{t: t}
	c, err := run(t, testConfig(ModeBackfill), source(t, base, log), log, "")
	must(t, err)
	key := gdeltgen.WindowID(ws[1].Time) + "/export"
	if got := c.errors(); len(got) != 1 || got[key] != ReasonNotFound {
		t.Fatalf("errors %v, want only %s not_found", got, key)
	}
	checkWhole(t, ws, map[string]bool{key: true}, c)
	for _, e := range c.ends {
		for _, fe := range e.Errors {
			if fe.Location != shown+gone || strings.Contains(fe.Error(), password) {
				t.Errorf("file error shows %q / %q", fe.Location, fe.Error())
			}
		}
	}
	if len(log.find("WARN", shown, "HTTP 503")) == 0 {
		t.Errorf("the retry was not logged with the redacted URL")
	}

	// A job error names the list without the password.
	_, err = run(t, testConfig(ModeBackfill), source(t, base+"typo/", nil), log, "")
	if err == nil || !strings.Contains(err.Error(), shown+"typo/masterfilelist.txt") {
		t.Errorf("job error %v, want the redacted URL", err)
	}
	if err != nil && strings.Contains(err.Error(), password) {
		t.Errorf("job error shows the password: %v", err)
	}
	if strings.Contains(log.all(), password) {
		t.Errorf("the log shows the password")
	}

	// The checkpoint file records the incomplete file without the password.
	res := service.MockResources(service.MockResourcesOptAddCache("cp"))
	in := newTestFeedInput(t, res, fmt.Sprintf("base_url: %q\nmode: backfill\ncheckpoint_cache: cp\n", base))
	drain(t, in)
	raw := checkpointJSON(t, res, "gdelt_feed")
	if strings.Contains(raw, password) || !strings.Contains(raw, shown+gone) {
		t.Fatalf("checkpoint %s", raw)
	}
}

// TestFeedRetryLoggedAtFirstAttempt: a transient failure is logged at warn
// level when it is first retried, with the attempt and the delay.
func TestFeedRetryLoggedAtFirstAttempt(t *testing.T) {
	ws := generate(t, 1)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	busy := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[0].Time), "mentions", false)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == busy && hits.Add(1) == 1 {
			http.Error(w, "busy", http.StatusBadGateway)
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	log := &recLog{t: t}
	c, err := run(t, testConfig(ModeBackfill), source(t, srv.URL, log), log, "")
	must(t, err)
	if len(c.errors()) != 0 {
		t.Fatalf("errors %v: the retry should have hidden the failure", c.errors())
	}
	checkWhole(t, ws, nil, c)
	if got := log.find("WARN", srv.URL+busy, "HTTP 502", "attempt 1 of 3 failed, retrying in"); len(got) != 1 {
		t.Fatalf("first retry logged %d times at warn, want once:\n%s", len(got), log.all())
	}
}

// TestFetchBufferFollowsTheBody: a list line claiming a huge size for a
// small file costs the file's bytes, not the claim.
func TestFetchBufferFollowsTheBody(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "small.zip"), []byte("twelve bytes"), 0o644))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // no Content-Length: the length is unknown
		w.Write([]byte("twelve bytes"))
	}))
	defer srv.Close()
	for _, base := range []string{dir, srv.URL} {
		src := source(t, base, nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b, err := src.Fetch(context.Background(), "small.zip", 900<<20)
		runtime.ReadMemStats(&after)
		must(t, err)
		if string(b) != "twelve bytes" {
			t.Fatalf("%s: read %q", base, b)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
			t.Fatalf("%s: a 12-byte file listed as 900 MB allocated %d bytes", base, n)
		}
	}
}
