package gdeltgen

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testStart = time.Date(2023, 7, 2, 15, 45, 0, 0, time.UTC)

func collect(t testing.TB, cfg Config) []Window {
	t.Helper()
	var ws []Window
	if err := Generate(cfg, func(w Window) error { ws = append(ws, w); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ws) != cfg.Windows {
		t.Fatalf("got %d windows, want %d", len(ws), cfg.Windows)
	}
	return ws
}

// rows splits a file into rows of fields, checking the content rules on the way.
func rows(t testing.TB, name string, content []byte, nf int) [][]string {
	t.Helper()
	if len(content) == 0 {
		t.Fatalf("%s: empty", name)
	}
	if content[len(content)-1] != '\n' {
		t.Fatalf("%s: no final newline", name)
	}
	if !utf8.Valid(content) {
		t.Fatalf("%s: invalid UTF-8", name)
	}
	if bytes.IndexByte(content, '\r') >= 0 {
		t.Fatalf("%s: CR in content", name)
	}
	lines := strings.Split(string(content[:len(content)-1]), "\n")
	out := make([][]string, len(lines))
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != nf {
			t.Fatalf("%s row %d: %d fields, want %d: %.200q", name, i+1, len(f), nf, l)
		}
		out[i] = f
	}
	return out
}

func atoi(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a float: %q", s)
	}
	return f
}

func TestWindowID(t *testing.T) {
	if got := WindowID(testStart); got != "20230702154500" {
		t.Fatalf("WindowID = %s", got)
	}
	if p, err := ParseWindowID("20230702154500"); err != nil || !p.Equal(testStart) {
		t.Fatalf("ParseWindowID = %v, %v", p, err)
	}
	if err := Generate(Config{Start: testStart.Add(time.Minute), Windows: 1}, func(Window) error { return nil }); err == nil {
		t.Fatal("Start off a 15-minute boundary accepted")
	}
}

func TestDeterministic(t *testing.T) {
	a := collect(t, Small(testStart, 4, 7))
	b := collect(t, Small(testStart, 4, 7))
	c := collect(t, Small(testStart, 4, 8))
	for i := range a {
		if !bytes.Equal(a[i].Export, b[i].Export) || !bytes.Equal(a[i].Mentions, b[i].Mentions) || !bytes.Equal(a[i].GKG, b[i].GKG) {
			t.Fatalf("window %d differs between two runs with the same seed", i)
		}
		if !a[i].Time.Equal(testStart.Add(time.Duration(i) * WindowDuration)) {
			t.Fatalf("window %d time %v", i, a[i].Time)
		}
	}
	if bytes.Equal(a[0].GKG, c[0].GKG) || bytes.Equal(a[0].Export, c[0].Export) {
		t.Fatal("different seeds gave the same window")
	}
}

var cameoQuad = func(root int) int {
	switch {
	case root <= 5:
		return 1
	case root <= 9:
		return 2
	case root <= 14:
		return 3
	}
	return 4
}

func TestRowShapes(t *testing.T) {
	for _, translation := range []bool{false, true} {
		cfg := Small(testStart, 3, 3)
		cfg.Translation = translation
		var prevMaxID int64
		for _, w := range collect(t, cfg) {
			wid := WindowID(w.Time)
			checkExport(t, wid, rows(t, wid+" export", w.Export, 61), &prevMaxID)
			checkMentions(t, wid, rows(t, wid+" mentions", w.Mentions, 16), translation)
			checkGKG(t, wid, rows(t, wid+" gkg", w.GKG, 27), translation)
		}
	}
}

func checkExport(t *testing.T, wid string, rs [][]string, prevMaxID *int64) {
	t.Helper()
	wdate := atoi(t, wid[:8])
	var last int64
	for _, f := range rs {
		id := atoi(t, f[0])
		if id <= *prevMaxID || id <= last || id < 1e9 || id > 2e9 {
			t.Fatalf("%s: GLOBALEVENTID %d not increasing / not ~1.3e9", wid, id)
		}
		last = id
		sqlDate := atoi(t, f[1])
		if sqlDate > wdate || f[2] != f[1][:6] || f[3] != f[1][:4] {
			t.Fatalf("%s: dates %v", wid, f[1:4])
		}
		d, _ := time.Parse("20060102", f[1])
		want := math.Round((float64(d.Year())+float64((int(d.Month())-1)*30+d.Day())/365)*10000) / 10000
		if atof(t, f[4]) != want {
			t.Fatalf("%s: FractionDate %s for %s, want %v", wid, f[4], f[1], want)
		}
		for _, a := range []int{5, 15} {
			if f[a] == "" && strings.Join(f[a:a+10], "") != "" {
				t.Fatalf("%s: actor without code %v", wid, f[a:a+10])
			}
			if cc := f[a+2]; cc != "" && len(cc) != 3 {
				t.Fatalf("%s: actor country %q", wid, cc)
			}
		}
		if f[25] != "0" && f[25] != "1" {
			t.Fatalf("IsRootEvent %q", f[25])
		}
		code, base, root := f[26], f[27], f[28]
		if len(code) < 3 || len(code) > 4 || base != code[:3] || root != code[:2] {
			t.Fatalf("%s: event codes %q %q %q", wid, code, base, root)
		}
		if q := atoi(t, f[29]); q != int64(cameoQuad(int(atoi(t, root)))) {
			t.Fatalf("%s: QuadClass %d for root %s", wid, q, root)
		}
		if g := atof(t, f[30]); g < -10 || g > 10 {
			t.Fatalf("Goldstein %v", g)
		}
		nm, ns, na := atoi(t, f[31]), atoi(t, f[32]), atoi(t, f[33])
		if nm < na || na < ns || ns < 1 {
			t.Fatalf("%s: NumMentions/Sources/Articles %d/%d/%d", wid, nm, ns, na)
		}
		atof(t, f[34])
		for _, gs := range []int{35, 43, 51} {
			g := f[gs : gs+8]
			switch g[0] {
			case "0":
				if strings.Join(g[1:], "") != "" {
					t.Fatalf("%s: geo type 0 with fields %q", wid, g)
				}
			case "1", "2", "3", "4", "5":
				if len(g[2]) != 2 || g[1] == "" {
					t.Fatalf("%s: geo %q", wid, g)
				}
				atof(t, g[5])
				atof(t, g[6])
			default:
				t.Fatalf("%s: geo type %q", wid, g[0])
			}
		}
		if f[59] != wid {
			t.Fatalf("DATEADDED %s in window %s", f[59], wid)
		}
		if !strings.HasPrefix(f[60], "http") {
			t.Fatalf("SOURCEURL %q", f[60])
		}
	}
	*prevMaxID = last
}

func checkMentions(t *testing.T, wid string, rs [][]string, translation bool) {
	t.Helper()
	for _, f := range rs {
		atoi(t, f[0])
		et, err := ParseWindowID(f[1])
		if err != nil || f[1] > wid || !et.Truncate(WindowDuration).Equal(et) {
			t.Fatalf("%s: EventTimeDate %q", wid, f[1])
		}
		if f[2] != wid {
			t.Fatalf("MentionTimeDate %s in window %s", f[2], wid)
		}
		switch f[3] {
		case "1":
			if !strings.HasPrefix(f[5], "http") || f[4] == "" {
				t.Fatalf("web mention identifier %q source %q", f[5], f[4])
			}
		case "2", "3":
			if strings.HasPrefix(f[5], "http") || f[5] == "" {
				t.Fatalf("type %s mention identifier %q", f[3], f[5])
			}
		default:
			t.Fatalf("MentionType %q", f[3])
		}
		if atoi(t, f[6]) < 1 {
			t.Fatalf("SentenceID %s", f[6])
		}
		for _, k := range []int{7, 8, 9} {
			if atoi(t, f[k]) < -1 {
				t.Fatalf("offset %s", f[k])
			}
		}
		if f[10] != "0" && f[10] != "1" {
			t.Fatalf("InRawText %q", f[10])
		}
		if c := atoi(t, f[11]); c < 0 || c > 100 {
			t.Fatalf("Confidence %d", c)
		}
		atoi(t, f[12])
		atof(t, f[13])
		if translation == (f[14] == "") && f[3] == "1" {
			t.Fatalf("translation info %q (translation stream %v)", f[14], translation)
		}
	}
}

// blocks splits a nested field and checks the number of sub-fields of every block; it returns the number of
// malformed blocks.
func blocks(t *testing.T, field, sep, sub string, n int, trailing bool) (bad int) {
	t.Helper()
	if field == "" {
		return 0
	}
	if trailing != strings.HasSuffix(field, sep) {
		t.Fatalf("trailing %q: %v in %.120q", sep, !trailing, field)
	}
	field = strings.TrimSuffix(field, sep)
	for _, b := range strings.Split(field, sep) {
		if got := strings.Count(b, sub) + 1; got != n {
			bad++
		}
	}
	return bad
}

func checkGKG(t *testing.T, wid string, rs [][]string, translation bool) {
	t.Helper()
	for i, f := range rs {
		wantID := fmt.Sprintf("%s-%d", wid, i)
		if translation {
			wantID = fmt.Sprintf("%s-T%d", wid, i)
		}
		if f[0] != wantID || f[1] != wid || f[2] != "1" || !strings.HasPrefix(f[4], "http") || f[3] == "" {
			t.Fatalf("%s row %d: id/date/collection/url %q", wid, i, f[:5])
		}
		bad := 0
		bad += blocks(t, f[5], ";", "#", 10, true)
		bad += blocks(t, f[6], ";", "#", 11, true)
		bad += blocks(t, f[7], ";", ",", 1, true)
		bad += blocks(t, f[8], ";", ",", 2, true)
		locBad := blocks(t, f[9], ";", "#", 7, false)
		locBad2 := blocks(t, f[10], ";", "#", 9, false)
		if locBad > 1 || locBad2 > 1 {
			t.Fatalf("too many malformed locations in %q", f[9])
		}
		bad += blocks(t, f[11], ";", ",", 1, false)
		bad += blocks(t, f[12], ";", ",", 2, false)
		bad += blocks(t, f[13], ";", ",", 1, false)
		bad += blocks(t, f[14], ";", ",", 2, false)
		bad += blocks(t, f[16], ";", "#", 5, false)
		bad += blocks(t, f[22], "#", "|", 4, false)
		bad += blocks(t, f[23], ";", ",", 2, false)
		bad += blocks(t, f[24], ";", ",", 3, true)
		if bad > 0 {
			t.Fatalf("%s row %d: %d malformed nested blocks", wid, i, bad)
		}
		tone := strings.Split(f[15], ",")
		if len(tone) != 7 {
			t.Fatalf("V1.5TONE %q", f[15])
		}
		for _, x := range tone {
			atof(t, x)
		}
		if !strings.HasPrefix(f[17], "wc:"+tone[6]+",") {
			t.Fatalf("GCAM %.40q does not start with wc:%s", f[17], tone[6])
		}
		for _, kv := range strings.Split(f[17], ",") {
			k, v, ok := strings.Cut(kv, ":")
			if !ok || (k[0] != 'c' && k[0] != 'v' && k != "wc") {
				t.Fatalf("GCAM entry %q", kv)
			}
			atof(t, v)
		}
		if !strings.Contains(f[26], "<PAGE_TITLE>") || !strings.HasSuffix(f[26], "</PAGE_TITLE>") {
			t.Fatalf("V2EXTRASXML %q", f[26])
		}
		if translation != strings.HasPrefix(f[25], "srclc:") {
			t.Fatalf("translation info %q", f[25])
		}
	}
}

// TestRelations checks the joins later tests rely on, over a run long enough to have later mentions of
// generated events.
func TestRelations(t *testing.T) {
	cfg := Small(testStart, 12, 11)
	cfg.Events, cfg.Mentions, cfg.GKG = 150, 380, 100
	ws := collect(t, cfg)

	type evKey struct {
		window string
		id     int64
	}
	exported := map[evKey]bool{}
	firstID := int64(math.MaxInt64)
	gkgDocs := map[string]int{} // URL -> window index
	for i, w := range ws {
		wid := WindowID(w.Time)
		for _, f := range rows(t, "export", w.Export, 61) {
			id := atoi(t, f[0])
			exported[evKey{wid, id}] = true
			firstID = min(firstID, id)
		}
		for _, f := range rows(t, "gkg", w.GKG, 27) {
			if _, dup := gkgDocs[f[4]]; dup {
				t.Fatalf("document %s has two GKG rows", f[4])
			}
			gkgDocs[f[4]] = i
		}
	}

	mentionedDocs := map[string]bool{}
	var nWeb, nSame, nNear, nNone int
	var multiEventDocs, repeatedPairs int
	var lagDay, lagTotal int
	for i, w := range ws {
		wid := WindowID(w.Time)
		ms := rows(t, "mentions", w.Mentions, 16)
		earlier := 0
		docEvents := map[string]map[int64]int{}
		sentences := map[string]bool{}
		sameCount := map[int64]int{}
		for _, f := range ms {
			id := atoi(t, f[0])
			if f[1] < wid {
				earlier++
				et, _ := ParseWindowID(f[1])
				lag := w.Time.Sub(et)
				if lag < WindowDuration || lag > 6*7*24*time.Hour {
					t.Fatalf("lag %v out of range", lag)
				}
				lagTotal++
				if lag <= 24*time.Hour {
					lagDay++
				}
				if !et.Before(testStart) {
					if !exported[evKey{f[1], id}] {
						t.Fatalf("%s: mention of event %d of window %s, not in that window's export", wid, id, f[1])
					}
				} else if id >= firstID {
					t.Fatalf("%s: event %d before the run has an id >= the first generated id %d", wid, id, firstID)
				}
			} else {
				if !exported[evKey{wid, id}] {
					t.Fatalf("%s: same-window mention of event %d not in the export", wid, id)
				}
				sameCount[id]++
			}
			doc := f[5]
			if docEvents[doc] == nil {
				docEvents[doc] = map[int64]int{}
			}
			docEvents[doc][id]++
			sk := f[0] + "\x00" + doc + "\x00" + f[6]
			if sentences[sk] {
				t.Fatalf("duplicate (event, doc, sentence) %q", sk)
			}
			sentences[sk] = true
		}
		share := float64(earlier) / float64(len(ms))
		if share < 0.35 || share > 0.55 {
			t.Errorf("window %s: %.2f of mentions point at earlier windows, want 0.35-0.55", wid, share)
		}
		for doc, evs := range docEvents {
			if len(evs) > 1 {
				multiEventDocs++
			}
			for _, n := range evs {
				if n > 1 {
					repeatedPairs++
				}
			}
			if !strings.HasPrefix(doc, "http") {
				continue
			}
			mentionedDocs[doc] = true
			nWeb++
			switch j, ok := gkgDocs[doc]; {
			case ok && j == i:
				nSame++
			case ok && (j == i-1 || j == i+1):
				nNear++
			default:
				nNone++
			}
		}
		// NumMentions of an event = its mention rows in the same window; SOURCEURL mentions it
		for _, f := range rows(t, "export", w.Export, 61) {
			id := atoi(t, f[0])
			if atoi(t, f[31]) != int64(sameCount[id]) {
				t.Fatalf("%s: event %d NumMentions %s, %d mention rows", wid, id, f[31], sameCount[id])
			}
			if docEvents[f[60]][id] == 0 {
				t.Fatalf("%s: event %d SOURCEURL %s does not mention it", wid, id, f[60])
			}
		}
	}
	if float64(lagDay)/float64(lagTotal) < 0.6 {
		t.Errorf("only %d of %d later mentions are within a day", lagDay, lagTotal)
	}
	if multiEventDocs == 0 || repeatedPairs == 0 {
		t.Errorf("documents with several events: %d, repeated (event, doc) pairs: %d", multiEventDocs, repeatedPairs)
	}
	if f := float64(nSame+nNear) / float64(nWeb); f < 0.95 || nNear == 0 || float64(nSame)/float64(nWeb) < 0.8 {
		t.Errorf("web mention documents: %d, GKG same window %d, neighbour %d, none %d", nWeb, nSame, nNear, nNone)
	}
	noMention := 0
	for doc := range gkgDocs {
		if !mentionedDocs[doc] {
			noMention++
		}
	}
	if f := float64(noMention) / float64(len(gkgDocs)); f < 0.15 {
		t.Errorf("GKG rows without any mention: %d of %d", noMention, len(gkgDocs))
	}
	t.Logf("web mention docs %d: GKG same window %d, ±1 %d, none %d; GKG rows %d, without mention %d; multi-event docs %d, repeated pairs %d; later mentions within a day %d/%d",
		nWeb, nSame, nNear, nNone, len(gkgDocs), noMention, multiEventDocs, repeatedPairs, lagDay, lagTotal)
}

// TestDayWindowVolume checks one realistic (day-scale) window against the volumes of the real feed.
func TestDayWindowVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cfg := Day(DayLoadStart.Add(14*time.Hour), 5)
	cfg.Windows = 1
	w := collect(t, cfg)[0]
	check := func(name string, content []byte, nf, minRows, maxRows int, minMB, maxMB float64) {
		n := len(rows(t, name, content, nf))
		mb := float64(len(content)) / 1e6
		if n < minRows || n > maxRows || mb < minMB || mb > maxMB {
			t.Errorf("%s: %d rows, %.2f MB; want %d-%d rows, %.1f-%.1f MB", name, n, mb, minRows, maxRows, minMB, maxMB)
		}
	}
	check("export", w.Export, 61, 1100, 2500, 0.4, 0.9)
	check("mentions", w.Mentions, 16, 2500, 7000, 0.5, 1.5)
	check("gkg", w.GKG, 27, 950, 3000, 12, 15)
	z, err := ZipFile("x.gkg.csv", w.GKG, w.Time)
	if err != nil {
		t.Fatal(err)
	}
	if zmb := float64(len(z)) / 1e6; zmb < 3 || zmb > 10 {
		t.Errorf("gkg zipped %.2f MB, want 3-10", zmb)
	}
	var maxLine int
	for _, l := range bytes.Split(w.GKG, []byte{'\n'}) {
		maxLine = max(maxLine, len(l))
	}
	if maxLine < 20000 {
		t.Errorf("longest GKG row %d bytes; real windows have rows over 20 KB", maxLine)
	}
}

func BenchmarkGenerateDayWindow(b *testing.B) {
	cfg := Day(DayLoadStart, 1)
	cfg.Windows = 1
	var n int
	for b.Loop() {
		_ = Generate(cfg, func(w Window) error { n = len(w.Export) + len(w.Mentions) + len(w.GKG); return nil })
	}
	b.SetBytes(int64(n))
}

func TestOddSizes(t *testing.T) {
	for _, c := range [][3]int{{1, 1, 1}, {5, 2, 1}, {100, 1000, 5}, {3, 40, 200}} {
		cfg := Config{Seed: 1, Start: testStart, Windows: 3, Events: c[0], Mentions: c[1], GKG: c[2], GKGRowBytes: 2500}
		for _, w := range collect(t, cfg) {
			ne := len(rows(t, "export", w.Export, 61))
			nm := len(rows(t, "mentions", w.Mentions, 16))
			ng := len(rows(t, "gkg", w.GKG, 27))
			if ne != c[0] || nm != c[1] || ng < c[2] {
				t.Fatalf("config %v: rows %d/%d/%d", c, ne, nm, ng)
			}
		}
	}
}
