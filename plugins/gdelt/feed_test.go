package gdelt

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

var t0 = time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC)

// collector is an Emitter that keeps everything.
type collector struct {
	mu      sync.Mutex
	chunks  []*Chunk
	ends    []*WindowEnd
	dataEnd int // End calls
}

func (c *collector) End(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dataEnd++
	return nil
}

func (c *collector) Chunk(_ context.Context, ch *Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chunks = append(c.chunks, ch)
	return nil
}

func (c *collector) WindowEnd(_ context.Context, w *WindowEnd) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ends = append(c.ends, w)
	return nil
}

// content rebuilds a file's rows as emitted (window/table), with LF ends.
func (c *collector) content(window, table string) []byte {
	var b bytes.Buffer
	line := 1
	for _, ch := range c.chunks {
		if ch.Window != window || ch.Table != table {
			continue
		}
		if ch.FirstLine != line {
			panic(fmt.Sprintf("%s %s: chunk starts at line %d, want %d", window, table, ch.FirstLine, line))
		}
		for _, l := range ch.Lines {
			b.Write(l)
			b.WriteByte('\n')
		}
		line += len(ch.Lines)
	}
	return b.Bytes()
}

func (c *collector) errors() map[string]string {
	out := map[string]string{}
	for _, e := range c.ends {
		for _, fe := range e.Errors {
			out[fe.Window+"/"+fe.Table] = fe.Reason
		}
	}
	return out
}

type testLog struct{ t testing.TB }

func (l testLog) Infof(f string, a ...any)  { l.t.Logf("INFO "+f, a...) }
func (l testLog) Warnf(f string, a ...any)  { l.t.Logf("WARN "+f, a...) }
func (l testLog) Errorf(f string, a ...any) { l.t.Logf("ERROR "+f, a...) }

func testConfig(mode string) FeedConfig {
	return FeedConfig{Mode: mode, Stream: StreamEnglish, Tables: []string{"export", "mentions", "gkg"},
		PollInterval: 20 * time.Millisecond, CatchUp: true, MaxLineBytes: 1 << 20, MaxBatchRows: 100, MaxBatchSize: 1 << 20}
}

func generate(t testing.TB, windows int) []gdeltgen.Window {
	var out []gdeltgen.Window
	if err := gdeltgen.Generate(gdeltgen.Small(t0, windows, 7), func(w gdeltgen.Window) error {
		out = append(out, w)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeMirror(t testing.TB, dir string, ws []gdeltgen.Window, faults func(m *gdeltgen.Mirror)) {
	m, err := gdeltgen.NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if err := m.AddWindow(w); err != nil {
			t.Fatal(err)
		}
	}
	if faults != nil {
		faults(m)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func runFeed(t testing.TB, cfg FeedConfig, base string, after string) *collector {
	src, err := NewSource(base, nil, RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := NewFeed(cfg, src, testLog{t}).Run(ctx, after, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFeedBackfillGenerated(t *testing.T) {
	ws := generate(t, 4)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	c := runFeed(t, testConfig(ModeBackfill), dir, "")
	if len(c.ends) != 4 {
		t.Fatalf("%d windows ended, want 4", len(c.ends))
	}
	for i, w := range ws {
		id := gdeltgen.WindowID(w.Time)
		if c.ends[i].Window != id || len(c.ends[i].Errors) != 0 {
			t.Fatalf("window %d: %+v", i, c.ends[i])
		}
		for table, want := range map[string][]byte{"export": w.Export, "mentions": w.Mentions, "gkg": w.GKG} {
			if got := c.content(id, table); !bytes.Equal(got, want) {
				t.Errorf("%s %s: emitted %d bytes, file has %d", id, table, len(got), len(want))
			}
		}
	}
	// from/to bound the windows, after skips the checkpointed ones.
	cfg := testConfig(ModeBackfill)
	cfg.From, cfg.To = gdeltgen.WindowID(ws[1].Time), gdeltgen.WindowID(ws[2].Time)
	if c := runFeed(t, cfg, dir, ""); len(c.ends) != 2 || c.ends[0].Window != cfg.From {
		t.Fatalf("from/to: %d windows", len(c.ends))
	}
	if c := runFeed(t, testConfig(ModeBackfill), dir, gdeltgen.WindowID(ws[2].Time)); len(c.ends) != 1 {
		t.Fatalf("after: %d windows, want 1", len(c.ends))
	}
}

func readRealExport(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join(realDataDir(t), realExportFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readRealGKGZip(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join(realDataDir(t), realGKGZip))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFeedRealFiles(t *testing.T) {
	dir := t.TempDir()
	m, err := gdeltgen.NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	export, gkgZip := readRealExport(t), readRealGKGZip(t)
	if err := m.AddFile("20191024143000", "export", export); err != nil {
		t.Fatal(err)
	}
	if err := m.AddZip("20230702153000.gkg.csv.zip", gkgZip); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	c := runFeed(t, testConfig(ModeBackfill), dir, "")
	if got := c.content("20191024143000", "export"); !bytes.Equal(got, export) {
		t.Fatalf("export differs: %d bytes vs %d", len(got), len(export))
	}
	if n := bytes.Count(c.content("20191024143000", "export"), []byte{'\n'}); n != 2111 {
		t.Fatalf("export rows %d, want 2111", n)
	}
	_, gkg, err := gdeltgen.Unzip(gkgZip)
	must(t, err)
	if got := c.content("20230702153000", "gkg"); !bytes.Equal(got, gkg) {
		t.Fatalf("gkg differs")
	}
	if n := bytes.Count(gkg, []byte{'\n'}); n != 951 {
		t.Fatalf("gkg rows %d, want 951", n)
	}
	// The real windows lack the other tables: recorded, not hidden.
	want := map[string]string{
		"20191024143000/mentions": ReasonMissingFromList, "20191024143000/gkg": ReasonMissingFromList,
		"20230702153000/export": ReasonMissingFromList, "20230702153000/mentions": ReasonMissingFromList,
	}
	if got := c.errors(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
}

// faultyMirror builds windows 1..7 with one fault each in windows 2..7.
func faultyMirror(t testing.TB, dir string) ([]gdeltgen.Window, map[string]string) {
	ws := generate(t, 7)
	id := func(i int) string { return gdeltgen.WindowID(ws[i].Time) }
	// window 5: CRLF line ends; window 6: an empty GKG file; window 7: a GKG line over 1 MB.
	ws[4].Mentions = bytes.ReplaceAll(ws[4].Mentions, []byte("\n"), []byte("\r\n"))
	ws[5].GKG = nil
	long := append(bytes.Repeat([]byte("x"), 1<<20+10), '\n')
	ws[6].GKG = append(append(append([]byte(nil), firstLine(ws[6].GKG)...), long...), afterFirstLine(ws[6].GKG)...)
	writeMirror(t, dir, ws, func(m *gdeltgen.Mirror) {
		must(t, m.CorruptMD5(gdeltgen.FileName(id(1), "gkg", false)))
		must(t, m.Truncate(gdeltgen.FileName(id(2), "mentions", false), 1000))
		must(t, m.Remove(gdeltgen.FileName(id(3), "export", false)))
	})
	// A zip whose list line is right but whose bytes are not a zip.
	name := gdeltgen.FileName(id(3), "gkg", false)
	junk := bytes.Repeat([]byte("not a zip "), 100)
	must(t, os.WriteFile(filepath.Join(dir, name), junk, 0o644))
	rewriteListLine(t, dir, name, junk)
	return ws, map[string]string{
		id(1) + "/gkg":      ReasonMD5Mismatch,
		id(2) + "/mentions": ReasonSizeMismatch,
		id(3) + "/export":   ReasonNotFound,
		id(3) + "/gkg":      ReasonCorruptZip,
		id(5) + "/gkg":      ReasonEmptyFile,
	}
}

func firstLine(b []byte) []byte      { return b[:bytes.IndexByte(b, '\n')+1] }
func afterFirstLine(b []byte) []byte { return b[bytes.IndexByte(b, '\n')+1:] }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rewriteListLine makes the master list describe content as the file name's bytes.
func rewriteListLine(t testing.TB, dir, name string, content []byte) {
	p := filepath.Join(dir, "masterfilelist.txt")
	b, err := os.ReadFile(p)
	must(t, err)
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if strings.HasSuffix(l, "/"+name) {
			l = fmt.Sprintf("%d %s %s", len(content), md5hex(content), strings.Fields(l)[2])
		}
		out = append(out, l)
	}
	must(t, os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o644))
}

func checkFaults(t *testing.T, ws []gdeltgen.Window, want map[string]string, c *collector) {
	if got := c.errors(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("file errors\n got %v\nwant %v", got, want)
	}
	if len(c.ends) != len(ws) {
		t.Fatalf("%d windows ended, want %d", len(c.ends), len(ws))
	}
	// Every file without a fault arrives whole: nothing else is lost.
	for _, w := range ws {
		id := gdeltgen.WindowID(w.Time)
		for table, src := range map[string][]byte{"export": w.Export, "mentions": w.Mentions, "gkg": w.GKG} {
			if _, bad := want[id+"/"+table]; bad {
				if got := c.content(id, table); len(got) != 0 {
					t.Errorf("%s %s: a bad file emitted %d bytes", id, table, len(got))
				}
				continue
			}
			src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
			got := c.content(id, table)
			if id == gdeltgen.WindowID(ws[6].Time) && table == "gkg" {
				// The long row is emitted cut to max_line_bytes and flagged.
				var flagged int
				for _, ch := range c.chunks {
					if ch.Window == id && ch.Table == table {
						for i, full := range ch.TooLong {
							flagged++
							if ch.FirstLine+i != 2 || full != 1<<20+10 || len(ch.Lines[i]) != 1<<20 {
								t.Errorf("long row: line %d, full %d, kept %d", ch.FirstLine+i, full, len(ch.Lines[i]))
							}
						}
					}
				}
				if flagged != 1 {
					t.Errorf("%d rows flagged too long, want 1", flagged)
				}
				src = bytes.Replace(src, bytes.Repeat([]byte("x"), 1<<20+10), bytes.Repeat([]byte("x"), 1<<20), 1)
			}
			if !bytes.Equal(got, src) {
				t.Errorf("%s %s: emitted %d bytes, want %d", id, table, len(got), len(src))
			}
		}
	}
	var crlf int
	for _, ch := range c.chunks {
		crlf += ch.CRLF
	}
	if want := bytes.Count(ws[4].Mentions, []byte("\r\n")); crlf != want {
		t.Errorf("%d CRLF rows counted, want %d", crlf, want)
	}
}

func TestFeedFaultsDir(t *testing.T) {
	dir := t.TempDir()
	ws, want := faultyMirror(t, dir)
	checkFaults(t, ws, want, runFeed(t, testConfig(ModeBackfill), dir, ""))
}

func TestFeedFaultsHTTP(t *testing.T) {
	dir := t.TempDir()
	ws, want := faultyMirror(t, dir)
	// Every file fails twice with a 503 before it is served: the retries hide it.
	var mu sync.Mutex
	fails := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fails[r.URL.Path]++
		n := fails[r.URL.Path]
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, ".zip") && n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	checkFaults(t, ws, want, runFeed(t, testConfig(ModeBackfill), srv.URL, ""))
}

func TestFeedHTTPGivesUp(t *testing.T) {
	ws := generate(t, 2)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	broken := "/" + gdeltgen.FileName(gdeltgen.WindowID(ws[0].Time), "mentions", false)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == broken {
			hits.Add(1)
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := runFeed(t, testConfig(ModeBackfill), srv.URL, "")
	if hits.Load() != 3 {
		t.Errorf("%d attempts, want 3", hits.Load())
	}
	want := map[string]string{gdeltgen.WindowID(ws[0].Time) + "/mentions": ReasonFetchFailed}
	if got := c.errors(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	if len(c.ends) != 2 {
		t.Fatalf("the stream did not go on: %d windows", len(c.ends))
	}
}

func TestFeedFollow(t *testing.T) {
	ws := generate(t, 5)
	dir := t.TempDir()
	writeMirror(t, dir, ws, nil)
	master, err := os.ReadFile(filepath.Join(dir, "masterfilelist.txt"))
	must(t, err)
	setLast := func(i int) {
		var lines []string
		for _, l := range strings.Split(string(master), "\n") {
			if strings.Contains(l, "/"+gdeltgen.WindowID(ws[i].Time)+".") {
				lines = append(lines, l)
			}
		}
		must(t, os.WriteFile(filepath.Join(dir, "lastupdate.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	setLast(0)
	src, err := NewSource(dir, nil, RetryPolicy{MaxAttempts: 1}, nil)
	must(t, err)
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- NewFeed(testConfig(ModeFollow), src, testLog{t}).Run(ctx, "", c) }()
	waitEnds := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			c.mu.Lock()
			got := len(c.ends)
			c.mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %d windows", n)
	}
	waitEnds(1)
	time.Sleep(100 * time.Millisecond) // several polls of an unchanged lastupdate.txt
	setLast(1)
	waitEnds(2)
	setLast(4) // windows 3 and 4 were never in lastupdate.txt: caught up from the master list
	waitEnds(5)
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run ended with %v", err)
	}
	if len(c.ends) != 5 {
		t.Fatalf("%d windows, want 5 (each exactly once)", len(c.ends))
	}
	for i, w := range ws {
		if c.ends[i].Window != gdeltgen.WindowID(w.Time) || len(c.ends[i].Errors) != 0 {
			t.Fatalf("window %d: %+v", i, c.ends[i])
		}
		if got := c.content(c.ends[i].Window, "gkg"); !bytes.Equal(got, w.GKG) {
			t.Fatalf("window %d gkg differs", i)
		}
	}
}

func TestFeedFollowGapRecorded(t *testing.T) {
	ws := generate(t, 4)
	dir := t.TempDir()
	// Window 3 is absent from the master list altogether (GDELT skipped it).
	writeMirror(t, dir, append(append([]gdeltgen.Window{}, ws[:2]...), ws[3]), nil)
	src, err := NewSource(dir, nil, RetryPolicy{MaxAttempts: 1}, nil)
	must(t, err)
	c := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = NewFeed(testConfig(ModeFollow), src, testLog{t}).Run(ctx, gdeltgen.WindowID(ws[0].Time), c)
	if len(c.ends) != 3 {
		t.Fatalf("%d windows, want 3", len(c.ends))
	}
	gap := gdeltgen.WindowID(ws[2].Time)
	if c.ends[1].Window != gap || len(c.ends[1].Errors) != 3 || c.ends[1].Errors[0].Reason != ReasonMissingFromList {
		t.Fatalf("the gap window was not recorded: %+v", c.ends[1])
	}
}

func TestChunkerLongAndUnterminated(t *testing.T) {
	in := "a\tb\n" + strings.Repeat("y", 300_000) + "\n" + "last-no-newline"
	ck := newChunker(strings.NewReader(in), 400_000, 2, 1<<20)
	var rows []string
	for {
		ch := &Chunk{}
		err := ck.next(ch)
		for _, l := range ch.Lines {
			rows = append(rows, string(l))
		}
		if err == io.EOF {
			break
		}
		must(t, err)
	}
	if len(rows) != 3 || rows[0] != "a\tb" || len(rows[1]) != 300_000 || rows[2] != "last-no-newline" {
		t.Fatalf("rows: %d %q", len(rows), rows[0])
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestChunkerMemoryFollowsContent: the arenas a chunker allocates hold about
// the rows' bytes, whatever max_batch_bytes says: one-row chunks share
// arenas, and a big chunk's arenas are at most about twice its rows.
func TestChunkerMemoryFollowsContent(t *testing.T) {
	row := strings.Repeat("r", 999) + "\n"
	for _, tc := range []struct {
		name    string
		maxRows int
	}{{"one row per chunk", 1}, {"1024 rows per chunk", 1024}} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Repeat(row, 3000) // 3 MB of rows
			ck := newChunker(strings.NewReader(in), 1<<20, tc.maxRows, 8<<20)
			var chunks []*Chunk
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for {
				ch := &Chunk{Lines: make([][]byte, 0, tc.maxRows)}
				err := ck.next(ch)
				if len(ch.Lines) > 0 {
					chunks = append(chunks, ch) // all held, as if none were acknowledged yet
				}
				if err == io.EOF {
					break
				}
				must(t, err)
			}
			runtime.ReadMemStats(&after)
			var rows, content int
			for _, ch := range chunks {
				for _, l := range ch.Lines {
					rows++
					content += len(l)
					if string(l) != row[:999] {
						t.Fatalf("row %d differs", rows)
					}
				}
			}
			if rows != 3000 {
				t.Fatalf("%d rows, want 3000", rows)
			}
			// Lines slices, chunk structs, the 256 KiB read buffer and one
			// spare arena come on top of the rows.
			overhead := uint64(len(chunks)*(24*tc.maxRows+256) + 256<<10 + minArena)
			allocated := after.TotalAlloc - before.TotalAlloc
			if limit := 2*uint64(content) + overhead; allocated > limit {
				t.Fatalf("%d chunks of %d row bytes allocated %d bytes, over %d", len(chunks), content, allocated, limit)
			}
			t.Logf("%d chunks, %d row bytes, %d bytes allocated", len(chunks), content, allocated)
			runtime.KeepAlive(chunks)
		})
	}
}
