// Package gdeltgen generates realistic, deterministic GDELT 2.0 15-minute windows (Events export, Mentions and
// GKG 2.1 files that join like the real feed) and writes them as a GDELT-style mirror directory
// (<window>.<table>.zip files plus masterfilelist.txt and lastupdate.txt).
//
// Generated rows follow the layouts and quirks of the real files (see the shared gdelt-format.md notes):
// tab-separated, no header, LF line ends, UTF-8, nested GKG fields with the real separators, a long V2GCAM
// block, later mentions of events first seen in earlier windows, documents with several events, repeated
// (event, document) pairs, GKG rows for most mentioned web documents (same window, a few in the neighbouring
// one) and many GKG rows with no event.
//
// Row counts per window: Small is 60 export, 150 mentions and 40 GKG rows (~3 KB each); Day is 96 windows of
// realistic volume (export ~1,300-2,300 rows, mentions ~3,000-6,100, GKG ~1,020-1,210 rows of ~12 KB:
// ~1.46 GB unzipped, ~0.41 GB zipped for the day).
//
// The vocabularies (CAMEO actors and event codes with Goldstein scores, geographic features, GKG themes, news
// domains) were drawn from real GDELT files (The GDELT Project, https://www.gdeltproject.org/); person names,
// titles and quotes are synthetic.
package gdeltgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes a run of consecutive 15-minute windows.
type Config struct {
	Seed    int64
	Start   time.Time // first window (UTC, on a 15-minute boundary)
	Windows int
	// Rows per window; 0 = scale default (the realistic, day-scale volume that varies from window to window:
	// export 1,100-2,500, mentions 2,500-7,000, gkg 1,020-1,210 rows of ~12 KB).
	Events, Mentions, GKG int

	Translation bool // translingual stream file names and -T record ids

	// GKGRowBytes is the target mean size of a GKG row in bytes (mostly through the length of V2GCAM);
	// 0 = realistic (~12 KB, like the real feed). Small sets it to 3000.
	GKGRowBytes int

	// Reexports appends, to each window's export file after the first, this many re-exports: copies of export
	// rows of earlier generated windows (same GLOBALEVENTID and columns, DATEADDED set to the new window), half
	// of them from the last 8 windows, half from up to 400 windows back (past a short retention). They come from
	// a separate random stream, so the other rows are the same as without them.
	Reexports int
}

// Window is the whole TSV content of the three files of one window.
type Window struct {
	Time                  time.Time
	Export, Mentions, GKG []byte
}

// WindowDuration is the length of a GDELT 2.0 update window.
const WindowDuration = 15 * time.Minute

// DayLoadStart is the first window of the day load written by WriteDayLoad.
var DayLoadStart = time.Date(2023, 7, 3, 0, 0, 0, 0, time.UTC)

// WindowID formats a window time as GDELT does: "YYYYMMDDHHMMSS" (UTC).
func WindowID(t time.Time) string { return t.UTC().Format("20060102150405") }

// ParseWindowID parses "YYYYMMDDHHMMSS" (UTC).
func ParseWindowID(s string) (time.Time, error) {
	return time.ParseInLocation("20060102150405", s, time.UTC)
}

// Small returns a test-sized config: 60 events, 150 mentions and 40 GKG rows (~3 KB each) per window.
func Small(start time.Time, windows int, seed int64) Config {
	return Config{Seed: seed, Start: start, Windows: windows, Events: 60, Mentions: 150, GKG: 40, GKGRowBytes: 3000}
}

// Day returns the day-sized config: 96 windows of realistic volume, about 1.5 GB unzipped, mostly GKG.
func Day(start time.Time, seed int64) Config {
	return Config{Seed: seed, Start: start, Windows: 96}
}

const (
	realisticGKGRowBytes = 12000 // measured mean row size at GKGRowBytes = 0
	earliestLagWindows   = 4032  // 6 weeks: the oldest event a later mention refers to
)

// Generate produces cfg.Windows consecutive windows, in order, calling fn once per window. The Window's byte
// slices are freshly allocated for each call and may be retained by fn.
func Generate(cfg Config, fn func(w Window) error) error {
	g, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	for i := 0; i < cfg.Windows; i++ {
		if err := fn(g.window(i)); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------------------------
// generator state

type generator struct {
	cfg   Config
	v     *vocab
	start time.Time
	base0 int64 // first GLOBALEVENTID of the first window

	winFirst []int64 // first event id of each generated window
	winCount []int   // number of events of each generated window
	nextID   int64
	docSeq   uint32

	carry         []*doc // web documents mentioned in the previous window whose GKG row is written in this one
	prevNoMention []*doc // GKG-only documents of the previous window (candidates for a mention one window later)

	gcamThr    [][]uint32 // per wc class, per GCAM key: inclusion threshold
	gcamScale  float64
	extraScale float64

	pastExport [][][]byte // each generated window's export lines (only with Reexports)

	// per-window scratch
	r    *rand.Rand
	pcg  *rand.PCG
	seen []uint32
	mark uint32
}

func newGenerator(cfg Config) (*generator, error) {
	if cfg.Windows < 0 {
		return nil, errors.New("gdeltgen: negative Windows")
	}
	if cfg.Start.IsZero() {
		return nil, errors.New("gdeltgen: Start is required")
	}
	start := cfg.Start.UTC()
	if !start.Truncate(WindowDuration).Equal(start) {
		return nil, fmt.Errorf("gdeltgen: Start %s is not on a 15-minute boundary", start.Format(time.RFC3339Nano))
	}
	if cfg.Events < 0 || cfg.Mentions < 0 || cfg.GKG < 0 || cfg.GKGRowBytes < 0 {
		return nil, errors.New("gdeltgen: negative row counts")
	}
	v := loadVocab()
	g := &generator{cfg: cfg, v: v, start: start}
	ref := time.Date(2023, 7, 2, 0, 0, 0, 0, time.UTC)
	g.base0 = 1_300_000_000 + int64(start.Sub(ref)/WindowDuration)*2000
	if g.base0 < 100_000_000 {
		g.base0 = 100_000_000
	}
	g.nextID = g.base0
	g.seen = make([]uint32, 4096)

	// GKG richness: GCAM keys are included with probability scale * p^k(wc)
	g.gcamScale, g.extraScale = 1, 1
	if cfg.GKGRowBytes > 0 {
		// measured row model: ~2,000 bytes fixed, ~1,460 * extraScale for the lists, ~8,500 * gcamScale of GCAM counts
		ratio := float64(cfg.GKGRowBytes) / realisticGKGRowBytes
		g.extraScale = min(math.Sqrt(ratio), 1)
		g.gcamScale = min(max((float64(cfg.GKGRowBytes)-2020-1460*g.extraScale)/8500, 0.002), 3)
	}
	g.gcamThr = make([][]uint32, wcClasses)
	for c := range wcClasses {
		k := math.Pow(300/wcClassMid(c), 0.7)
		thr := make([]uint32, len(v.gcam))
		for i, key := range v.gcam {
			p := math.Pow(key.p, k)
			if key.value {
				p = key.p // value keys do not depend on the document length
			} else {
				p *= g.gcamScale
			}
			thr[i] = uint32(min(p, 1) * 4294967295)
		}
		g.gcamThr[c] = thr
	}
	return g, nil
}

const wcClasses = 40

// wc classes are log-spaced from 20 to 6000 words.
func wcClass(wc int) int {
	c := int(math.Log(float64(max(wc, 20))/20) / math.Log(300) * wcClasses)
	return min(max(c, 0), wcClasses-1)
}

func wcClassMid(c int) float64 { return 20 * math.Pow(300, (float64(c)+0.5)/wcClasses) }

func (g *generator) windowTime(i int) time.Time {
	return g.start.Add(time.Duration(i) * WindowDuration)
}

// counts returns the rows per table of window i.
func (g *generator) counts(i int) (e, m, k int) {
	t := g.windowTime(i)
	hour := float64(t.Hour()) + float64(t.Minute())/60
	diurnal := 1 + 0.22*math.Sin(2*math.Pi*(hour-9)/24)
	j := func() float64 { return 0.92 + 0.16*g.r.Float64() }
	e, m, k = g.cfg.Events, g.cfg.Mentions, g.cfg.GKG
	if e == 0 {
		e = clamp(int(1750*diurnal*j()), 1100, 2500)
	}
	if m == 0 {
		m = clamp(int(float64(e)*2.55*j()), 2500, 7000)
	}
	if k == 0 {
		k = clamp(int(1130*(1+0.08*(diurnal-1)/0.22)*(0.95+0.1*g.r.Float64())), 1020, 1210)
	}
	return
}

func clamp(x, lo, hi int) int { return min(max(x, lo), hi) }

// ---------------------------------------------------------------------------------------------------------------
// documents

type doc struct {
	seq      uint32
	mtype    int    // 1 web, 2 citation only, 3 core
	source   string // domain for web documents
	id       string // URL for web documents
	title    string
	wc       int // words
	docLen   int // characters
	pos, neg int // positive / negative words
	act, slf int // activity / self-group words
	tone     string
	sqlDate  time.Time // date of the events found in it
	pub      time.Time // publication time
	locs     []int     // geo vocabulary indexes
	lang     int       // translation source language index, -1 = English
	nSent    int
}

// newDoc makes a web document published shortly before window time t.
func (g *generator) newDoc(t time.Time) *doc {
	r := g.r
	v := g.v
	g.docSeq++
	d := &doc{seq: g.docSeq, mtype: 1, lang: -1}
	if g.cfg.Translation {
		d.lang = r.IntN(len(translationLangs))
		dl := translationLangs[d.lang].domains
		d.source = dl[r.IntN(len(dl))]
	} else {
		d.source = v.domains[r.IntN(len(v.domains))]
	}
	// word count: log-normal around 350 words with a tail of short pages, like the real wc:N
	// (q05 ~50, median ~350, q95 ~1,100, max several thousands)
	wc := int(math.Exp(5.86 + 0.72*r.NormFloat64()))
	if r.IntN(100) < 7 {
		wc = 25 + r.IntN(100)
	}
	d.wc = clamp(wc, 20, 9000)
	d.docLen = d.wc*6 + r.IntN(d.wc+1)
	d.nSent = max(1, d.docLen/140)
	d.pos = int(float64(d.wc) * 0.06 * r.Float64())
	d.neg = int(float64(d.wc) * 0.085 * r.Float64())
	d.act = int(float64(d.wc) * (0.12 + 0.14*r.Float64()))
	d.slf = int(float64(d.wc) * 0.03 * r.Float64())
	d.tone = fmtG(100 * float64(d.pos-d.neg) / float64(d.wc))

	nloc := 1 + r.IntN(3)
	for range nloc {
		d.locs = append(d.locs, v.geoW.pick(r))
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch x := r.IntN(100); {
	case x < 90:
		d.sqlDate = day
	case x < 93:
		d.sqlDate = day.AddDate(0, 0, -1)
	case x < 96:
		d.sqlDate = day.AddDate(0, 0, -2-r.IntN(19))
	case x < 98:
		d.sqlDate = day.AddDate(0, -1, 0)
	default:
		d.sqlDate = day.AddDate(-1, 0, 0)
	}
	lagMin := int(60 * 2 * r.ExpFloat64())
	d.pub = t.Add(-time.Duration(min(lagMin, 2880)) * time.Minute).Truncate(time.Minute)

	d.title = g.title(d)
	d.id = g.url(d)
	return d
}

// newNonWebDoc makes a citation-only (2) or CORE (3) document: a non-URL identifier.
func (g *generator) newNonWebDoc(t time.Time) *doc {
	r := g.r
	g.docSeq++
	d := &doc{seq: g.docSeq, lang: -1}
	d.wc = 150 + r.IntN(1500)
	d.docLen = d.wc * 6
	d.nSent = max(1, d.docLen/140)
	d.pos = int(float64(d.wc) * 0.05 * r.Float64())
	d.neg = int(float64(d.wc) * 0.07 * r.Float64())
	d.tone = fmtG(100 * float64(d.pos-d.neg) / float64(d.wc))
	d.sqlDate = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if r.IntN(3) < 2 {
		d.mtype = 2
		src := citationSources[r.IntN(len(citationSources))]
		d.source = src
		d.id = fmt.Sprintf("%s, %s, %q, ref %d", src, t.Format("2 Jan 2006"), g.titleCore(), 1000000+d.seq)
	} else {
		d.mtype = 3
		d.source = "CORE"
		d.id = fmt.Sprintf("doi:10.%d/%s.%d.%07d", 1000+r.IntN(9000), coreJournals[r.IntN(len(coreJournals))], t.Year(), d.seq)
	}
	return d
}

func mix32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

// ---------------------------------------------------------------------------------------------------------------
// one window

type evInfo struct {
	id       int64
	doc      int // index into docs
	a1, a2   int // actor vocabulary index, -1 = none
	code     int
	root     bool
	nMent    int
	articles int
	sources  int
	toneSum  float64
	geo      [3]int // actor1, actor2, action: geo vocab index, -1 = none
}

type mention struct {
	eventID   int64
	eventTime time.Time
	doc       int
	sentence  int
	a1, a2    bool // actor present (offset) or -1
}

func (g *generator) window(i int) Window {
	t := g.windowTime(i)
	g.pcg = rand.NewPCG(uint64(g.cfg.Seed), uint64(i)*0x9E3779B97F4A7C15+0x632BE59BD9B4E019)
	g.r = rand.New(g.pcg)
	r := g.r
	last := i == g.cfg.Windows-1
	nE, nM, nG := g.counts(i)

	// ---- documents of this window
	nWeb := clamp(int(math.Round(float64(nG)*0.7)), 1, max(1, nM/2))
	nEventDocs := clamp(int(math.Round(float64(nWeb)*0.85)), 1, max(1, nE))
	if nE == 0 {
		nEventDocs = 0
	}
	var docs []*doc
	var gkgHere []*doc // documents whose GKG row goes in this window
	var carryNext []*doc
	prevPool := slices.Clone(g.prevNoMention)
	for k := 0; k < nWeb; k++ {
		var d *doc
		if len(prevPool) > 0 && r.IntN(100) < 4 {
			// the document's GKG row was in the previous window
			j := r.IntN(len(prevPool))
			d = prevPool[j]
			prevPool = slices.Delete(prevPool, j, j+1)
			docs = append(docs, d)
			continue
		}
		d = g.newDoc(t)
		docs = append(docs, d)
		switch x := r.IntN(1000); {
		case x < 15: // no GKG row at all
		case x < 65 && !last: // GKG row in the next window
			carryNext = append(carryNext, d)
		default:
			gkgHere = append(gkgHere, d)
		}
	}
	nNonWeb := 0
	if nM >= 20 {
		nNonWeb = max(1, int(math.Round(float64(nM)*0.04/3)))
	}
	for range nNonWeb {
		docs = append(docs, g.newNonWebDoc(t))
	}

	// ---- events: consecutive ids, grouped by the document that first reported them
	if i > 0 {
		g.nextID += int64(r.IntN(4))
	}
	first := g.nextID
	evs := make([]evInfo, nE)
	cuts := randomComposition(r, nE, nEventDocs)
	for k, e := 0, 0; k < len(cuts); k++ {
		for range cuts[k] {
			evs[e] = g.newEvent(first+int64(e), k, docs[k])
			e++
		}
	}
	g.nextID = first + int64(nE)
	g.winFirst = append(g.winFirst, first)
	g.winCount = append(g.winCount, nE)

	// ---- mention rows
	share := 0.40 + 0.10*r.Float64()
	nEarlier := int(math.Round(float64(nM) * share))
	nSame := nM - nEarlier
	if nSame < nE {
		nSame = min(nE, nM)
		nEarlier = nM - nSame
	}
	ments := make([]mention, 0, nM)
	// a few documents carry many mentions, many carry one or two
	pickWebDoc := func() int { return int(float64(nWeb) * math.Pow(r.Float64(), 1.7)) }
	pickAnyDoc := func() int {
		if nNonWeb > 0 && r.IntN(100) < 4 {
			return nWeb + r.IntN(nNonWeb)
		}
		return pickWebDoc()
	}
	for e := 0; e < min(nE, nSame); e++ {
		ments = append(ments, mention{eventID: evs[e].id, eventTime: t, doc: evs[e].doc, a1: evs[e].a1 >= 0, a2: evs[e].a2 >= 0})
	}
	hot := max(1, nE/10)
	for k := nE; k < nSame && nE > 0; k++ {
		var e int
		if r.IntN(100) < 35 {
			e = r.IntN(hot) * (nE / hot) // a few events are widely covered
		} else {
			e = r.IntN(nE)
		}
		d := pickAnyDoc()
		if r.IntN(100) < 25 {
			d = evs[e].doc // another sentence of the same article
		}
		ments = append(ments, mention{eventID: evs[e].id, eventTime: t, doc: d, a1: evs[e].a1 >= 0, a2: evs[e].a2 >= 0})
	}
	for k := 0; k < nEarlier; k++ {
		if k > 0 && r.IntN(100) < 12 {
			prev := ments[len(ments)-1]
			if prev.eventTime.Before(t) {
				ments = append(ments, prev) // same (event, document), another sentence
				continue
			}
		}
		id, et := g.earlierEvent(i)
		ments = append(ments, mention{eventID: id, eventTime: et, doc: pickAnyDoc(), a1: r.IntN(100) < 88, a2: r.IntN(100) < 65})
	}
	// sentences: distinct for repeated (event, doc) pairs
	type pair struct {
		id  int64
		doc int
	}
	used := make(map[pair][]int, len(ments))
	for k := range ments {
		m := &ments[k]
		d := docs[m.doc]
		p := pair{m.eventID, m.doc}
		s := 1 + r.IntN(d.nSent)
		if r.IntN(100) < 30 {
			s = 1 + r.IntN(min(d.nSent, 3)) // leads carry most events
		}
		for slices.Contains(used[p], s) {
			s++
		}
		used[p] = append(used[p], s)
		m.sentence = s
	}
	// order: by event, then document, then sentence
	slices.SortStableFunc(ments, func(a, b mention) int {
		if a.eventID != b.eventID {
			return cmpInt64(a.eventID, b.eventID)
		}
		if a.doc != b.doc {
			return a.doc - b.doc
		}
		return a.sentence - b.sentence
	})
	// aggregate same-window mentions into the event rows
	{
		type es struct {
			e   int
			doc int
		}
		seenDoc := make(map[es]bool)
		seenSrc := make(map[string]bool)
		for _, m := range ments {
			if !m.eventTime.Equal(t) {
				continue
			}
			e := int(m.eventID - first)
			ev := &evs[e]
			ev.nMent++
			ev.toneSum += parseF(docs[m.doc].tone)
			if !seenDoc[es{e, m.doc}] {
				seenDoc[es{e, m.doc}] = true
				ev.articles++
				key := strconv.Itoa(e) + "\x00" + docs[m.doc].source
				if !seenSrc[key] {
					seenSrc[key] = true
					ev.sources++
				}
			}
		}
	}

	// ---- GKG documents: carried from the previous window, this window's, and documents without events
	gkgDocs := append(g.carry, gkgHere...)
	var noMention []*doc
	for len(gkgDocs) < nG {
		d := g.newDoc(t)
		gkgDocs = append(gkgDocs, d)
		noMention = append(noMention, d)
	}
	r.Shuffle(len(gkgDocs), func(a, b int) { gkgDocs[a], gkgDocs[b] = gkgDocs[b], gkgDocs[a] })
	g.carry = carryNext
	g.prevNoMention = noMention

	// ---- render
	w := Window{Time: t}
	w.Export = g.renderExport(t, evs, docs)
	if g.cfg.Reexports > 0 {
		w.Export = g.reexport(i, w.Export)
	}
	w.Mentions = g.renderMentions(t, ments, docs)
	w.GKG = g.renderGKG(t, gkgDocs)
	return w
}

// reexport remembers window i's export lines and appends cfg.Reexports copies of earlier windows' rows, with
// DATEADDED (the 60th column) set to window i.
func (g *generator) reexport(i int, export []byte) []byte {
	var lines [][]byte
	for _, l := range strings.SplitAfter(string(export), "\n") {
		if l != "" {
			lines = append(lines, []byte(l))
		}
	}
	g.pastExport = append(g.pastExport, lines)
	if i == 0 {
		return export
	}
	r := rand.New(rand.NewPCG(uint64(g.cfg.Seed)^0x5EED5EED, uint64(i)))
	id := []byte(WindowID(g.windowTime(i)))
	out := slices.Clone(export)
	for k := 0; k < g.cfg.Reexports; k++ {
		lag := 1 + r.IntN(8)
		if k%2 == 1 {
			lag = 1 + r.IntN(400)
		}
		j := max(i-lag, 0)
		for j > 0 && len(g.pastExport[j]) == 0 {
			j--
		}
		past := g.pastExport[j]
		if len(past) == 0 {
			continue
		}
		fields := strings.Split(strings.TrimSuffix(string(past[r.IntN(len(past))]), "\n"), "\t")
		if len(fields) != 61 {
			continue
		}
		fields[59] = string(id)
		out = append(out, strings.Join(fields, "\t")...)
		out = append(out, '\n')
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// randomComposition splits n items into k non-empty consecutive groups of random sizes.
func randomComposition(r *rand.Rand, n, k int) []int {
	if n == 0 || k == 0 {
		return nil
	}
	k = min(k, n)
	// choose k-1 distinct cut points in 1..n-1
	cutSet := make(map[int]bool, k)
	cuts := make([]int, 0, k+1)
	for len(cuts) < k-1 {
		c := 1 + r.IntN(n-1)
		if !cutSet[c] {
			cutSet[c] = true
			cuts = append(cuts, c)
		}
	}
	sort.Ints(cuts)
	cuts = append(cuts, n)
	sizes := make([]int, k)
	prev := 0
	for j, c := range cuts {
		sizes[j] = c - prev
		prev = c
	}
	return sizes
}

// earlierEvent picks an event first seen before window i: lag from 15 minutes to 6 weeks, most within a day.
func (g *generator) earlierEvent(i int) (int64, time.Time) {
	r := g.r
	var lag int
	switch x := r.IntN(100); {
	case x < 45:
		lag = 1 + r.IntN(8)
	case x < 77:
		lag = 9 + r.IntN(88)
	case x < 93:
		lag = 97 + r.IntN(576)
	default:
		lag = 673 + r.IntN(earliestLagWindows-672)
	}
	j := i - lag
	et := g.windowTime(j)
	if j >= 0 && g.winCount[j] > 0 {
		return g.winFirst[j] + int64(r.IntN(g.winCount[j])), et
	}
	if j >= 0 { // a generated window without events: fall back to the closest earlier window with events
		for ; j >= 0; j-- {
			if g.winCount[j] > 0 {
				return g.winFirst[j] + int64(r.IntN(g.winCount[j])), g.windowTime(j)
			}
		}
		j = -1
		et = g.windowTime(j)
	}
	// before the generated range: plausible older id, below the first generated id
	return g.base0 + int64(j)*2000 + int64(r.IntN(1800)), et
}

func (g *generator) newEvent(id int64, docIdx int, d *doc) evInfo {
	r := g.r
	v := g.v
	ev := evInfo{id: id, doc: docIdx, a1: -1, a2: -1, geo: [3]int{-1, -1, -1}}
	if r.IntN(100) < 92 {
		ev.a1 = v.actorW.pick(r)
	}
	if r.IntN(100) < 74 {
		ev.a2 = v.actorW.pick(r)
	}
	ev.code = v.codeW.pick(r)
	ev.root = r.IntN(100) < 60
	action := d.locs[r.IntN(len(d.locs))]
	if r.IntN(100) < 90 {
		ev.geo[2] = action
	}
	for a, present := range []bool{ev.a1 >= 0, ev.a2 >= 0} {
		if !present || r.IntN(100) < 8 {
			continue
		}
		if r.IntN(100) < 70 {
			ev.geo[a] = action
		} else {
			ev.geo[a] = d.locs[r.IntN(len(d.locs))]
		}
	}
	return ev
}

func parseF(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// fmtG formats like GDELT: up to 15 significant digits, shortest form.
func fmtG(f float64) string { return string(appendG(nil, f)) }

func appendG(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', 15, 64)
}

// appendGold formats a Goldstein score like the export: always one decimal at least ("-10.0", "1.9").
func appendGold(b []byte, f float64) []byte {
	if f == math.Trunc(f) {
		return strconv.AppendFloat(b, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// ---------------------------------------------------------------------------------------------------------------
// rendering: export

func (g *generator) renderExport(t time.Time, evs []evInfo, docs []*doc) []byte {
	v := g.v
	b := make([]byte, 0, len(evs)*430+64)
	dateAdded := WindowID(t)
	for k := range evs {
		ev := &evs[k]
		d := docs[ev.doc]
		b = strconv.AppendInt(b, ev.id, 10)
		b = append(b, '\t')
		sd := d.sqlDate
		b = strconv.AppendInt(b, int64(sd.Year()*10000+int(sd.Month())*100+sd.Day()), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(sd.Year()*100+int(sd.Month())), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(sd.Year()), 10)
		b = append(b, '\t')
		b = append(b, fractionDate(sd)...)
		b = append(b, '\t')
		b = appendActor(b, v, ev.a1)
		b = append(b, '\t')
		b = appendActor(b, v, ev.a2)
		b = append(b, '\t')
		if ev.root {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		c := &v.codes[ev.code]
		b = append(b, '\t')
		b = append(b, c.code...)
		b = append(b, '\t')
		b = append(b, c.base...)
		b = append(b, '\t')
		b = append(b, c.root...)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(c.quad), 10)
		b = append(b, '\t')
		b = appendGold(b, c.gold)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(max(ev.nMent, 1)), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(max(ev.sources, 1)), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(max(ev.articles, 1)), 10)
		b = append(b, '\t')
		if ev.nMent > 0 {
			b = appendG(b, ev.toneSum/float64(ev.nMent))
		} else {
			b = append(b, d.tone...)
		}
		for _, gi := range ev.geo {
			b = append(b, '\t')
			if gi < 0 {
				b = append(b, "0\t\t\t\t\t\t\t"...)
			} else {
				b = append(b, v.geo[gi].export...)
			}
		}
		b = append(b, '\t')
		b = append(b, dateAdded...)
		b = append(b, '\t')
		b = append(b, d.id...)
		b = append(b, '\n')
	}
	return b
}

// fractionDate is YYYY + ((MONTH-1)*30 + DAY)/365 rounded to 4 places, as in the real data.
func fractionDate(d time.Time) string {
	f := float64(d.Year()) + float64((int(d.Month())-1)*30+d.Day())/365
	f = math.Round(f*10000) / 10000
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func appendActor(b []byte, v *vocab, a int) []byte {
	if a < 0 {
		return append(b, "\t\t\t\t\t\t\t\t\t"...)
	}
	return append(b, v.actors[a]...)
}

// ---------------------------------------------------------------------------------------------------------------
// rendering: mentions

var confidences = []int{10, 10, 10, 10, 20, 20, 30, 40, 50, 50, 50, 60, 70, 80, 90, 100, 100, 100, 100}

func (g *generator) renderMentions(t time.Time, ments []mention, docs []*doc) []byte {
	r := g.r
	b := make([]byte, 0, len(ments)*240+64)
	wid := WindowID(t)
	for _, m := range ments {
		d := docs[m.doc]
		b = strconv.AppendInt(b, m.eventID, 10)
		b = append(b, '\t')
		b = append(b, WindowID(m.eventTime)...)
		b = append(b, '\t')
		b = append(b, wid...)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(d.mtype), 10)
		b = append(b, '\t')
		b = append(b, d.source...)
		b = append(b, '\t')
		b = append(b, d.id...)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(m.sentence), 10)
		sentStart := (m.sentence - 1) * d.docLen / d.nSent
		for _, present := range []bool{m.a1, m.a2} {
			b = append(b, '\t')
			if present {
				b = strconv.AppendInt(b, int64(sentStart+r.IntN(130)), 10)
			} else {
				b = append(b, "-1"...)
			}
		}
		b = append(b, '\t')
		if r.IntN(100) < 4 {
			b = append(b, "-1"...)
		} else {
			b = strconv.AppendInt(b, int64(sentStart+r.IntN(140)), 10)
		}
		b = append(b, '\t')
		if r.IntN(100) < 85 {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(confidences[r.IntN(len(confidences))]), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(d.docLen), 10)
		b = append(b, '\t')
		b = append(b, d.tone...)
		b = append(b, '\t')
		if d.lang >= 0 {
			b = append(b, translationLangs[d.lang].info...)
		}
		b = append(b, '\t', '\n')
	}
	return b
}

// ---------------------------------------------------------------------------------------------------------------
// rendering: GKG

// stamp starts a new "seen" generation for distinct picks.
func (g *generator) stamp() uint32 {
	g.mark++
	if g.mark == 0 {
		clear(g.seen)
		g.mark = 1
	}
	return g.mark
}

func (g *generator) renderGKG(t time.Time, docs []*doc) []byte {
	est := len(docs) * int(2020+1460*g.extraScale+8500*g.gcamScale)
	b := make([]byte, 0, est+est/8+1024)
	wid := WindowID(t)
	for n, d := range docs {
		b = g.appendGKGRow(b, wid, n, d)
	}
	return b
}

type nameOcc struct {
	name string
	off  int
}

func (g *generator) appendGKGRow(b []byte, wid string, n int, d *doc) []byte {
	r := g.r
	v := g.v
	xs := g.extraScale
	scaled := func(n int) int { return max(1, int(float64(n)*xs+0.5)) }
	off := func() int { return r.IntN(max(d.docLen, 1)) }

	// 1-5
	b = append(b, wid...)
	b = append(b, '-')
	if d.lang >= 0 {
		b = append(b, 'T')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\t')
	b = append(b, wid...)
	b = append(b, "\t1\t"...)
	b = append(b, d.source...)
	b = append(b, '\t')
	b = append(b, d.id...)
	b = append(b, '\t')

	// 6-7 counts (V1 and V2.1 share the blocks; V2.1 adds the character offset)
	if r.IntN(100) < 15 {
		nc := 1 + r.IntN(scaled(8))
		type cnt struct {
			typ, obj      string
			num, loc, off int
		}
		cs := make([]cnt, nc)
		for k := range cs {
			c := cnt{typ: v.countTypes[v.countW.pick(r)], num: 1 + int(r.ExpFloat64()*12), loc: -1, off: off()}
			if r.IntN(100) < 40 {
				c.obj = countObjects[r.IntN(len(countObjects))]
			}
			if r.IntN(100) < 85 {
				c.loc = d.locs[r.IntN(len(d.locs))]
			}
			cs[k] = c
		}
		for pass := range 2 {
			for _, c := range cs {
				b = append(b, c.typ...)
				b = append(b, '#')
				b = strconv.AppendInt(b, int64(c.num), 10)
				b = append(b, '#')
				b = append(b, c.obj...)
				b = append(b, '#')
				if c.loc < 0 {
					b = append(b, "0######"...)
				} else {
					b = append(b, v.geo[c.loc].v1...)
				}
				if pass == 1 {
					b = append(b, '#')
					b = strconv.AppendInt(b, int64(c.off), 10)
				}
				b = append(b, ';')
			}
			b = append(b, '\t')
		}
	} else {
		b = append(b, '\t', '\t')
	}

	// 8-9 themes
	if r.IntN(100) < 90 {
		nt := 1 + int(float64(scaled(22))*r.ExpFloat64()*math.Sqrt(float64(d.wc)/450))
		nt = min(nt, 150)
		mk := g.stamp()
		themes := make([]int, 0, nt)
		for range nt {
			th := v.themeW.pick(r)
			if g.seen[th] != mk {
				g.seen[th] = mk
				themes = append(themes, th)
			}
		}
		for _, th := range themes {
			b = append(b, v.themes[th]...)
			b = append(b, ';')
		}
		b = append(b, '\t')
		for _, th := range themes {
			for range 1 + r.IntN(2) + r.IntN(2)*r.IntN(3) {
				b = append(b, v.themes[th]...)
				b = append(b, ',')
				b = strconv.AppendInt(b, int64(off()), 10)
				b = append(b, ';')
			}
		}
		b = append(b, '\t')
	} else {
		b = append(b, '\t', '\t')
	}

	// 10-11 locations
	if r.IntN(100) < 79 {
		locs := slices.Clone(d.locs)
		for range r.IntN(scaled(4)) {
			locs = append(locs, v.geoW.pick(r))
		}
		mk := g.stamp()
		uniq := locs[:0]
		for _, l := range locs {
			if g.seen[l] != mk {
				g.seen[l] = mk
				uniq = append(uniq, l)
			}
		}
		malformed := r.IntN(200) == 0
		var bad [2]string
		if malformed {
			bad = malformedLocs[r.IntN(len(malformedLocs))]
		}
		for k, l := range uniq {
			if k > 0 {
				b = append(b, ';')
			}
			b = append(b, v.geo[l].v1...)
		}
		if malformed {
			b = append(b, ';')
			b = append(b, bad[0]...)
		}
		b = append(b, '\t')
		first := true
		for _, l := range uniq {
			for range 1 + int(r.ExpFloat64()*2.4*math.Sqrt(float64(d.wc)/350)) {
				if !first {
					b = append(b, ';')
				}
				first = false
				b = append(b, v.geo[l].v2...)
				b = strconv.AppendInt(b, int64(off()), 10)
			}
		}
		if malformed {
			b = append(b, ';')
			b = append(b, bad[1]...)
			b = append(b, '#')
			b = strconv.AppendInt(b, int64(off()), 10)
		}
		b = append(b, '\t')
	} else {
		b = append(b, '\t', '\t')
	}

	// 12-15 persons and organizations
	var persons, orgs []nameOcc
	if r.IntN(100) < 75 {
		np := 1 + r.IntN(scaled(4)) + r.IntN(2)*r.IntN(3)
		for range np {
			p := g.personName()
			for range 1 + r.IntN(2) + r.IntN(2)*r.IntN(2) {
				persons = append(persons, nameOcc{p, off()})
			}
		}
	}
	if r.IntN(100) < 72 {
		no := 1 + r.IntN(scaled(4))
		for range no {
			o := orgNames[r.IntN(len(orgNames))]
			for range 1 + r.IntN(2) {
				orgs = append(orgs, nameOcc{o, off()})
			}
		}
	}
	for _, list := range [][]nameOcc{persons, orgs} {
		firstName := true
		var prev []string
		for _, p := range list {
			if slices.Contains(prev, p.name) {
				continue
			}
			prev = append(prev, p.name)
			if !firstName {
				b = append(b, ';')
			}
			firstName = false
			b = append(b, strings.ToLower(p.name)...)
		}
		b = append(b, '\t')
		for k, p := range list {
			if k > 0 {
				b = append(b, ';')
			}
			b = append(b, p.name...)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(p.off), 10)
		}
		b = append(b, '\t')
	}

	// 16 tone
	wc := float64(d.wc)
	b = append(b, d.tone...)
	b = append(b, ',')
	b = appendG(b, 100*float64(d.pos)/wc)
	b = append(b, ',')
	b = appendG(b, 100*float64(d.neg)/wc)
	b = append(b, ',')
	b = appendG(b, 100*float64(d.pos+d.neg)/wc)
	b = append(b, ',')
	b = appendG(b, 100*float64(d.act)/wc)
	b = append(b, ',')
	b = appendG(b, 100*float64(d.slf)/wc)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(d.wc), 10)
	b = append(b, '\t')

	// 17 dates: resolution#month#day#year#offset
	if r.IntN(100) < 39 {
		for k := range 1 + r.IntN(scaled(3)) {
			if k > 0 {
				b = append(b, ';')
			}
			y := d.pub.Year() - int(r.ExpFloat64()*8)
			m := 1 + r.IntN(12)
			day := 1 + r.IntN(28)
			switch x := r.IntN(100); {
			case x < 47:
				b = fmt.Appendf(b, "1#0#0#%d#%d", y, off())
			case x < 49:
				b = fmt.Appendf(b, "2#%d#0#%d#%d", m, y, off())
			case x < 51:
				b = fmt.Appendf(b, "3#%d#%d#%d#%d", m, day, y, off())
			default:
				b = fmt.Appendf(b, "4#%d#%d#0#%d", m, day, off())
			}
		}
	}
	b = append(b, '\t')

	// 18 GCAM
	b = g.appendGCAM(b, d)
	b = append(b, '\t')

	// 19-22 images and embeds
	if r.IntN(100) < 85 {
		b = g.appendImage(b, d)
	}
	b = append(b, '\t')
	if r.IntN(100) < 7 {
		for k := range 1 + r.IntN(4) {
			if k > 0 {
				b = append(b, ';')
			}
			b = g.appendImage(b, d)
		}
	}
	b = append(b, '\t')
	if r.IntN(100) < 3 {
		for range 1 + r.IntN(3) {
			if r.IntN(2) == 0 {
				b = append(b, "https://pic.twitter.com/"...)
				b = appendRandStr(b, r, 10)
			} else {
				b = append(b, "https://instagram.com/p/"...)
				b = appendRandStr(b, r, 11)
			}
			b = append(b, ';')
		}
	}
	b = append(b, '\t')
	if r.IntN(100) < 45 {
		for range 1 + r.IntN(scaled(3)) {
			b = append(b, "https://youtube.com/embed/"...)
			b = appendRandStr(b, r, 11)
			b = append(b, ';')
		}
	}
	b = append(b, '\t')

	// 23 quotations: offset|length|verb|quote joined by #
	if r.IntN(100) < 20 {
		for k := range 1 + r.IntN(scaled(3)) {
			if k > 0 {
				b = append(b, '#')
			}
			q := g.sentence(5 + r.IntN(30))
			b = strconv.AppendInt(b, int64(off()), 10)
			b = append(b, '|')
			b = strconv.AppendInt(b, int64(len(q)), 10)
			b = append(b, '|')
			if r.IntN(50) == 0 {
				b = append(b, quoteVerbs[r.IntN(len(quoteVerbs))]...)
			}
			b = append(b, '|')
			b = append(b, q...)
		}
	}
	b = append(b, '\t')

	// 24 all names: persons, organizations, places and other proper names, by offset
	if r.IntN(100) < 94 {
		all := append(slices.Clone(persons), orgs...)
		for _, l := range d.locs {
			all = append(all, nameOcc{v.geo[l].short, off()})
		}
		for range r.IntN(scaled(9)) {
			all = append(all, nameOcc{properNames[r.IntN(len(properNames))], off()})
		}
		slices.SortFunc(all, func(a, b nameOcc) int { return a.off - b.off })
		for k, a := range all {
			if k > 0 {
				b = append(b, ';')
			}
			b = append(b, a.name...)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(a.off), 10)
		}
	}
	b = append(b, '\t')

	// 25 amounts: amount,object,offset;
	if r.IntN(100) < 77 {
		for range 1 + int(r.ExpFloat64()*3.5*xs) {
			amt := int64(1 + r.ExpFloat64()*30)
			if r.IntN(6) == 0 {
				amt *= int64([]int{100, 1000, 10000, 1000000}[r.IntN(4)])
			}
			b = strconv.AppendInt(b, amt, 10)
			b = append(b, ',')
			b = append(b, amountObjects[r.IntN(len(amountObjects))]...)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(off()), 10)
			b = append(b, ';')
		}
	}
	b = append(b, '\t')

	// 26 translation info
	if d.lang >= 0 {
		b = append(b, translationLangs[d.lang].info...)
	}
	b = append(b, '\t')

	// 27 extras
	if r.IntN(100) < 43 {
		b = append(b, "<PAGE_LINKS>"...)
		for k := range 1 + r.IntN(scaled(5)) {
			if k > 0 {
				b = append(b, ';')
			}
			if r.IntN(5) == 0 {
				b = append(b, "https://twitter.com/"...)
				b = appendRandStr(b, r, 6+r.IntN(8))
			} else {
				b = append(b, "https://www."...)
				b = append(b, d.source...)
				b = append(b, '/')
				b = append(b, sections[r.IntN(len(sections))]...)
				b = append(b, '/')
				b = append(b, slug(g.titleCore())...)
			}
		}
		b = append(b, "</PAGE_LINKS>"...)
	}
	if r.IntN(100) < 44 {
		b = append(b, "<PAGE_AUTHORS>"...)
		if r.IntN(4) == 0 {
			b = append(b, agencyAuthors[r.IntN(len(agencyAuthors))]...)
		} else {
			b = append(b, firstNames[r.IntN(len(firstNames))]...)
			b = append(b, ' ')
			b = append(b, lastNames[r.IntN(len(lastNames))]...)
		}
		b = append(b, "</PAGE_AUTHORS>"...)
	}
	if r.IntN(100) < 64 {
		b = append(b, "<PAGE_PRECISEPUBTIMESTAMP>"...)
		b = append(b, WindowID(d.pub)...)
		b = append(b, "</PAGE_PRECISEPUBTIMESTAMP>"...)
	}
	if r.IntN(100) < 31 {
		b = append(b, "<PAGE_ALTURL_AMP>"...)
		b = append(b, strings.TrimSuffix(d.id, "/")...)
		b = append(b, "/amp"...)
		b = append(b, "</PAGE_ALTURL_AMP>"...)
	}
	b = append(b, "<PAGE_TITLE>"...)
	b = append(b, d.title...)
	b = append(b, "</PAGE_TITLE>"...)
	b = append(b, '\n')
	return b
}

// appendGCAM writes wc:N then the dictionary counts and values in key order, like the real V2GCAM.
func (g *generator) appendGCAM(b []byte, d *doc) []byte {
	b = append(b, "wc:"...)
	b = strconv.AppendInt(b, int64(d.wc), 10)
	thr := g.gcamThr[wcClass(d.wc)]
	keys := g.v.gcam
	pcg := g.pcg
	wc := float64(d.wc)
	var bits uint64
	nbits := 0
	for k := range keys {
		if nbits == 0 {
			bits = pcg.Uint64()
			nbits = 2
		}
		x := uint32(bits)
		bits >>= 32
		nbits--
		if x >= thr[k] {
			continue
		}
		key := &keys[k]
		b = append(b, ',')
		b = append(b, key.name...)
		if key.value {
			f := key.mean + key.sd*g.r.NormFloat64()
			f = min(max(f, key.lo), key.hi)
			den := float64(2 + g.r.IntN(60))
			f = math.Round(f*den) / den
			b = appendG(b, f)
		} else {
			n := 1 + int(wc*key.rate*g.r.ExpFloat64())
			b = strconv.AppendInt(b, int64(n), 10)
		}
	}
	return b
}

const randChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func appendRandStr(b []byte, r *rand.Rand, n int) []byte {
	for range n {
		b = append(b, randChars[r.IntN(len(randChars))])
	}
	return b
}

func appendHex(b []byte, r *rand.Rand, n int) []byte {
	const hx = "0123456789abcdef"
	for range n {
		b = append(b, hx[r.IntN(16)])
	}
	return b
}

func (g *generator) appendImage(b []byte, d *doc) []byte {
	r := g.r
	switch r.IntN(4) {
	case 0:
		b = append(b, "https://www."...)
		b = append(b, d.source...)
		b = append(b, "/wp-content/uploads/"...)
		b = fmt.Appendf(b, "%d/%02d/", d.pub.Year(), int(d.pub.Month()))
		b = append(b, slug(g.titleCore())...)
		b = append(b, ".jpg"...)
	case 1:
		b = append(b, "https://cdn."...)
		b = append(b, d.source...)
		b = append(b, "/images/"...)
		b = appendHex(b, r, 8)
		b = append(b, '-')
		b = appendHex(b, r, 4)
		b = append(b, '/')
		b = appendRandStr(b, r, 24)
		b = append(b, ".webp"...)
	case 2:
		b = append(b, "https://static."...)
		b = append(b, d.source...)
		b = append(b, "/media/"...)
		b = strconv.AppendInt(b, d.pub.Unix()*1000+int64(r.IntN(1000)), 10)
		b = append(b, "_1200x630.jpg"...)
	default:
		b = append(b, "https://i0.wp.com/"...)
		b = append(b, d.source...)
		b = fmt.Appendf(b, "/files/%d/%02d/", d.pub.Year(), int(d.pub.Month()))
		b = appendRandStr(b, r, 12)
		b = append(b, ".jpeg?resize=1024%2C576&ssl=1"...)
	}
	return b
}

// ---------------------------------------------------------------------------------------------------------------
// text

func (g *generator) personName() string {
	r := g.r
	if r.IntN(100) < 12 {
		return famousPersons[r.IntN(len(famousPersons))]
	}
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

func (g *generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *generator) place() string {
	return g.v.geo[g.v.geoW.pick(g.r)].short
}

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// titleCore is a headline without decorations.
func (g *generator) titleCore() string {
	r := g.r
	switch r.IntN(10) {
	case 0:
		return fmt.Sprintf("%s %s %s %s", g.place(), g.pick(nouns), g.pick(verbs3), g.pick(objects))
	case 1:
		return fmt.Sprintf("%s %s %s after %s", g.personName(), g.pick(verbs3), g.pick(objects), g.pick(topics))
	case 2:
		return fmt.Sprintf("%d %s %s in %s %s", 2+r.IntN(40), g.pick(pluralNouns), g.pick(pastVerbs), g.place(), g.pick(topics))
	case 3:
		return fmt.Sprintf("%s to %s %s amid %s", capFirst(g.pick(orgNames)), g.pick(verbsBase), g.pick(objects), g.pick(topics))
	case 4:
		return fmt.Sprintf("How %s %s are coping with %s", g.place(), g.pick(pluralNouns), g.pick(topics))
	case 5:
		return fmt.Sprintf("%s: what we know so far", capFirst(g.pick(adjectives)+" "+g.pick(topics)+" in "+g.place()))
	case 6:
		return fmt.Sprintf("%s %s hits %s, %d %s %s", capFirst(g.pick(adjectives)), g.pick(topics), g.place(), 2+r.IntN(300), g.pick(pluralNouns), g.pick(pastVerbs))
	case 7:
		return fmt.Sprintf("%s's %s %s %s", g.place(), g.pick(nouns), g.pick(verbs3), g.pick(objects))
	case 8:
		return fmt.Sprintf("%s %s %s over %s", capFirst(g.pick(pluralNouns)), g.pick(verbsBase), g.pick(objects), g.pick(topics))
	default:
		return fmt.Sprintf("%s says %s %s %s", g.personName(), g.pick(nouns), g.pick(modal), g.pick(verbsBase)+" "+g.pick(objects))
	}
}

// title decorates a headline now and then with quotes, apostrophes, an entity or a site suffix, like real titles.
func (g *generator) title(d *doc) string {
	r := g.r
	t := g.titleCore()
	switch x := r.IntN(100); {
	case x < 6:
		q := g.sentence(4 + r.IntN(6))
		t = "'" + strings.TrimSuffix(q, ".") + "': " + t
	case x < 10:
		t = "\"" + strings.TrimSuffix(g.sentence(3+r.IntN(5)), ".") + ",\" " + g.personName() + " says"
	case x < 13:
		t += " &amp; " + g.pick(topics)
	case x < 22:
		t += " - " + siteName(d.source)
	case x < 26:
		t = "WATCH: " + t
	case x < 30:
		t = "LIVE: " + t
	}
	return t
}

func siteName(domain string) string {
	s := domain
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentence is free text for quotes: no tabs, newlines, '#' or '|'.
func (g *generator) sentence(n int) string {
	r := g.r
	var sb strings.Builder
	for k := range n {
		w := commonWords[int(float64(len(commonWords))*math.Pow(r.Float64(), 2.2))]
		if k == 0 {
			w = capFirst(w)
		} else {
			sb.WriteByte(' ')
		}
		sb.WriteString(w)
		if k > 0 && k < n-1 && r.IntN(14) == 0 {
			sb.WriteByte(',')
		}
	}
	sb.WriteByte('.')
	return sb.String()
}

func strHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return mix32(h)
}

func slug(title string) string {
	var sb strings.Builder
	dash := false
	for _, c := range strings.ToLower(title) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			sb.WriteRune(c)
			dash = false
		case c == '\'' || c == '"' || c == '&' || c == ';':
		default:
			if !dash && sb.Len() > 0 {
				sb.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(sb.String(), "-")
}

// url builds a unique article URL for d in one of the common news site shapes.
func (g *generator) url(d *doc) string {
	r := g.r
	s := slug(d.title)
	if len(s) > 90 {
		s = strings.TrimSuffix(s[:90], "-")
	}
	aid := 10000000 + int(d.seq)*97 + r.IntN(97) // unique within a run, growing like real article ids
	p := d.pub
	host := d.source
	if strings.Count(host, ".") == 1 {
		host = "www." + host
	}
	switch strHash(d.source) % 6 { // one URL shape per site
	case 0:
		return fmt.Sprintf("https://%s/news/%d/%s", host, aid, s)
	case 1:
		return fmt.Sprintf("https://%s/%d/%02d/%02d/%s-%d/", host, p.Year(), int(p.Month()), p.Day(), s, aid)
	case 2:
		return fmt.Sprintf("https://%s/%s/%s-%d.html", host, g.pick(sections), s, aid)
	case 3:
		var hb []byte
		hb = appendHex(hb, r, 32)
		return fmt.Sprintf("https://%s/article/%s-%s", host, s, hb)
	case 4:
		return fmt.Sprintf("https://%s/story/%s/%d/%02d/%02d/%s/%d/", host, g.pick(sections), p.Year(), int(p.Month()), p.Day(), s, aid)
	default:
		return fmt.Sprintf("https://%s/%s/%s/article%d.ece", host, g.pick(sections), s, aid)
	}
}

// ---------------------------------------------------------------------------------------------------------------
// vocabularies

type weighted struct {
	cum   []uint32
	total uint32
}

func newWeighted(ws []int) weighted {
	w := weighted{cum: make([]uint32, len(ws))}
	var s uint32
	for i, x := range ws {
		s += uint32(max(x, 1))
		w.cum[i] = s
	}
	w.total = s
	return w
}

func (w *weighted) pick(r *rand.Rand) int {
	x := r.Uint32N(w.total)
	return sort.Search(len(w.cum), func(i int) bool { return w.cum[i] > x })
}

type eventCode struct {
	code, base, root string
	quad             int
	gold             float64
}

type geoEntry struct {
	export string // 8 tab-separated export geo fields
	v1     string // type#name#cc#adm1#lat#long#fid
	v2     string // type#name#cc#adm1#adm2#lat#long#fid# (offset follows)
	short  string // first component of the name
}

type gcamKey struct {
	name     string // "c2.104:"
	p        float64
	value    bool
	rate     float64 // counts: mean count per word
	mean, sd float64 // values
	lo, hi   float64
}

type vocab struct {
	codes      []eventCode
	codeW      weighted
	actors     []string // 10 tab-separated fields
	actorW     weighted
	geo        []geoEntry
	geoW       weighted
	domains    []string
	themes     []string
	themeW     weighted
	countTypes []string
	countW     weighted
	gcam       []gcamKey
}

var (
	vocabOnce sync.Once
	theVocab  *vocab
)

func loadVocab() *vocab {
	vocabOnce.Do(func() { theVocab = buildVocab() })
	return theVocab
}

func quadClass(root string) int {
	n, _ := strconv.Atoi(root)
	switch {
	case n <= 5:
		return 1
	case n <= 9:
		return 2
	case n <= 14:
		return 3
	default:
		return 4
	}
}

func buildVocab() *vocab {
	v := &vocab{}
	var ws []int
	for _, f := range strings.Fields(vocabEventCodes) {
		p := strings.Split(f, ":")
		gold, _ := strconv.ParseFloat(p[1], 64)
		w, _ := strconv.Atoi(p[2])
		c := eventCode{code: p[0], base: p[0][:3], root: p[0][:2], gold: gold}
		c.quad = quadClass(c.root)
		v.codes = append(v.codes, c)
		ws = append(ws, w)
	}
	v.codeW = newWeighted(ws)

	ws = ws[:0]
	for _, line := range strings.Split(vocabActors, "\n") {
		p := strings.Split(line, "|")
		w, _ := strconv.Atoi(p[10])
		v.actors = append(v.actors, strings.Join(p[:10], "\t"))
		ws = append(ws, w)
	}
	v.actorW = newWeighted(ws)

	ws = ws[:0]
	for _, line := range strings.Split(vocabGeo, "\n") {
		p := strings.Split(line, "|") // type name cc adm1 adm2 lat long fid weight
		w, _ := strconv.Atoi(p[8])
		short := p[1]
		if i := strings.IndexByte(short, ','); i > 0 {
			short = short[:i]
		}
		v.geo = append(v.geo, geoEntry{
			export: strings.Join(p[:8], "\t"),
			v1:     strings.Join([]string{p[0], p[1], p[2], p[3], p[5], p[6], p[7]}, "#"),
			v2:     strings.Join(p[:8], "#") + "#",
			short:  short,
		})
		ws = append(ws, w)
	}
	v.geoW = newWeighted(ws)

	v.domains = strings.Fields(vocabDomains)

	ws = ws[:0]
	for _, f := range strings.Fields(vocabThemes) {
		i := strings.LastIndexByte(f, ':')
		w, _ := strconv.Atoi(f[i+1:])
		v.themes = append(v.themes, f[:i])
		ws = append(ws, w)
	}
	v.themeW = newWeighted(ws)

	ws = ws[:0]
	for _, f := range strings.Fields(vocabCountTypes) {
		i := strings.LastIndexByte(f, ':')
		w, _ := strconv.Atoi(f[i+1:])
		v.countTypes = append(v.countTypes, f[:i])
		ws = append(ws, w)
	}
	v.countW = newWeighted(ws)

	v.gcam = buildGCAM()
	return v
}

// buildGCAM builds the GCAM key universe: per dictionary, keys whose document frequencies follow the deciles
// measured on a real GKG window, plus the value keys (vD.d) with their observed ranges. Fixed internal seed:
// the universe is the same for every Config.
func buildGCAM() []gcamKey {
	r := rand.New(rand.NewPCG(0x6463616d, 0x6b657973))
	var keys []gcamKey
	for _, line := range strings.Split(gcamDeciles, "\n") {
		f := strings.Fields(line)
		dim := f[0]
		type bk struct{ b, n int }
		var bks []bk
		total := 0
		for _, x := range f[1:] {
			p := strings.Split(x, ":")
			b, _ := strconv.Atoi(p[0])
			n, _ := strconv.Atoi(p[1])
			bks = append(bks, bk{b, n})
			total += n
		}
		span := total + total/7 + 1
		subs := r.Perm(span)[:total]
		k := 0
		for _, x := range bks {
			for range x.n {
				var p float64
				if x.b == 0 {
					p = 0.1 * math.Pow(r.Float64(), 2)
				} else {
					p = (float64(x.b) + r.Float64()) / 10
				}
				p = min(max(p, 0.002), 0.999)
				rate := math.Exp(math.Log(0.0008) + (math.Log(0.05)-math.Log(0.0008))*p*r.Float64())
				keys = append(keys, gcamKey{name: dim + "." + strconv.Itoa(subs[k]+1) + ":", p: p, rate: rate})
				k++
			}
		}
	}
	for _, line := range strings.Split(gcamValues, "\n") {
		f := strings.Fields(line)
		nums := make([]float64, 5)
		for i := range nums {
			nums[i], _ = strconv.ParseFloat(f[i+1], 64)
		}
		keys = append(keys, gcamKey{name: f[0] + ":", value: true, p: nums[0], mean: nums[1], sd: nums[2], lo: nums[3], hi: nums[4]})
	}
	// string order of the key without its colon, as in the real data: c12.1, c12.10, ..., c2.1, ..., v42.9
	slices.SortFunc(keys, func(a, b gcamKey) int {
		return strings.Compare(strings.TrimSuffix(a.name, ":"), strings.TrimSuffix(b.name, ":"))
	})
	return keys
}

// ---------------------------------------------------------------------------------------------------------------
// word lists (synthetic text)

var nouns = []string{"government", "court", "ministry", "police", "council", "parliament", "army", "coalition",
	"opposition", "central bank", "economy", "budget", "election", "ceasefire", "summit", "trade deal", "inquiry",
	"hospital", "school board", "union", "airline", "railway", "port", "border agency", "regulator", "city council",
	"prosecutor", "senate", "cabinet", "mayor", "governor", "president", "prime minister", "minister", "embassy",
	"fire service", "weather service", "health agency", "university", "startup", "energy firm", "carmaker",
	"club", "team", "coach", "festival", "museum", "zoo", "church", "charity", "court of appeal", "tribunal"}

var pluralNouns = []string{"residents", "officials", "lawmakers", "farmers", "workers", "students", "protesters",
	"investors", "fans", "troops", "villagers", "teachers", "doctors", "nurses", "drivers", "passengers", "migrants",
	"voters", "shoppers", "families", "children", "pilgrims", "tourists", "firefighters", "journalists", "miners",
	"fishermen", "refugees", "pensioners", "athletes", "activists", "suspects", "inmates", "soldiers", "civilians"}

var verbs3 = []string{"warns of", "rejects", "approves", "announces", "launches", "signs", "condemns", "backs",
	"blocks", "plans", "faces", "wins", "loses", "delays", "cuts", "raises", "urges", "denies", "confirms", "opens",
	"closes", "probes", "suspends", "extends", "scraps", "unveils", "defends", "criticises", "welcomes", "reviews",
	"eyes", "targets", "halts", "resumes", "seeks"}

var verbsBase = []string{"review", "scrap", "expand", "cut", "raise", "extend", "probe", "block", "challenge",
	"back", "fund", "launch", "reopen", "close", "ban", "tighten", "ease", "restore", "boost", "overhaul", "delay"}

var pastVerbs = []string{"killed", "injured", "evacuated", "arrested", "rescued", "displaced", "stranded",
	"hospitalised", "detained", "honoured", "released", "missing", "dead", "hurt", "relocated", "sworn in"}

var objects = []string{"new tax plan", "emergency measures", "budget proposal", "peace talks", "fuel subsidies",
	"election results", "police reform", "rail strike", "housing bill", "climate targets", "trade tariffs",
	"water rationing", "vaccine rollout", "border controls", "school funding", "interest rates", "export ban",
	"curfew", "arms deal", "minimum wage rise", "mining licence", "debt relief package", "transport fares",
	"media law", "asylum rules", "energy prices", "security pact", "flood defences", "hospital waiting lists"}

var topics = []string{"flooding", "heatwave", "wildfires", "protests", "inflation", "drought", "strike",
	"shooting", "earthquake", "landslide", "power cuts", "fuel shortage", "election row", "corruption probe",
	"border clash", "cyber attack", "storm damage", "cholera outbreak", "food prices", "train crash",
	"ferry accident", "mass shooting", "political crisis", "bank run", "tourism slump", "record heat",
	"monsoon rains", "migrant crossings", "court ruling", "doping scandal"}

var adjectives = []string{"new", "major", "deadly", "historic", "record", "fresh", "emergency", "local",
	"national", "global", "rare", "controversial", "surprise", "key", "final", "early", "massive", "brief",
	"severe", "unexpected", "long-awaited", "worst", "second", "deepening", "renewed"}

var modal = []string{"will", "must", "should", "could", "cannot", "may", "would"}

var commonWords = []string{"the", "of", "to", "and", "a", "in", "that", "is", "for", "we", "it", "on", "with",
	"not", "this", "be", "are", "have", "they", "will", "people", "our", "was", "all", "at", "by", "from", "he",
	"there", "what", "can", "about", "more", "who", "one", "their", "been", "has", "would", "very", "time",
	"country", "government", "now", "here", "need", "want", "going", "make", "support", "work", "know", "think",
	"everyone", "community", "future", "years", "today", "important", "those", "families", "safety", "children",
	"police", "city", "continue", "must", "should", "every", "together", "law", "state", "right", "rights",
	"justice", "help", "never", "always", "again", "because", "believe", "plan", "better", "public", "nation",
	"security", "peace", "economy", "jobs", "water", "health", "schools", "hospital", "election", "vote",
	"violence", "victims", "responsibility", "investigation", "evidence", "decision", "serious", "concern",
	"proud", "shocked", "heartbroken", "grateful", "clear", "difficult", "historic", "necessary", "fair",
	"unacceptable", "tragic", "we're", "don't", "it's", "can't", "isn't", "they're", "I", "you", "us", "them",
	"leaders", "members", "neighbours", "officers", "workers", "farmers", "students", "prices", "season", "fans",
	"game", "team", "players", "match", "win", "lose", "record", "world", "history", "change", "climate",
	"energy", "market", "money", "budget", "taxes", "costs", "houses", "roads", "bridge", "border", "army",
	"weapons", "talks", "agreement", "deal", "ceasefire", "region", "villages", "rain", "fire", "storm"}

var firstNames = []string{"James", "Maria", "Ahmed", "Priya", "Chen", "Olga", "Kwame", "Fatima", "Lucas",
	"Sofia", "Ivan", "Aisha", "Daniel", "Mei", "Carlos", "Amara", "Thomas", "Yuki", "Samuel", "Elena", "Raj",
	"Grace", "Omar", "Hannah", "Diego", "Zanele", "Mohammed", "Anna", "Kenji", "Chloe", "Pedro", "Nadia",
	"Michael", "Ngozi", "Arjun", "Laura", "Hassan", "Emily", "Juan", "Svetlana", "David", "Aaliyah", "Paul",
	"Lina", "Viktor", "Rosa", "Emmanuel", "Sarah", "Ali", "Camille", "John", "Leila", "Robert", "Ines",
	"Patrick", "Asha", "Mark", "Yara", "Peter", "Joyce"}

var lastNames = []string{"Smith", "Garcia", "Khan", "Patel", "Wang", "Ivanova", "Mensah", "Hussein", "Silva",
	"Rossi", "Petrov", "Bello", "Johnson", "Li", "Hernandez", "Okafor", "Muller", "Tanaka", "Adeyemi", "Popescu",
	"Sharma", "Brown", "Haddad", "Cohen", "Lopez", "Dlamini", "Rahman", "Kowalski", "Sato", "Martin", "Santos",
	"Nowak", "Williams", "Eze", "Gupta", "Fischer", "Ali", "Taylor", "Ramirez", "Kuznetsova", "Wilson", "Ndlovu",
	"Murphy", "Chowdhury", "Novak", "Dubois", "Jones", "Mwangi", "Kaur", "Moreau", "Anderson", "Osei", "Kim",
	"Nguyen", "Yilmaz", "Costa", "Evans", "Banda", "Reyes", "Larsen", "O'Brien", "Schmidt", "Otieno", "Thompson",
	"Hoffmann", "Mahlangu", "Fernandes", "Kapoor", "Walsh", "Jensen", "Abubakar", "Park", "Clarke", "Tshabalala"}

var famousPersons = []string{"Joe Biden", "Donald Trump", "Vladimir Putin", "Volodymyr Zelensky", "Xi Jinping",
	"Narendra Modi", "Emmanuel Macron", "Rishi Sunak", "Olaf Scholz", "Recep Tayyip Erdogan", "Antonio Guterres",
	"Benjamin Netanyahu", "Kamala Harris", "Justin Trudeau", "Luiz Inacio Lula", "Cyril Ramaphosa", "Bola Tinubu",
	"Giorgia Meloni", "Fumio Kishida", "Anthony Albanese", "Pedro Sanchez", "Ursula von der Leyen",
	"Antony Blinken", "Sergei Lavrov", "Elon Musk", "Pope Francis", "Keir Starmer", "William Ruto"}

var orgNames = []string{"United Nations", "World Health Organization", "European Union", "Associated Press",
	"Reuters", "Supreme Court", "White House", "Congress", "Senate", "House Judiciary Committee",
	"Justice Department", "Department Of Education", "Federal Reserve", "International Monetary Fund",
	"World Bank", "Red Cross", "Amnesty International", "Human Rights Watch", "Nato", "African Union",
	"Twitter", "Facebook", "Instagram", "Google", "Netflix", "Bloomberg", "Xinhua", "Cnn", "Bbc",
	"National Weather Service", "Democratic Party", "Republican Party", "Bharatiya Janata Party",
	"Congress Party", "National Assembly", "Central Bank", "Ministry Of Health", "Ministry Of Defence",
	"Police Department", "Fire Department", "Harvard University", "University Of California",
	"European Space Agency", "Rail Delivery Group", "Federal Aviation Administration", "United Airlines",
	"Delta Air Lines", "Champions League", "International Cricket Council", "Fifa", "Olympic Committee",
	"Securities Exchange Commission", "Nasdaq", "Citigroup", "Rio Tinto", "Walmart", "Adidas", "Intel",
	"Public Accounts Committee", "Government Accountability Office", "Homeland Security Department",
	"National Park Service", "Library Of Congress", "Southern Poverty Law Center", "Brookings Institution",
	"Heritage Foundation", "Chamber Of Commerce", "Electoral Commission", "Anti-Corruption Commission",
	"National Disaster Management Authority", "Coast Guard", "Border Force", "Interpol", "Opec"}

var properNames = []string{"Grand Central", "Fourth Of July", "Independence Day", "Premier League", "World Cup",
	"Middle East", "Southeast Asian", "Black Sea", "Silicon Valley", "Wall Street", "Downing Street", "Capitol Hill",
	"Eid Al-Adha", "Lok Sabha", "Champions Trophy", "Gulf Stream", "Red Sea", "New Delhi", "West Bank",
	"Grand Prix", "Covid-19", "Cold War", "Second World War", "Lords Test", "Ashes Series", "Supreme Court Justice"}

var countObjects = []string{"people", "women", "children", "protesters", "civilians", "soldiers", "police officers",
	"migrants", "students", "workers", "passengers", "residents", "suspects"}

var amountObjects = []string{"dollars", "people", "months", "weeks", "shares", "years", "children", "points",
	"percent", "miles", "kilometres", "euros", "rupees", "crore", "homes", "acres", "vehicles", "flights",
	"students", "votes", "seats", "runs", "goals", "tonnes", "barrels", "cases", "deaths", "troops", "days",
	"people were killed", "flights have been canceled", "dollars a year", "shares of the company",
	"victims were taken to hospital", "of those arrested", "new jobs", "basis points", "doses"}

var quoteVerbs = []string{"said", "told", "added", "stated", "wrote"}

var agencyAuthors = []string{"Associated Press", "Reuters", "AFP", "News Editor", "Staff Reporter",
	"Press Trust of India", "IANS", "Xinhua", "The Canadian Press", "Web Desk"}

var sections = []string{"news", "world", "politics", "business", "sport", "local", "national", "opinion",
	"entertainment", "health", "science", "tech", "us-news", "india", "africa", "europe", "asia", "crime", "lifestyle"}

var citationSources = []string{"BBC Monitoring", "Reuters Wire", "AFP Wire", "Open Source Enterprise"}

var coreJournals = []string{"j.polgeo", "j.worlddev", "j.jdeveco", "j.foodpol", "j.enpol", "s41599", "jpr", "isq"}

type translationLang struct {
	info    string
	domains []string
}

var translationLangs = []translationLang{
	{"srclc:fra;eng:Moses 2.1.1 / MosesCore Europarl fr-en / GT-FRA 1.0", []string{"lemonde.fr", "lefigaro.fr", "liberation.fr", "ouest-france.fr", "rfi.fr"}},
	{"srclc:spa;eng:Moses 2.1.1 / MosesCore Europarl es-en / GT-SPA 1.0", []string{"elpais.com", "elmundo.es", "clarin.com", "eltiempo.com", "milenio.com"}},
	{"srclc:deu;eng:Moses 2.1.1 / MosesCore Europarl de-en / GT-DEU 1.0", []string{"spiegel.de", "faz.net", "sueddeutsche.de", "zeit.de"}},
	{"srclc:ita;eng:GT-ITA 1.0", []string{"corriere.it", "repubblica.it", "lastampa.it", "ansa.it"}},
	{"srclc:por;eng:GT-POR 1.0", []string{"folha.uol.com.br", "publico.pt", "g1.globo.com", "estadao.com.br"}},
	{"srclc:rus;eng:GT-RUS 1.0", []string{"ria.ru", "tass.ru", "kommersant.ru", "rbc.ru"}},
	{"srclc:ara;eng:GT-ARA 1.0", []string{"aljazeera.net", "alarabiya.net", "youm7.com", "almasryalyoum.com"}},
	{"srclc:zho;eng:GT-ZHO 1.0", []string{"sina.com.cn", "people.com.cn", "ifeng.com", "chinatimes.com"}},
	{"srclc:tur;eng:GT-TUR 1.0", []string{"hurriyet.com.tr", "sabah.com.tr", "milliyet.com.tr"}},
	{"srclc:ukr;eng:GT-UKR 1.0", []string{"pravda.com.ua", "unian.ua", "ukrinform.ua"}},
}

// malformedLocs are location blocks with a wrong field count, like the real data has now and then:
// V1 form (8 fields instead of 7) and V2 form without its offset (10 fields instead of 9 with it).
var malformedLocs = [][2]string{
	{"0#Georgia, , Georgia#GG#GG#42#.5#1#GG", "0#Georgia, , Georgia#GG#GG##42#.5#1#GG"},
	{"0#Guinea, , Guinea#GV#GV#11#.5#-10#GV", "0#Guinea, , Guinea#GV#GV##11#.5#-10#GV"},
	{"0#Jordan, , Jordan#JO#JO#31#.2#36#JO", "0#Jordan, , Jordan#JO#JO##31#.2#36#JO"},
}

// gcamDeciles: per GCAM dictionary, how many of its keys fall in each document-frequency decile (0 = in under
// 10% of the rows, 9 = in 90% or more), measured on a real 2023 GKG window.
const gcamDeciles = `c1 1:3 2:1
c2 0:7 1:8 2:11 3:18 4:11 5:16 6:20 7:24 8:32 9:81
c3 0:2 9:2
c4 0:14 1:7 2:4 3:2 9:1
c5 0:2 2:3 3:5 4:1 5:7 6:7 7:6 8:5 9:26
c6 5:1 7:3 8:1 9:1
c7 9:2
c8 0:4 1:4 2:5 3:10 4:4 5:4 6:4 7:2 9:6
c9 0:149 1:169 2:127 3:131 4:138 5:92 6:95 7:71 8:42 9:21
c12 0:3 8:2 9:9
c13 0:4 1:1 2:6 3:2 4:1
c14 4:1 5:1 7:1 8:1 9:7
c15 0:165 1:49 2:35 3:21 4:7
c16 0:12 1:4 2:7 3:12 4:11 5:11 6:12 7:18 8:12 9:69
c17 3:2 6:3 7:2 8:9 9:28
c18 0:235 1:11 2:7 3:1 5:1 8:2
c25 0:2 1:3 2:1 3:1 4:2 5:1 7:1
c35 0:5 1:1 2:6 3:5 4:3 5:3 6:2 8:3 9:5
c39 0:9 1:5 2:3 3:4 4:2 5:7 6:2 7:1 8:3 9:5
c40 1:1 2:4 3:1 4:1 5:1
c41 9:1
c42 9:1`

// gcamValues: value keys with probability of presence, mean, spread, min and max as observed.
const gcamValues = `v10.1 1 0.26 0.06 0.09 0.42
v10.2 1 0.26 0.07 0.06 0.5
v11.1 1 0.077 0.07 -0.18 0.28
v19.1 0.999 5.86 0.5 4.07 8.1
v19.2 0.999 5.2 0.4 4 6.93
v19.3 0.999 5.32 0.4 4.03 7.21
v19.4 0.999 5.84 0.45 4.17 7.67
v19.5 0.999 5.13 0.35 3.8 6.4
v19.6 0.999 5.38 0.4 4.17 6.96
v19.7 0.999 5.87 0.5 3.88 8.53
v19.8 0.999 5.3 0.45 3.63 7.47
v19.9 0.999 5.25 0.45 3.58 7.58
v20.1 0.65 0.49 0.15 0.25 0.875
v20.2 0.34 -0.35 0.1 -0.75 -0.25
v20.3 0.7 0.57 0.15 0.25 0.938
v20.4 0.5 -0.45 0.15 -1 -0.25
v20.5 0.79 0.68 0.18 0.25 1
v20.6 0.58 -0.58 0.18 -1 -0.25
v20.7 0.82 0.68 0.18 0.25 1
v20.8 0.6 -0.59 0.18 -1 -0.25
v20.9 0.87 0.66 0.17 0.25 1
v20.10 0.67 -0.6 0.18 -1 -0.25
v20.11 0.94 0.6 0.15 0.25 1
v20.12 0.75 -0.56 0.17 -1 -0.25
v20.13 0.985 0.43 0.07 0.275 0.646
v20.14 0.87 -0.45 0.12 -1 -0.275
v20.15 0.99 0.37 0.06 0.25 0.625
v20.16 0.945 -0.36 0.09 -1 -0.25
v21.1 1 5.43 0.2 4.56 5.95
v26.1 0.99 0.5 0.9 -3.7 2.7
v42.2 1 0.1 0.025 0.047 0.206
v42.3 1 0.097 0.02 0.049 0.158
v42.4 1 0.089 0.015 0.044 0.122
v42.5 1 0.092 0.02 0.032 0.162
v42.6 1 0.079 0.018 0.045 0.157
v42.7 1 -0.089 0.08 -0.421 0.198
v42.8 1 -0.034 0.07 -0.339 0.238
v42.9 1 -0.006 0.06 -0.447 0.187
v42.10 1 -0.027 0.06 -0.275 0.224
v42.11 1 -0.044 0.06 -0.348 0.15`

// ---------------------------------------------------------------------------------------------------------------
// vocabularies drawn from real GDELT files (The GDELT Project): CAMEO event codes with Goldstein scores and
// weights (code:goldstein:weight), CAMEO actors (10 export fields|weight), geographic features
// (type|name|FIPS country|ADM1|ADM2|lat|long|feature id|weight), news domains, GKG themes (theme:weight) and
// GKG count types.

const vocabEventCodes = `010:0.0:641 011:-0.1:9 012:-0.4:165 013:0.4:157 014:0.0:73 015:-0.7:33 016:3.4:49 017:-4.4:61 018:-4.5:9 019:-0.3:1 020:1.0:385 021:1.5:17
0211:1.5:1 0212:1.5:1 0213:1.5:1 0214:1.5:5 022:1.5:5 023:2.0:17 0231:2.0:21 0232:2.0:1 0233:2.5:1 0234:2.5:1 024:1.5:5 0241:1.5:13
0242:1.5:1 0243:1.5:1 0244:1.5:1 025:2.0:13 0251:2.0:1 0252:2.0:1 0253:2.5:9 0254:2.0:1 0255:2.0:1 0256:2.5:9 026:2.0:37 027:2.5:1
028:2.5:1 030:2.0:113 031:2.5:21 0311:2.5:37 0312:2.5:1 0313:2.5:1 0314:2.5:1 032:2.0:5 033:3.0:5 0331:3.5:1 0332:3.5:1 0333:3.5:1
0334:3.5:1 034:2.0:1 0341:2.0:1 0342:2.0:1 0343:2.0:1 0344:2.0:1 035:3.0:17 0351:3.0:1 0352:3.0:1 0353:3.0:9 0354:3.0:1 0355:3.0:1
0356:3.0:1 036:2.5:453 037:3.0:1 038:3.0:1 039:3.5:25 040:3.0:417 041:2.5:1 042:3.0:573 043:3.0:517 044:3.5:25 045:4.0:73 046:4.0:241
050:4.0:85 051:3.5:385 052:3.5:9 053:4.0:1 054:5.0:1 055:4.5:1 056:5.0:17 057:5.0:169 060:4.0:105 061:5.0:37 062:4.5:41 063:4.0:1
064:4.5:9 070:6.0:97 071:7.0:93 072:6.0:53 073:7.5:33 074:6.5:1 075:6.0:21 080:5.0:189 081:5.5:29 0811:5.5:1 0812:5.5:1 0813:5.0:1
0814:5.0:1 082:4.5:1 083:6.0:1 0831:6.5:13 0832:6.0:1 0833:6.5:5 0834:7.0:1 084:5.5:61 0841:6.0:41 0842:5.5:5 085:6.0:1 086:5.0:33
0861:5.5:1 0862:5.0:1 0863:6.5:1 087:6.5:9 0871:7.0:5 0872:6.5:1 0873:7.5:1 0874:8.0:85 090:-2.0:181 091:-2.5:1 092:-3.0:1 093:-2.5:1
094:-3.5:1 100:-2.2:57 101:-2.5:1 1011:-2.5:1 1012:-3.0:1 1013:-2.5:1 1014:-2.5:9 102:-2.0:1 103:-2.5:1 1031:-2.5:1 1032:-3.0:1 1033:-2.0:1
1034:-3.0:1 104:-3.0:1 1041:-3.5:9 1042:-3.0:1 1043:-2.5:5 1044:-3.5:5 105:-3.0:1 1051:-3.0:1 1052:-3.0:1 1053:-3.5:5 1054:-3.0:1 1055:-2.5:1
1056:-3.5:1 106:-2.0:1 107:-2.5:1 108:-2.0:1 110:-3.0:121 111:-3.5:193 112:-4.0:197 1121:-4.5:1 1122:-5.0:13 1123:-4.5:9 1124:-5.5:1 1125:-5.0:1
113:-4.0:5 114:-3.0:49 115:-3.5:17 116:-4.0:1 120:-3.5:165 121:-3.5:1 1211:-3.5:1 1212:-4.0:1 122:-3.0:1 1221:-3.0:1 1222:-3.5:1 1223:-2.5:1
1224:-3.5:1 123:-4.0:1 1231:-4.5:1 1232:-4.0:1 1233:-3.5:1 1234:-4.5:1 124:-4.0:1 1241:-4.0:1 1242:-4.5:1 1243:-4.5:21 1244:-4.0:1 1245:-3.5:1
1246:-4.5:1 125:-3.0:1 126:-3.0:1 127:-3.5:1 128:-4.5:1 129:-4.0:1 130:-4.0:57 131:-4.0:1 1311:-4.0:1 1312:-4.5:13 1313:-4.5:1 132:-4.5:1
1321:-5.0:1 1322:-5.0:1 1323:-4.5:1 1324:-5.0:1 133:-4.0:1 134:-3.5:1 135:-3.5:1 136:-3.5:1 137:-5.5:1 138:-5.0:21 1381:-5.5:1 1382:-6.0:1
1383:-6.5:1 1384:-6.0:1 1385:-7.0:1 139:-5.5:9 140:-5.0:25 141:-4.4:89 1411:-4.5:1 1412:-4.5:1 1413:-4.5:1 1414:-4.5:1 142:-6.0:1 1421:-6.0:1
1422:-6.0:1 1423:-6.0:1 1424:-6.0:1 143:-5.6:1 1431:-6.0:1 1432:-6.0:1 1433:-6.0:1 1434:-6.0:1 144:-6.0:9 1441:-6.0:1 1442:-6.0:1 1443:-6.0:1
1444:-6.0:1 145:-6.5:5 1451:-6.5:1 1452:-6.5:1 1453:-6.5:1 1454:-6.5:1 150:-6.0:1 151:-5.5:1 152:-6.0:5 153:-6.0:1 154:-6.5:5 155:-6.5:1
160:-6.5:73 161:-7.0:1 162:-6.5:1 1621:-6.5:1 1622:-7.0:1 1623:-6.0:1 163:-7.0:21 164:-6.0:1 165:-6.0:1 166:-6.0:1 1661:-6.0:1 1662:-5.5:1
1663:-6.0:1 170:-7.0:1 171:-7.5:1 1711:-7.0:9 1712:-8.0:13 172:-7.5:45 1721:-8.0:13 1722:-8.0:1 1723:-7.5:5 1724:-8.0:1 173:-7.5:289 174:-7.0:5
175:-8.5:1 176:-7.0:1 180:-8.0:73 181:-8.5:13 182:-9.0:57 1821:-9.5:13 1822:-9.5:1 1823:-10.0:5 1831:-9.5:1 1832:-9.0:1 1833:-9.0:1 1834:-9.0:1
184:-8.0:1 185:-9.5:1 186:-10.0:17 1883:-9.0:1 190:-8.0:425 191:-8.5:17 192:-9.0:49 193:-8.0:209 194:-8.5:5 195:-9.0:5 1951:-9.0:1 1952:-9.0:1
196:-8.5:1 200:-10.0:1 201:-10.0:1 202:-10.0:1 203:-10.0:1 204:-10.0:1 2041:-10.0:1 2042:-10.0:1`

const vocabActors = `USA|UNITED STATES|USA||||||||347
COP|POLICE||||||COP|||101
GBR|UNITED KINGDOM|GBR||||||||74
RUS|RUSSIA|RUS||||||||59
GOV|PRESIDENT||||||GOV|||59
SYR|SYRIA|SYR||||||||45
AFR|AFRICA|AFR||||||||45
CAN|CANADA|CAN||||||||42
CHN|CHINA|CHN||||||||37
BUS|COMPANY||||||BUS|||32
TUR|TURKEY|TUR||||||||29
EDU|STUDENT||||||EDU|||28
HLH|HOSPITAL||||||HLH|||28
EDU|SCHOOL||||||EDU|||27
ESP|SPAIN|ESP||||||||26
GOV|GOVERNMENT||||||GOV|||25
IRL|IRELAND|IRL||||||||25
GBR|BRITISH|GBR||||||||25
JPN|JAPAN|JPN||||||||24
USA|AMERICAN|USA||||||||24
FRA|FRANCE|FRA||||||||23
SYR|SYRIAN|SYR||||||||23
BUS|BUSINESS||||||BUS|||22
USAGOV|UNITED STATES|USA|||||GOV|||21
MIL|MILITARY||||||MIL|||21
IRN|IRAN|IRN||||||||21
ARE|UNITED ARAB EMIRATES|ARE||||||||20
ISR|ISRAEL|ISR||||||||20
CHR|CHRISTIAN||||CHR|||||18
FRA|PARIS|FRA||||||||17
UKR|UKRAINE|UKR||||||||17
NORGOV|NORWAY|NOR|||||GOV|||17
IGOUNODEVWBK|WORLD BANK||UNO||||IGO|DEV||16
HLH|SURGEON||||||HLH|||16
RUS|RUSSIAN|RUS||||||||16
JUD|ATTORNEY||||||JUD|||15
MYS|MALAYSIA|MYS||||||||15
IGOEUREEC|THE EU|EUR|EEC||||IGO|||14
CVL|COMMUNITY||||||CVL|||14
GBRCOP|UNITED KINGDOM|GBR|||||COP|||14
CHN|CHINESE|CHN||||||||14
LEG|REPRESENTATIVES||||||LEG|||14
TUR|TURKISH|TUR||||||||14
GOV|MINIST OF FINANCE||||||GOV|||14
PAK|PAKISTAN|PAK||||||||14
DEU|GERMAN|DEU||||||||13
SAU|SAUDI ARABIA|SAU||||||||13
EGY|EGYPT|EGY||||||||13
GOV|ADMINISTRATION||||||GOV|||13
USA|WASHINGTON|USA||||||||13
JUD|JUDGE||||||JUD|||13
DEU|GERMANY|DEU||||||||13
EDU|COLLEGE||||||EDU|||13
UKR|ODESSA|UKR||||||||13
GOV|AUTHORITIES||||||GOV|||13
GOV|MINIST||||||GOV|||13
REL|CLERGY|||||||||13
CVL|CITIZEN||||||CVL|||12
EDU|UNIVERSITY||||||EDU|||12
KEN|KENYA|KEN||||||||12
kur|KURD|||kur||||||12
LEG|LAWMAKER||||||LEG|||12
AFG|AFGHANISTAN|AFG||||||||11
GBRGOV|UNITED KINGDOM|GBR|||||GOV|||11
GOV|GOVERNOR||||||GOV|||11
MED|MEDIA||||||MED|||11
JUD|PROSECUTOR||||||JUD|||11
BLR|BELARUS|BLR||||||||11
JUD|MAGISTRATE||||||JUD|||11
USAGOV|HILLARY CLINTON|USA|||||GOV|||11
USA|PITTSBURGH|USA||||||||10
BUS|BANK||||||BUS|||10
BRA|BRAZIL|BRA||||||||10
AUS|AUSTRALIA|AUS||||||||10
GBR|LONDON|GBR||||||||10
GOV|KING||||||GOV|||10
LAB|WORKER||||||LAB|||10
ITA|ITALY|ITA||||||||10
PHL|PHILIPPINE|PHL||||||||10
KOR|SOUTH KOREA|KOR||||||||10
GOV|PRIME MINISTER||||||GOV|||10
GBR|MANCHESTER|GBR||||||||9
BUS|INDUSTRY||||||BUS|||9
EUR|EUROPE|EUR||||||||9
MCOELI|ALBERT|MCO|||||ELI|||9
SOM|SOMALIA|SOM||||||||9
USAGOV|OBAMA|USA|||||GOV|||9
ARE|DUBAI|ARE||||||||9
CVL|RESIDENTS||||||CVL|||9
UAF|GUNMAN||||||UAF|||9
USAMED|REUTERS|USA|||||MED|||9
IND|HINDUSTAN|IND||||||||9
IRQ|IRAQ|IRQ||||||||9
TKMGOV|TURKMENISTAN|TKM|||||GOV|||9
NOR|NORWAY|NOR||||||||9
SPY|INTELLIGENCE||||||SPY|||9
USA|MARYLAND|USA||||||||9
BUS|COMPANIES||||||BUS|||8
GOV|MAYOR||||||GOV|||8
ZAF|SOUTH AFRICAN|ZAF||||||||8
URY|URUGUAY|URY||||||||8
AREGOV|DUBAI|ARE|||||GOV|||8
COPGOV|DEPUTY||||||COP|GOV||8
CHN|BEIJING|CHN||||||||8
PAKGOV|PAKISTAN|PAK|||||GOV|||8
JPNELIGOV|SHINZO ABE|JPN|||||ELI|GOV||8
MYS|MALAYSIAN|MYS||||||||7
JUD|LAWYER||||||JUD|||7
USAJUD|UNITED STATES|USA|||||JUD|||7
EUREDU|EUROPEAN|EUR|||||EDU|||7
IRN|IRANIAN|IRN||||||||7
LEG|CONGRESS||||||LEG|||7
USA|PENNSYLVANIA|USA||||||||7
BEL|BELGIUM|BEL||||||||7
CAN|OTTAWA|CAN||||||||7
GOVEDU|EDUCATION MINIST||||||GOV|EDU||7
MNCUSAMED|GOOGLE|USA|||||MNC|MED||7
FRA|FRENCH|FRA||||||||7
PRK|NORTH KOREA|PRK||||||||7
USAGOV|JOE BIDEN|USA|||||GOV|||7
CYP|CYPRUS|CYP||||||||7
LBN|LEBANESE|LBN||||||||7
IRN|TEHRAN|IRN||||||||7
NOR|NORWEGIAN|NOR||||||||7
MED|WRITER||||||MED|||7
GOVMED|STATE MEDIA||||||GOV|MED||7
USA|DALLAS|USA||||||||7
COP|PRISON||||||COP|||6
BUS|INVESTOR||||||BUS|||6
IDN|INDONESIA|IDN||||||||6
IRNGOV|IRANIAN|IRN|||||GOV|||6
LBN|LEBANON|LBN||||||||6
MIL|COAST GUARD||||||MIL|||6
MNCUSA|NETFLIX|USA|||||MNC|||6
ALB|ALBANIA|ALB||||||||6
ITA|ITALIAN|ITA||||||||6
BRAGOV|BRAZIL|BRA|||||GOV|||6
LEG|SENATE||||||LEG|||6
GBR|BRITAIN|GBR||||||||6
IRL|IRISH|IRL||||||||6
USA|MICHIGAN|USA||||||||6
GOV|PRINCE||||||GOV|||6
LKA|SRI LANKA|LKA||||||||6
MED|NEWSPAPER||||||MED|||6
ZWE|ZIMBABWE|ZWE||||||||6
TKM|TURKMEN|TKM||||||||6
JUD|ADVOCATE||||||JUD|||6
MED|WEBSITE||||||MED|||6
MEX|MEXICO|MEX||||||||6
NAM|NAMIBIAN|NAM||||||||6`

const vocabGeo = `1|United States|US|US||39.828175|-98.5795|US|61
1|India|IN|IN||20|77|IN|61
1|France|FR|FR||46|2|FR|54
1|China|CH|CH||35|105|CH|53
1|United Kingdom|UK|UK||54|-4|UK|53
1|Ukraine|UP|UP||49|32|UP|43
1|American|US|US||39.828175|-98.5795|US|43
2|New York, United States|US|USNY||42.1497|-74.9384|NY|43
1|Russia|RS|RS||60|100|RS|42
1|Americans|US|US||39.828175|-98.5795|US|38
1|Sri Lanka|CE|CE||7|81|CE|36
1|Australia|AS|AS||-25|135|AS|36
1|Canada|CA|CA||60|-96|CA|36
1|America|US|US||39.828175|-98.5795|US|34
2|Texas, United States|US|USTX||31.106|-97.6475|TX|34
1|French|FR|FR||46|2|FR|32
1|Pakistan|PK|PK||30|70|PK|31
4|Paris, France (General), France|FR|FR00|16282|48.8667|2.33333|-1456928|31
1|Chinese|CH|CH||35|105|CH|30
1|Australian|AS|AS||-25|135|AS|30
1|South Africa|SF|SF||-30|26|SF|30
3|Washington, Washington, United States|US|USDC|DC001|38.8951|-77.0364|531871|29
1|Nigeria|NI|NI||10|8|NI|29
1|Russian|RS|RS||60|100|RS|28
2|California, United States|US|USCA||36.17|-119.746|CA|27
1|Ireland|EI|EI||53|-8|EI|27
4|Dubai, Dubayy, United Arab Emirates|AE|AE03|28575|25.2522|55.28|-782831|27
1|Syria|SY|SY||35|38|SY|27
4|Beijing, Beijing, China|CH|CH22|13001|39.9289|116.388|-1898541|26
2|Pennsylvania, United States|US|USPA||40.5773|-77.264|PA|26
2|South Carolina, United States|US|USSC||33.8191|-80.9066|SC|26
1|Germany|GM|GM||51.5|10.5|GM|26
1|Mexico|MX|MX||23|-102|MX|26
2|Florida, United States|US|USFL||27.8333|-81.717|FL|26
4|Moscow, Moskva, Russia|RS|RS48|25106|55.7522|37.6156|-2960561|25
1|Israel|IS|IS||31.5|34.75|IS|25
1|Turkey|TU|TU||39.059012|34.911546|TU|25
4|Beirut, Beyrouth, Lebanon|LE|LE04|18808|33.8719|35.5097|-801546|25
4|London, London, City Of, United Kingdom|UK|UKH9|40110|51.5|-0.116667|-2601889|25
3|White House, District Of Columbia, United States|US|USDC|DC001|38.8951|-77.0364|531871|25
3|Washington, District of Columbia, United States|US|USDC|DC001|38.8951|-77.0364|531871|24
1|Brazil|BR|BR||-10|-55|BR|24
3|Chicago, Illinois, United States|US|USIL|IL031|41.85|-87.6501|423587|24
5|Essex, Essex, United Kingdom|UK|UKE4|40108|51.8333|0.583333|-2595724|23
4|Delhi, Delhi, India|IN|IN07|17911|28.6667|77.2167|-2094230|23
2|Maine, United States|US|USME||44.6074|-69.3977|ME|23
2|Michigan, United States|US|USMI||43.3504|-84.5603|MI|23
1|Afghanistan|AF|AF||33|66|AF|23
4|Tehran, Tehran, Iran|IR|IR26|41130|35.75|51.5148|10074674|23
4|Ankara, Ankara, Turkey|TU|TU68|27516|39.9272|32.8644|-735338|22
3|Philadelphia, Pennsylvania, United States|US|USPA|PA101|39.9523|-75.1638|1209052|22
1|British|UK|UK||54|-4|UK|22
2|Georgia, United States|US|USGA||32.9866|-83.6487|GA|22
2|Alaska, United States|US|USAK||61.385|-152.268|AK|22
1|Italy|IT|IT||42.833333|12.833333|IT|22
4|Idlib, Idlib, Syria|SY|SY12|26365|35.9306|36.6339|-2542538|22
1|Canadian|CA|CA||60|-96|CA|22
4|Tokyo, Tokyo, Japan|JA|JA40|36340|35.685|139.751|-246227|22
1|Philippines|RP|RP||13|122|RP|22
1|Zimbabwe|ZI|ZI||-19|29|ZI|22
1|Spain|SP|SP||40|-4|SP|21
4|Kirkenes, Finnmark, Norway|NO|NO05|23202|69.725|30.0517|-265788|21
2|Ohio, United States|US|USOH||40.3736|-82.7755|OH|21
1|Taiwan|TW|TW||24|121|TW|21
1|Thailand|TH|TH||15|100|TH|21
1|Singapore|SN|SN||1.366667|103.8|SN|21
4|Paris, France (general), France|FR|FR00|16282|48.8667|2.33333|-1456928|21
3|Phoenix, Arizona, United States|US|USAZ|AZ013|33.4484|-112.074|44784|20
1|Saudi Arabia|SA|SA||25|45|SA|20
3|Odessa, Texas, United States|US|USTX|TX135|31.8457|-102.368|1343067|20
2|Virginia, United States|US|USVA||37.768|-78.2057|VA|20
3|World Bank, District of Columbia, United States|US|USDC||38.899|-77.0422|2002658|20
2|Massachusetts, United States|US|USMA||42.2373|-71.5314|MA|20
4|Minsk, Belarus (general), Belarus|BO|BO00|5840|53.9|27.5667|-1946324|19
3|Dallas, Texas, United States|US|USTX|TX113|32.7831|-96.8067|1380944|19
3|Houston, Texas, United States|US|USTX|TX201|29.7633|-95.3633|1380948|19
1|Sweden|SW|SW||62|15|SW|19
2|Kansas, United States|US|USKS||38.5111|-96.8005|KS|19
2|Maryland, United States|US|USMD||39.0724|-76.7902|MD|19
4|Northern Ireland, Craigavon, United Kingdom|UK|UKR8|40152|54.5|-6.5|-2604275|19
4|Hasakeh, Al ?asakah, Syria|SY|SY01|26354|36.5024|40.7477|-2538087|18
2|New Hampshire, United States|US|USNH||43.4108|-71.5653|NH|18
2|Indiana, United States|US|USIN||39.8647|-86.2604|IN|18
4|Shiv, Rajasthan, India|IN|IN24|17848|26.1833|71.25|-2111141|18
1|Bangladesh|BG|BG||24|90|BG|18
4|Manchester, Manchester, United Kingdom|UK|UKI2|40118|53.5|-2.21667|-2602512|18
2|Connecticut, United States|US|USCT||41.5834|-72.7622|CT|18
2|Kentucky, United States|US|USKY||37.669|-84.6514|KY|18
3|Baltimore, Maryland, United States|US|USMD|MD510|39.2904|-76.6122|597040|18
1|Cambodia|CB|CB||13|105|CB|18
1|Palestinian|IS|IS||31.5|34.75|IS|18
2|Iowa, United States|US|USIA||42.0046|-93.214|IA|18
2|Arizona, United States|US|USAZ||33.7712|-111.388|AZ|18
4|Athens, AttikíR, Greece|GR|GR35|16716|37.9833|23.7333|-814876|18
1|Indonesia|ID|ID||-5|120|ID|18
2|Tennessee, United States|US|USTN||35.7449|-86.7489|TN|17
4|Dublin, Dublin, Ireland|EI|EI07|18288|53.3331|-6.24889|-1502554|17
1|Lithuania|LH|LH||56|24|LH|17
3|White House, District of Columbia, United States|US|USDC||38.8951|-77.0364|531871|17
4|Damascus, Dimashq, Syria|SY|SY13|26324|33.5|36.3|-2541260|17
2|Colorado, United States|US|USCO||39.0646|-105.327|CO|17
1|Laos|LA|LA||18|105|LA|17
1|Ukrainian|UP|UP||49|32|UP|17
4|Vancouver, British Columbia, Canada|CA|CA02|12552|49.25|-123.133|-575268|17
1|Finland|FI|FI||64|26|FI|17
1|Uganda|UG|UG||2|33|UG|17
1|Australians|AS|AS||-25|135|AS|17
2|Washington, United States|US|USWA||47.3917|-121.571|WA|17
2|Wisconsin, United States|US|USWI||44.2563|-89.6385|WI|17
1|Dutch|NL|NL||52.5|5.75|NL|17
1|South Korea|KS|KS||37|127.5|KS|16
2|Illinois, United States|US|USIL||40.3363|-89.0022|IL|16
1|Netherlands|NL|NL||52.5|5.75|NL|16
1|Israeli|IS|IS||31.5|34.75|IS|16
3|First Baptist Church, Texas, United States|US|USTX||29.3941|-94.9155|1385009|16
1|North Korea|KN|KN||40|127|KN|16
1|Ghana|GH|GH||8|-2|GH|16
1|Vietnam|VM|VM||16.166667|107.833333|VM|16
1|Austrian|AU|AU||47.333333|13.333333|AU|16
4|Mumbai, Maharashtra, India|IN|IN16|70184|18.975|72.8258|-2092174|16
4|Berlin, Berlin, Germany|GM|GM16|16538|52.5167|13.4|-1746443|16
5|Thurrock, Thurrock, United Kingdom|UK|UKO3|40108|51.5057|0.386213|-2609771|16
4|Quebec, Quebec, Canada|CA|CA10|12750|47.5|-72|-571850|16
3|El Paso, Texas, United States|US|USTX||31.7587|-106.487|1380946|15
3|Sutherland Springs, Texas, United States|US|USTX||29.2733|-98.0567|1369438|15
1|Turkmenistan|TX|TX||40|60|TX|15
4|Bubanza, iProvense ya Bujumbura Rural, Burundi|BY|BY25|40755|-3.5303|29.4669|6032250|15
4|Montreal, Quebec, Canada|CA|CA10|12713|45.5|-73.5833|-569541|15
4|Barcelona, Comunidad Autonoma de Cataluna, Spain|SP|SP56|25806|41.3833|2.18333|-372490|15
4|Sochi, Krasnodarskiy Kray, Russia|RS|RS38|25065|43.5992|39.7257|-3006514|15
4|Kremlin, Moskva, Russia|RS|RS48|25106|55.7522|37.6156|-2960561|15
3|Foxburg, Pennsylvania, United States|US|USPA|PA065|40.9623|-78.8789|1175113|15
4|Kuala Lumpur, Kuala Lumpur, Malaysia|MY|MY14|18585|3.16667|101.7|-2403010|15
3|Wexford, Pennsylvania, United States|US|USPA|PA003|40.6265|-80.0559|1191197|15
2|Alabama, United States|US|USAL||32.799|-86.8073|AL|15
4|New Delhi, Delhi, India|IN|IN07|17911|28.6|77.2|-2106102|15
1|Japan|JA|JA||36|138|JA|15
1|Jersey|JE|JE||49.216667|-2.116667|JE|15
4|Sydney, New South Wales, Australia|AS|AS02|154637|-33.8833|151.217|-1603135|14
1|Poland|PL|PL||52|20|PL|14
2|Missouri, United States|US|USMO||38.4623|-92.302|MO|14
1|Argentina|AR|AR||-34|-64|AR|14
1|Kenya|KE|KE||1|38|KE|14
1|Italian|IT|IT||42.833333|12.833333|IT|14
4|Toronto, Ontario, Canada|CA|CA08|12686|43.6667|-79.4167|-574890|14
4|Brookfield, Nova Scotia, Canada|CA|CA07|12627|45.25|-63.2833|-561700|14
4|Abu Dhabi, Abu Z¸aby, United Arab Emirates|AE|AE01|28568|24.4667|54.3667|-782066|14
4|Kedah, Kelantan, Malaysia|MY|MY03|37360|5.48333|102.1|-2403052|14
3|Philomath, Oregon, United States|US|USOR|OR003|44.5401|-123.368|1147639|14
3|El Paso, Texas, United States|US|USTX|TX141|31.7587|-106.487|1380946|14
4|Vilnius, Vilniaus Apskritis, Lithuania|LH|LH65|19171|54.6833|25.3167|-2620663|14
4|Kartarpur, Punjab, India|IN|IN23|17829|31.44|75.4997|-2099892|14
3|Boston, Massachusetts, United States|US|USMA|MA025|42.3584|-71.0598|617565|14
4|Kyiv, Kyyiv, Misto, Ukraine|UP|UP12|28554|50.4333|30.5167|-1044367|14
3|Hinesville, Georgia, United States|US|USGA|GA179|31.8469|-81.5959|331992|13
2|Utah, United States|US|USUT||40.1135|-111.854|UT|13
1|Austria|AU|AU||47.333333|13.333333|AU|13
1|Belgium|BE|BE||50.833333|4|BE|13
2|Idaho, United States|US|USID||44.2394|-114.51|ID|13
1|Lao|LA|LA||18|105|LA|13
1|Thai|TH|TH||15|100|TH|13
4|Clichy, France (General), France|FR|FR00|16282|48.9002|2.30953|-1420749|13
3|Los Angeles, California, United States|US|USCA|CA037|34.0522|-118.244|1662328|13
1|New Zealand|NZ|NZ||-42|174|NZ|13
5|Bayelsa State, Bayelsa, Nigeria|NI|NI52|191393|4.75|6.08333|9098614|13
4|Gatundu, Central, Kenya|KE|KE01|18585|-0.733333|37.05|-2245193|13
5|Uttar Pradesh, Uttar Pradesh, India|IN|IN36|17938|27.25|80.75|-2113996|13
4|Mahama, Ghana (general), Ghana|GH|GH00|190580|6.33333|-1.46667|-2075744|13
4|Sulaymaniyah, As Sulaymaniyah, Iraq|IZ|IZ05|36773|35.565|45.4329|-3103288|13
3|Cleveland, Ohio, United States|US|USOH|OH035|41.4995|-81.6954|1066654|13
1|Irish|EI|EI||53|-8|EI|13
1|Kyrgyzstan|KG|KG||41|75|KG|13
4|Tel Aviv, Tel Aviv, Israel|IS|IS05|18316|32.0667|34.7667|-781545|12
4|Haryana, Haryana, India|IN|IN10|17660|29.6161|76.9806|6210381|12
4|Haneda, Wakayama, Japan|JA|JA43|36528|33.75|135.333|-228452|12
4|Skopje, Macedonia (general), Macedonia|MK|MK00|27270|42|21.4333|-95841|12
1|Botswana|BC|BC||-22|24|BC|12
4|Cape Town, Western Cape, South Africa|SF|SF11|77317|-33.9167|18.4167|-1217214|12
4|Yerevan, Yerevan*, Armenia|AM|AM11|4936|40.1811|44.5136|-2325645|12
4|Zeebrugge, Region Flamande, Belgium|BE|BE13|5849|51.329|3.18188|-1973155|12
4|Brasilia, Distrito Federal, Brazil|BR|BR07|40202|-15.7833|-47.9167|-631243|12
4|Ecopetrol, Tolima, Colombia|CO|CO28|14343|5.20187|-74.9301|10837637|12
2|Hawaii, United States|US|USHI||21.1098|-157.531|HI|12
3|Hopkinsville, Kentucky, United States|US|USKY|KY047|36.8656|-87.4886|494550|12
2|Arkansas, United States|US|USAR||34.9513|-92.3809|AR|12
1|Korea|KS|KS||37|127.5|KS|12
4|Kherson, Khersons'ka Oblast', Ukraine|UP|UP08|28557|46.6558|32.6178|-1041356|12
1|Hungary|HU|HU||47|20|HU|12
4|Aquidaban, Amazonas, Brazil|BR|BR04|18585|-6.5|-69.6833|-625463|12
4|Brussels, Bruxelles-Capitale, Belgium|BE|BE11|5850|50.8333|4.33333|-1955538|12
4|Galmudug, Somalia (general), Somalia|SO|SO00|25707|6|48|11432107|12
4|Jerusalem, Israel (general), Israel|IS|IS00|18315|31.7667|35.2333|-797092|12
1|Iran|IR|IR||32|53|IR|12
1|Cuba|CU|CU||22|-79.5|CU|12
3|Hollywood, California, United States|US|USCA|CA037|34.0983|-118.327|1660757|12
3|World Bank, District of Columbia, United States|US|USDC|DC001|38.899|-77.0422|2002658|12
4|Bridgewater, Nova Scotia, Canada|CA|CA07|12631|44.3667|-64.5167|-561631|12
3|Miami, Florida, United States|US|USFL|FL086|25.7743|-80.1937|295004|12
3|First Baptist Church, Texas, United States|US|USTX|TX167|29.3941|-94.9155|1385009|12
1|Lebanon|LE|LE||33.833333|35.833333|LE|12
4|Yangon, Yangon, Myanmar|BM|BM17|41840|16.8053|96.1561|-440623|12
3|Grand Rapids, Michigan, United States|US|USMI|MI081|42.9634|-85.6681|627105|12
5|Karnataka, Karnataka, India|IN|IN19|17688|13.5|76|-2099860|12
3|Seattle, Washington, United States|US|USWA|WA033|47.6062|-122.332|1512650|12
1|Belarus|BO|BO||53|28|BO|12
1|Nigerian|NI|NI||10|8|NI|12
2|Minnesota, United States|US|USMN||45.7326|-93.9196|MN|12
4|Dover, Kent, United Kingdom|UK|UKG5|40117|51.1333|1.3|-2594561|11
4|Hatikva, Tel Aviv, Israel|IS|IS05|18316|32.05|34.7833|-781414|11
4|Pretoria, Gauteng, South Africa|SF|SF06|77346|-25.7069|28.2294|-1273769|11
4|Makei, Pskovskaya Oblast', Russia|RS|RS60|25089|56.3743|28.2813|10572314|11
4|Mogadishu, Banaadir, Somalia|SO|SO02|25691|2.06667|45.3667|-3227437|11
4|Ballinamore, Leitrim, Ireland|EI|EI14|18294|54.05|-7.8|-1500359|11
4|Gwenzi, Zimbabwe (general), Zimbabwe|ZI|ZI00|40197|-19.2333|32.5167|-2312163|11
3|Charles River, Massachusetts, United States|US|USMA|MA025|42.3709|-71.0495|619357|11
5|Balochistan, Balochistan, Pakistan|PK|PK02|40300|28.4785|65.6436|-2755738|11
1|Azerbaijan|AJ|AJ||40.5|47.5|AJ|11
1|Ethiopia|ET|ET||8|38|ET|11
1|Norway|NO|NO||62|10|NO|11
1|Chile|CI|CI||-30|-71|CI|11
1|Denmark|DA|DA||56|10|DA|11
3|Floresville, Texas, United States|US|USTX|TX493|29.1336|-98.1561|1357499|11
4|Geneva, Genè, Switzerland|SZ|SZ07|16329|46.1956|6.14811|-2552151|11
1|Algeria|AG|AG||28|3|AG|11
4|Kharar, Uttar Pradesh, India|IN|IN36|70279|24.3667|82.95|-2100600|11
3|Circleville, Ohio, United States|US|USOH|OH129|39.6006|-82.946|1056803|11
1|Hong Kong|HK|HK||22.25|114.166667|HK|11
1|Croatia|HR|HR||45.166667|15.5|HR|11
1|Cambodian|CB|CB||13|105|CB|11
1|Scotland|UK|UK||54|-4|UK|11
1|Nepal|NP|NP||28|84|NP|11
1|German|GM|GM||51.5|10.5|GM|11
2|Vermont, United States|US|USVT||44.0407|-72.7093|VT|11
4|Warsaw, (Pl67), Poland|PL|PL67|24452|52.25|21|-534433|11
1|Yemen|YM|YM||15.5|47.5|YM|11
1|Britain|UK|UK||54|-4|UK|11
1|Syrian|SY|SY||35|38|SY|11
5|Kerala, Kerala, India|IN|IN13|17699|10|76.5|-2100307|11
4|Drogheda, Louth, Ireland|EI|EI19|18299|53.7189|-6.34778|-1502467|11
1|Mexican|MX|MX||23|-102|MX|11
4|Sussex, Limpopo, South Africa|SF|SF09|6322|-23.4951|27.2675|-1288462|10
1|Egypt|EG|EG||27|30|EG|10
4|Budapest, Budapest, Hungary|HU|HU05|17514|47.5|19.0833|-850553|10
4|Colombo, Western, Sri Lanka|CE|CE36|25852|6.93194|79.8478|-2214877|10
2|New Mexico, United States|US|USNM||34.8375|-106.237|NM|10
1|Bulgaria|BU|BU||43|25|BU|10
2|Delaware, United States|US|USDE||39.3498|-75.5148|DE|10
4|Yalta, Tul'skaya Oblast', Russia|RS|RS76|25105|53.4771|38.0354|-3038596|10
1|Tanzania|TZ|TZ||-6|35|TZ|10
3|San Diego, California, United States|US|USCA|CA073|32.7153|-117.157|1661377|10
4|Accra, Greater Accra, Ghana|GH|GH01|190655|5.55|-0.216667|-2067935|10
4|Culiacan, Sinaloa, Mexico|MX|MX25|20887|24|-107.033|-3826050|10
4|Phnom Penh, (Cb11), Cambodia|CB|CB11|12390|11.55|104.917|-1033783|10
1|Cuban|CU|CU||22|-79.5|CU|10
4|Changsha, Hunan, China|CH|CH11|13130|28.2|112.967|-1899978|10
4|Midlands, Leicestershire, United Kingdom|UK|UKH5|40119|52.75|-1.5|-2603074|10
3|Berkeley, California, United States|US|USCA|CA001|37.8716|-122.273|1658037|10
1|Solomon Islands|BP|BP||-8|159|BP|10
5|Tibet, Xizang, China|CH|CH14|13213|32|90|-1934604|10
3|Brooklyn, New York, United States|US|USNY|NY025|42.3442|-75.1704|944840|10`

const vocabDomains = `elpasotimes.com watchingamerica.com wam.ae reuters.com politico.com news.yahoo.com bleedingcool.com churchtimes.co.uk
bworldonline.com asiabulletin.com straitstimes.com allafrica.com plenglish.com thehindu.com dailymail.co.uk france24.com
cleveland.com turkmenistan.ru sandiegouniontribune.com ibtimes.com asiasentinel.com bgdailynews.com timesofindia.indiatimes.com belfasttelegraph.co.uk
vestnikkavkaza.net mirror.co.uk kopsource.com usatoday.com belsat.eu comunicati.net modernghana.com timescolonist.com
telegraph.co.uk milfordmercury.co.uk cebudailynews.inquirer.net ptinews.com forbes.com cumberlink.com mei.edu timesrecordnews.com
finanznachrichten.de onlinenigeria.com weeklyblitz.net theguardian.com ktuu.com nation.co.ke atlantablackstar.com northwestgeorgianews.com
thisislocallondon.co.uk iol.co.za globalnews.ca foxbangor.com spacedaily.com thestatesman.com bulawayo24.com today.ng
tiogapublishing.com thesun.co.uk cnet.com bianet.org garoweonline.com democratherald.com bangordailynews.com triblive.com
thestreetjournal.org hellomagazine.com bowenislandundercurrent.com goskagit.com newsweek.com financialexpress.com channelnewsasia.com thetab.com
uk.reuters.com newstimes.com the-star.co.ke monitor.co.ug cambodiantimes.com siliconrepublic.com tuko.co.ke pennrecord.com
prokerala.com thehill.com springfieldnewssun.com hamhigh.co.uk prnewswire.com breakingnews.ie beverly.wickedlocal.com nypost.com
sentinelsource.com onenewspage.com thewestmorlandgazette.co.uk caribbeanherald.com syracuse.com al.com ianslive.in trustedreviews.com
nytimes.com thenewstack.io sailingscuttlebutt.com app.com publishingperspectives.com ross-shirejournal.co.uk leaderlive.co.uk bnnbloomberg.ca
crowrivermedia.com goldcoastbulletin.com.au chorley-guardian.co.uk shannonside.ie sundaytimes.lk azatutyun.am wjle.com theatlantic.com
arlnow.com zbc.co.zw stamfordadvocate.com grandrapidsmn.com suffolknews.co.uk washingtontimes.com meadvilletribune.com wcvb.com
india.com marketscreener.com kwtx.com planetf1.com wbir.com newsweekpakistan.com index.hu abcnews.go.com
finance.yahoo.com riograndesun.com mybroadband.co.za timeslive.co.za focus-fen.net hollandsentinel.com 680news.com oilandgas360.com
indianagazette.com wthr.com msnbc.com eurekalert.org surfky.com heraldpalladium.com tdn.com polkio.com
washingtonpost.com idahopress.com independent.ie 933thedrive.com purdueexponent.org businessinsider.com broadwayworld.com cbr.com
barrons.com somersetcountygazette.co.uk humanesociety.org forbesindia.com insidermonkey.com lmtonline.com sentinel-standard.com citizen.co.za
southwestfarmer.co.uk thepeninsulaqatar.com hot967.fm lostcoastoutpost.com ntd.com auburnvillager.com wbal.com hiawathaworldonline.com
wokq.com brisbanetimes.com.au haitisun.com insidefutbol.com swimswam.com khou.com koco.com yahoo.com
odnako.org upr.org iwradio.co.uk theepochtimes.com wcsufm.org thesouthernreporter.co.uk wrkf.org news-herald.com
express.co.uk rechargenews.com fltimes.com talkingpointsmemo.com rrr.org.au ktar.com hobbyfarms.com wbtv.com
mining-technology.com dailygazette.com fox17online.com photogallery.indiatimes.com delmarvapublicradio.net heraldnet.com mondaq.com bwog.com
realassets.ipe.com thediplomat.com elkvalleytimes.com sciencedaily.com enstarz.com 972mag.com socialistparty.org.uk flickeringmyth.com
autoworldnews.com dnyuz.com outsideonline.com dailyitem.com oakridger.com richmondregister.com wboc.com geograph.org.uk
scotsman.com lite987.com webindia123.com therealdeal.com politicosl.com theparisnews.com dailyfreeman.com enidnews.com
mondoweiss.net azernews.az chathamdailynews.ca thenews-chronicle.com opinionnigeria.com independent.com.mt nysun.com originalfm.com
winonadailynews.com heraldscotland.com repeatingislands.com wataugademocrat.com theworldlink.com northwichguardian.co.uk chathamthisweek.com walesonline.co.uk`

const vocabThemes = `TAX_FNCACT:719 EPU_POLICY:354 TAX_ETHNICITY:341 CRISISLEX_CRISISLEXREC:301 UNGP_FORESTS_RIVERS_OCEANS:278 TAX_WORLDLANGUAGES:265
LEADER:248 SOC_POINTSOFINTEREST:238 USPEC_POLITICS_GENERAL1:237 GENERAL_GOVERNMENT:236 CRISISLEX_C07_SAFETY:208 MANMADE_DISASTER_IMPLIED:203
WB_696_PUBLIC_SECTOR_MANAGEMENT:201 EDUCATION:183 GENERAL_HEALTH:182 EPU_ECONOMY_HISTORIC:178 EPU_POLICY_GOVERNMENT:175 WB_621_HEALTH_NUTRITION_AND_POPULATION:174
WB_2432_FRAGILITY_CONFLICT_AND_VIOLENCE:173 MEDICAL:161 KILL:158 MEDIA_MSM:156 TAX_DISEASE:155 WB_133_INFORMATION_AND_COMMUNICATION_TECHNOLOGIES:155
USPEC_POLICY1:147 SECURITY_SERVICES:146 CRISISLEX_C03_WELLBEING_HEALTH:146 WB_678_DIGITAL_GOVERNMENT:145 TAX_FNCACT_POLICE:137 CRISISLEX_T03_DEAD:134
WB_135_TRANSPORT:133 TAX_FNCACT_PRESIDENT:132 WB_694_BROADCAST_AND_MEDIA:127 CRISISLEX_T11_UPDATESSYMPATHY:125 WB_2433_CONFLICT_AND_VIOLENCE:124 ARMEDCONFLICT:117
WB_840_JUSTICE:112 EPU_CATS_MIGRATION_FEAR_FEAR:111 TAX_ECON_PRICE:108 MEDIA_SOCIAL:108 AFFECT:102 CRISISLEX_T02_INJURED:100
WB_2670_JOBS:100 TAX_FNCACT_MINISTER:97 TAX_MILITARY_TITLE:94 WB_1406_DISEASES:93 WB_831_GOVERNANCE:91 WB_635_PUBLIC_HEALTH:89
WB_470_EDUCATION:89 ARREST:88 TAX_FNCACT_CHIEF:88 UNGP_CRIME_VIOLENCE:87 LEGISLATION:86 TAX_WORLDMAMMALS:86
TRIAL:84 WB_1427_NON_COMMUNICABLE_DISEASE_AND_INJURY:81 WB_1803_TRANSPORT_INFRASTRUCTURE:79 EPU_ECONOMY:78 TAX_FNCACT_MAN:76 SOC_GENERALCRIME:76
TAX_FNCACT_DIRECTOR:76 CRISISLEX_T01_CAUTION_ADVICE:75 WB_1014_CRIMINAL_JUSTICE:73 EPU_POLICY_LAW:72 WOUND:71 SOC_POINTSOFINTEREST_HOSPITAL:68
TAX_FNCACT_AUTHORITIES:68 EPU_POLICY_AUTHORITIES:68 SOC_POINTSOFINTEREST_UNIVERSITY:68 TAX_POLITICAL_PARTY:68 TAX_FNCACT_CHILDREN:68 TAX_FNCACT_WOMAN:66
USPEC_UNCERTAINTY1:65 WB_832_ANTI_CORRUPTION:64 WB_698_TRADE:64 WB_2165_HEALTH_EMERGENCIES:63 NATURAL_DISASTER:62 EPU_POLICY_POLITICAL:62
TAX_FNCACT_OFFICIALS:60 WB_2024_ANTI_CORRUPTION_AUTHORITIES:58 ELECTION:58 TAX_FNCACT_OFFICIAL:57 WB_137_WATER:57 GEN_HOLIDAY:56
TAX_ETHNICITY_AMERICAN:56 UNGP_HEALTHCARE:56 TAX_FNCACT_MAYOR:54 TAX_FNCACT_OFFICERS:54 TAX_FNCACT_WOMEN:53 CRISISLEX_C04_LOGISTICS_TRANSPORT:53
TAX_FNCACT_LEADERS:53 WB_723_PUBLIC_ADMINISTRATION:53 TAX_FNCACT_EXECUTIVE:52 EPU_CATS_NATIONAL_SECURITY:52 TAX_FNCACT_LEADER:51 PROTEST:51
WB_2470_PEACE_OPERATIONS_AND_CONFLICT_MANAGEMENT:51 EPU_CATS_REGULATION:51 EPU_POLICY_CONGRESS:49 MARITIME:49 WB_1428_INJURY:48 WB_2025_INVESTIGATION:48
EPU_POLICY_POLICY:48 TAX_RELIGION:48 WB_2048_COMPENSATION_CAREERS_AND_INCENTIVES:48 WB_724_HUMAN_RESOURCES_FOR_PUBLIC_SECTOR:48 TAX_FNCACT_SECRETARY:48 WB_435_AGRICULTURE_AND_FOOD_SECURITY:48
WB_652_ICT_APPLICATIONS:47 WB_658_ENTERPRISE_APPLICATIONS:47 DELAY:46 WB_662_SOCIAL_MEDIA:46 SCIENCE:45 TAX_FNCACT_KING:45
SOC_POINTSOFINTEREST_SCHOOL:45 TAX_WEAPONS:44 MILITARY:43 AGRICULTURE:42 WB_697_SOCIAL_PROTECTION_AND_LABOR:42 TAX_FNCACT_DEPUTY:42
CRISISLEX_T08_MISSINGFOUNDTRAPPEDPEOPLE:41 WB_507_ENERGY_AND_EXTRACTIVES:41 TAX_ETHNICITY_BLACK:41 DISCRIMINATION:41 TAX_FNCACT_VICTIMS:39 WB_1921_PRIVATE_SECTOR_DEVELOPMENT:39
WB_2166_HEALTH_EMERGENCY_PREPAREDNESS_AND_DISASTER_RESPONSE:39 WB_2167_PANDEMICS:39 TAX_ETHNICITY_INDIAN:39 TAX_FNCACT_COMMISSIONER:38 TAX_MILITARY_TITLE_OFFICERS:38 CORRUPTION:38
TAX_FNCACT_PRIME_MINISTER:38 UNGP_FREEDOM_FROM_DISCRIMINATION:38 CRISISLEX_O01_WEATHER:37 TAX_WORLDMAMMALS_HUMAN:37 WB_1467_EDUCATION_FOR_ALL:37 BAN:37
WB_2490_NATIONAL_PROTECTION_AND_SECURITY:36 HEALTH_PANDEMIC:36 WB_695_POVERTY:35 TAX_FNCACT_OFFICER:35 MOVEMENT_GENERAL:35 WB_566_ENVIRONMENT_AND_NATURAL_RESOURCES:34
TAX_FNCACT_DRIVER:34 WB_895_MINING_SYSTEMS:33 ALLIANCE:33 PUBLIC_TRANSPORT:33 SOC_POINTSOFINTEREST_HOSPITALS:32 TAX_ETHNICITY_ASIAN:32
TAX_FNCACT_WORKERS:32 MARITIME_INCIDENT:31 WB_2689_JOBS_DIAGNOSTICS:31 WB_166_RAILWAYS:31 DEMOCRACY:31 UNGP_POLITICAL_FREEDOMS:31
BORDER:31 TAX_FNCACT_SPOKESMAN:30 WB_1699_METAL_ORE_MINING:30 WB_2495_DETENTION_PRISON_AND_CORRECTIONS_REFORM:30 TAX_FNCACT_STUDENTS:30 TAX_FOODSTAPLES:30
WB_1920_FINANCIAL_SECTOR_DEVELOPMENT:30 WB_1484_EDUCATION_SKILLS_DEVELOPMENT_AND_LABOR_MARKET:30 TAX_FNCACT_GOVERNOR:30 WB_2462_POLITICAL_VIOLENCE_AND_WAR:30 TAX_ETHNICITY_AMERICANS:29 TAX_FNCACT_ACTOR:29
WB_2131_EMPLOYABILITY_SKILLS_AND_JOBS:29 TAX_FNCACT_SPOKESPERSON:28 TAX_TERROR_GROUP:28 WB_590_ECOSYSTEMS:28 WB_1458_HEALTH_PROMOTION_AND_DISEASE_PREVENTION:27 WB_1331_HEALTH_TECHNOLOGIES:27
WB_1350_PHARMACEUTICALS:27 TAX_FNCACT_CITIZENS:27 ECON_WORLDCURRENCIES:27 WB_134_SOCIAL_DEVELOPMENT:27 TAX_ETHNICITY_AUSTRALIAN:27 TAX_ETHNICITY_FRENCH:27
TAX_WORLDLANGUAGES_FRENCH:27 WB_1104_MACROECONOMIC_VULNERABILITY_AND_DEBT:27 TAX_DISEASE_WOUNDS:26 TAX_FNCACT_PROSECUTORS:26 UNREST_BELLIGERENT:26 TAX_FNCACT_CHAIRMAN:26
TAX_MILITARY_TITLE_OFFICER:25 TAX_ETHNICITY_CHINESE:25 TERROR:25 APPOINTMENT:25 TAX_FNCACT_CHILD:25 TAX_WORLDLANGUAGES_KANSAS:24
WB_1324_EMERGENCY_MEDICAL_SERVICES:24 TAX_FNCACT_MANAGER:24 TAX_FNCACT_EMPLOYEES:24 TAX_FNCACT_ATTORNEY:24 TRAFFIC:24 TAX_FNCACT_BABY:24
SOC_POINTSOFINTEREST_COLLEGE:24 TAX_FNCACT_DRIVERS:24 TRANSPARENCY:23 SOC_POINTSOFINTEREST_PRISON:23 TAX_FNCACT_JUDGE:23 WB_2745_JOB_QUALITY_AND_LABOR_MARKET_PERFORMANCE:23
WB_1466_SOCIAL_ASSISTANCE:23 TAX_WORLDLANGUAGES_RUSSIA:23 TAX_FNCACT_DETECTIVES:22 SOC_USSECURITYAGENCIES:22 URBAN:22 TAX_FNCACT_FATHER:22
SOC_INNOVATION:22 WB_2203_HUMAN_RIGHTS:22 TAX_FNCACT_AUTHOR:22 WB_699_URBAN_DEVELOPMENT:21 EPU_CATS_TAXES:21 WB_2453_ORGANIZED_CRIME:21
ETH_INDIGINOUS:21 ECON_STOCKMARKET:21 TAX_WORLDFISH:21 TAX_WORLDLANGUAGES_CHINESE:21 WB_405_BUSINESS_CLIMATE:21 WB_2445_NON_STATE_SECURITY_ACTORS:21
WB_567_CLIMATE_CHANGE:21 TAX_FNCACT_FOUNDER:21 TAX_FNCACT_CEO:21 WB_2769_JOBS_STRATEGIES:21 NEGOTIATIONS:21 TAX_FNCACT_CRIMINAL:20
WB_346_COMPETITIVE_INDUSTRIES:20 SOC_POINTSOFINTEREST_UNIVERSITIES:20 TAX_ETHNICITY_INDIGENOUS:20 TAX_FNCACT_STUDENT:20 TAX_ETHNICITY_RUSSIAN:20 TAX_WORLDLANGUAGES_RUSSIAN:20
TAX_DISEASE_COVID-19:20 WB_2531_INSPECTIONS_LICENSING_AND_PERMITS:20 WB_2530_BUSINESS_ENVIRONMENT:20 TAX_FNCACT_ANALYSTS:20 EPU_POLICY_WHITE_HOUSE:20 WB_2465_REVOLUTIONARY_VIOLENCE:20
TAX_FNCACT_LADY:20 UNREST_CRACKDOWN:19 TAX_FNCACT_AGENT:19 ECON_TAXATION:19 WB_2456_DRUGS_AND_NARCOTICS:19 ECON_HOUSING_PRICES:19
WB_1979_NATURAL_RESOURCE_MANAGEMENT:19 ENV_CLIMATECHANGE:19 UNGP_CLIMATE_CHANGE_ACTION:19 SHORTAGE:19 GOV_LOCALGOV:19 WB_855_LABOR_MARKETS:19
EPU_POLICY_TAX:18 WB_818_INDUSTRY_POLICY_AND_REAL_SECTORS:18 RECRUITMENT:18 RURAL:18 EPU_UNCERTAINTY:18 WB_1986_MOUNTAINS:18
REBELLION:18 SOC_POINTSOFINTEREST_SCHOOLS:18 TAX_WORLDLANGUAGES_MAHARASHTRA:18 RELIGION:18 UNGP_JOB_OPPORTUNITIES_EMPLOYMENT:18 TAX_FNCACT_WRITER:17
WB_1462_WATER_SANITATION_AND_HYGIENE:17 DISASTER_FIRE:17 TAX_CHRONICDISEASE:17 TAX_FNCACT_FARMERS:17 EPU_CATS_MIGRATION_FEAR_MIGRATION:17 WB_421_SOCIAL_INCLUSION:17
TAX_FNCACT_ANALYST:17 TAX_FNCACT_QUEEN:17 TAX_DISEASE_DISEASE:17 ECON_WORLDCURRENCIES_DOLLARS:17 TAX_FNCACT_TROOPS:17 TAX_FNCACT_ACTRESS:17
WB_1967_AGRICULTURAL_RISK_AND_SECURITY:17 EPU_POLICY_BUDGET:17 DISCRIMINATION_RACE:17 WB_1804_AIRPORTS:16 TAX_FNCACT_ATTORNEYS:16 TAX_WEAPONS_GUN:16
TAX_FNCACT_CANDIDATES:16 TAX_FNCACT_ACTIVIST:16 TAX_FNCACT_REPRESENTATIVE:16 WB_2748_EMPLOYMENT:16 WB_471_ECONOMIC_GROWTH:16 WB_933_ETHNIC_RELIGIOUS_AND_OTHER_MINORITIES:16
EPU_POLICY_SPENDING:16 WB_168_ROADS_AND_HIGHWAYS:16 WB_1809_HIGHWAYS:16 TAX_POLITICAL_PARTY_REPUBLICAN:16 TAX_FNCACT_CANDIDATE:16 TAX_FNCACT_BOSS:16
TAX_FNCACT_TEACHER:16 TAX_FNCACT_MINISTERS:16 WB_2507_HUMAN_RIGHTS_ABUSES_AND_VIOLATIONS:16 WB_1497_EDUCATION_MANAGEMENT_AND_ADMINISTRATION:16 TAX_FNCACT_REPRESENTATIVES:16 CONSTITUTIONAL:16
TAX_FNCACT_PROFESSOR:16 WB_2836_MIGRATION_POLICIES_AND_JOBS:16 TAX_FNCACT_SUPPORTERS:16 TAX_FNCACT_AGENTS:16 TAX_FNCACT_BABIES:15 WB_1430_MENTAL_HEALTH:15
POVERTY:15 WATER_SECURITY:15 WB_2960_INDIGENOUS_PEOPLES:15 WB_899_SOCIAL_SAFEGUARDS:15 WB_749_INDIGENOUS_PEOPLES:15 WB_1609_FOOD_AND_IN_KIND_TRANSFERS:15
TAX_WORLDLANGUAGES_MASSACHUSETTS:15 TAX_FNCACT_COMMANDER:15 TAX_POLITICAL_PARTY_NATIONALIST_CONGRESS_PARTY:15 TOURISM:15 TAX_FNCACT_EXECUTIVE_DIRECTOR:15 WB_1777_FORESTS:15
TAX_FNCACT_VICTIM:14 SOC_EXPRESSREGRET:14 TAX_FNCACT_CHIEF_EXECUTIVE:14 IDEOLOGY:14 TAX_RELIGION_CHRISTIAN:14 TAX_ETHNICITY_CHRISTIAN:14
ACT_MAKESTATEMENT:14 CRISISLEX_T04_INFRASTRUCTURE:14 EPU_CATS_HEALTHCARE:14 EPU_CATS_MONETARY_POLICY:14 TAX_FNCACT_ARTIST:14 TAX_ETHNICITY_CANADIAN:14
IMMIGRATION:14 MANMADE_DISASTER:14 WB_1973_FINANCIAL_RISK_REDUCTION:14 WB_337_INSURANCE:14 TAX_FNCACT_NAVY:14 SELF_IDENTIFIED_HUMAN_RIGHTS:14
ECON_INFLATION:14 WB_442_INFLATION:14 VIOLENT_UNREST:14 TAX_DISEASE_TRAUMA:13 WB_1160_SHOCKS_AND_VULNERABILITY:13 SOC_POINTSOFINTEREST_AIRPORT:13
TAX_FNCACT_PROSECUTOR:13 TAX_FNCACT_SOLDIERS:13 WB_2936_GOLD:13 TAX_RELIGION_CHURCH:13 ECON_WORLDCURRENCIES_DOLLAR:13 WB_167_PORTS:13
TAX_WORLDBIRDS:13 TAX_POLITICAL_PARTY_DEMOCRATS:13 TAX_FNCACT_SPEAKER:13 WB_1502_EDUCATIONAL_DECENTRALIZATION:13 DISCRIMINATION_RACE_RACISM:13 ECON_DEBT:13
WB_450_DEBT:13 CRISISLEX_C06_WATER_SANITATION:12 WB_838_PUBLIC_ACCOUNTABILITY_MECHANISMS:12 TAX_FNCACT_LAWYER:12 TAX_AIDGROUPS:12 TAX_FNCACT_COMEDIAN:12
WB_328_FINANCIAL_INTEGRITY:12 WB_667_ICT_INFRASTRUCTURE:12 TAX_WORLDMAMMALS_BEAR:12 TAX_FNCACT_DOCTORS:12 HARASSMENT:12 REBELS:12
WB_813_URBAN_GOVERNANCE_AND_CITY_SYSTEMS:12 REFUGEES:12 TAX_FNCACT_ARTISTS:11 TAX_POLITICAL_PARTY_REPUBLICANS:11 TAX_POLITICAL_PARTY_DEMOCRAT:11 TAX_FNCACT_LAWMAKERS:11
EPU_POLICY_LAWMAKERS:11 TAX_FNCACT_GUARD:11 TAX_WORLDMAMMALS_HUMANS:11 WB_2026_PREVENTION:11 WB_1949_CLIMATE_SMART_AGRICULTURE:11 EPU_POLICY_LEGISLATION:11
WB_2082_LAW_ENFORCEMENT:11 WB_845_LEGAL_AND_REGULATORY_FRAMEWORK:11 TAX_DISEASE_COVID:11 ECON_INTEREST_RATES:11 WB_644_NUTRITION:11 ECON_UNIONS:11
EXTREMISM:11 TAX_FNCACT_POLITICIANS:11 SOC_POINTSOFINTEREST_HIGH_SCHOOL:11 WB_286_TELECOMMUNICATIONS_AND_BROADBAND_ACCESS:11 TAX_DISEASE_CANCER:11 WB_1431_CANCER:11
ENV_OIL:11 WB_2471_PEACEKEEPING:11 TAX_FNCACT_LAWYERS:11 TAX_FNCACT_CHAMPION:11 RESIGNATION:11 TAX_FNCACT_OPERATOR:10
CRISISLEX_O02_RESPONSEAGENCIESATCRISIS:10 WB_2019_ANTI_CORRUPTION_LEGISLATION:10 TAX_FNCACT_VICE_PRESIDENT:10 TAX_DISEASE_ASTHMA:10 TAX_CHRONICDISEASE_ASTHMA:10 TAX_DISEASE_ALLERGY:10
WB_1281_MANUFACTURING:10 TAX_MILITARY_TITLE_SOLDIERS:10 ECON_DEVELOPMENTORGS:10 TAX_FNCACT_CITIZEN:10 WB_2890_AFFIRMATIVE_ACTION:10 WB_2889_MINORITIES_AND_DISENFRANCHISED_GROUPS_AND_JOBS:10
WB_2884_INCLUSIVE_JOBS:10 WB_670_ICT_SECURITY:10 TAX_DISEASE_DEMENTIA:10 TAX_MILITARY_TITLE_COMMANDER:10 WB_738_SOCIAL_COHESION:10 WB_1305_HEALTH_SERVICES_DELIVERY:10
TAX_ETHNICITY_GERMAN:10 TAX_WORLDLANGUAGES_GERMAN:10 TAX_FNCACT_INSIDER:10 SEIGE:10 WB_478_LEVELS_OF_EDUCATION:10 TAX_FNCACT_RESEARCHER:10
SELF_IDENTIFIED_ATROCITY:10 EPU_CATS_ENTITLEMENT_PROGRAMS:10 WB_1078_DETERMINANTS_OF_GROWTH:10 TAX_FNCACT_ACTIVISTS:10 WB_2473_DIPLOMACY_AND_NEGOTIATIONS:10 WB_939_NEGOTIATION:10
WB_936_ALTERNATIVE_DISPUTE_RESOLUTION:10 WB_843_DISPUTE_RESOLUTION:10 WB_2837_IMMIGRATION:10 DISABILITY:10 TAX_FNCACT_INTERIOR_MINISTER:10 ENV_MINING:10
SOC_POINTSOFINTEREST_MEDICAL_CENTER:9 WB_2020_BRIBERY_FRAUD_AND_COLLUSION:9 DRUG_TRADE:9 TAX_RELIGION_MUSLIM:9 TAX_ETHNICITY_MUSLIM:9 CRISISLEX_C05_NEED_OF_SHELTERS:9
TAX_ETHNICITY_AUSTRALIANS:9 WB_639_REPRODUCTIVE_MATERNAL_AND_CHILD_HEALTH:9 TAX_FNCACT_EXECUTIVES:9 TAX_FNCACT_BOARD_MEMBERS:9 WB_1464_HEALTH_OF_THE_DISABLED:9 TAX_FNCACT_DOCTOR:9
NATURAL_DISASTER_ICE:9 RAPE:9 TAX_FNCACT_SINGER:9 TAX_POLITICAL_PARTY_DEMOCRATIC_PARTY:9 SOC_POINTSOFINTEREST_JAIL:9 ORGANIZED_CRIME:9
TAX_FOODSTAPLES_MEAT:9 TAX_FNCACT_VOLUNTEERS:9 LGBT:9 TAX_FNCACT_SUPERINTENDENT:9 UNEMPLOYMENT:9 DRONES:9
TAX_ETHNICITY_SOVIET:9 WB_336_NON_BANK_FINANCIAL_INSTITUTIONS:9 WB_332_CAPITAL_MARKETS:9 WB_2937_SILVER:9 PERSECUTION:9 TAX_FNCACT_EMPLOYEE:8
KIDNAP:8 TAX_DISEASE_BORDERLINE_PERSONALITY_DISORDER:8 TAX_FNCACT_INVESTOR:8 WB_1199_WATER_SUPPLY_AND_SANITATION:8 NATURAL_DISASTER_EROSION:8 HEALTH_VACCINATION:8
WB_174_CROP_PRODUCTION:8 TAX_FOODSTAPLES_MILK:8 TAX_WORLDARACHNIDS:8 TAX_WORLDARACHNIDS_TICK:8 STRIKE:8 ECON_BITCOIN:8
WB_2142_LOCAL_GOVERNMENT:8 TAX_FNCACT_PILOTS:8 WB_2690_CATEGORIES_OF_EMPLOYMENT:8 WB_164_MODES_OF_TRANSPORT:8 WB_482_TERTIARY_EDUCATION:8 WB_825_TOURISM:8
TAX_FNCACT_PRODUCER:8 TAX_ETHNICITY_IRISH:8 TAX_WORLDLANGUAGES_IRISH:8 TAX_ETHNICITY_POLE:8 TAX_ETHNICITY_SENA:8 TAX_WORLDLANGUAGES_SKAGIT:8
WB_318_FINANCIAL_ARCHITECTURE_AND_BANKING:8 TAX_FNCACT_GUIDE:8 TAX_ETHNICITY_UKRAINIAN:8 TAX_WORLDLANGUAGES_UKRAINIAN:8 TAX_FNCACT_PILOT:8 TAX_FNCACT_ANNOUNCER:8
WB_625_HEALTH_ECONOMICS_AND_FINANCE:8 TAX_FNCACT_POLICE_OFFICER:8 WB_817_LAND_AND_HOUSING:8 TAX_FNCACT_HUNTER:7 TAX_WEAPONS_GUNS:7 SOC_SUICIDE:7
WB_439_MACROECONOMIC_AND_STRUCTURAL_POLICIES:7 TAX_FNCACT_SPOKESWOMAN:7 WB_2601_TRADE_LINKAGES_SPILLOVERS_AND_CONNECTIVITY:7 WB_772_TRADE_FACILITATION_AND_LOGISTICS:7 WB_866_CONNECTIVITY_AND_LAGGING_REGIONS:7 WB_797_NATIONAL_URBAN_POLICIES:7
WB_1550_INDIGENOUS_EDUCATION:7 WB_2127_EDUCATION_ACCESS_AND_EQUITY:7 WB_1614_NUTRITIONAL_PROGRAMS:7 WB_642_CHILD_HEALTH:7 WB_1459_IMMUNIZATIONS:7 EPU_POLICY_INTEREST_RATES:7
TAX_FNCACT_PRESENTER:7 TAX_FNCACT_EDITOR:7 WB_1786_ENVIRONMENTAL_SUSTAINABILITY:7 WB_1448_DEMOGRAPHIC_CHANGE:7 TAX_FNCACT_MANAGING_DIRECTOR:7 ECON_CURRENCY_EXCHANGE_RATE:7
TAX_FNCACT_PLAYER:7 TAX_FNCACT_DETECTIVE:7 TAX_FNCACT_IMMIGRANT:7 TAX_TERROR_GROUP_BHARATIYA_JANATA_PARTY:7`

const vocabCountTypes = `KILL:127 WOUND:107 CRISISLEX_T02_INJURED:79 CRISISLEX_T03_DEAD:75 CRISISLEX_CRISISLEXREC:56 AFFECT:47 CRISISLEX_C03_WELLBEING_HEALTH:39 ARREST:34 CRISISLEX_C07_SAFETY:25 PROTEST:17 REFUGEES:17 EPU_CATS_MIGRATION_FEAR_MIGRATION:17 SOC_GENERALCRIME:16 CRISISLEX_C04_LOGISTICS_TRANSPORT:4 KIDNAP:3 TAX_FNCACT_DEMONSTRATORS:3 VIOLENT_UNREST:3 MOVEMENT_GENERAL:2 TAX_FNCACT_ACTIVIST:2 SOC_POINTSOFINTEREST_JAIL:2 EVACUATION:1 DISPLACED:1 CRISISLEX_T01_CAUTION_ADVICE:1 TERROR:1 ARMEDCONFLICT:1`
