package gdeltgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

// generator is the state carried from window to window, and the current window's random stream.
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
	v, err := loadVocab()
	if err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, v: v, start: start}
	ref := time.Date(2023, 7, 2, 0, 0, 0, 0, time.UTC)
	g.base0 = 1_300_000_000 + int64(start.Sub(ref)/WindowDuration)*2000
	if g.base0 < 100_000_000 {
		g.base0 = 100_000_000
	}
	g.nextID = g.base0
	g.seen = make([]uint32, 4096)

	g.gcamScale, g.extraScale = gkgScales(cfg.GKGRowBytes)
	g.gcamThr = gcamThresholds(v.gcam, g.gcamScale)
	return g, nil
}

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

// window generates window i. Its random draws come from one stream seeded by (Seed, i), in a fixed order:
// documents, events, mentions, GKG documents, then the rendering of mentions and GKG rows; re-exports use a
// stream of their own. Reordering any draw changes every later byte (TestGoldenMirror).
func (g *generator) window(i int) Window {
	t := g.windowTime(i)
	g.pcg = rand.NewPCG(uint64(g.cfg.Seed), uint64(i)*0x9E3779B97F4A7C15+0x632BE59BD9B4E019)
	g.r = rand.New(g.pcg)
	last := i == g.cfg.Windows-1
	nE, nM, nG := g.counts(i)

	// documents: the web documents first (nWeb of them; the events' documents are the first nEventDocs),
	// then citation-only and CORE ones, which only mentions refer to
	nWeb := clamp(int(math.Round(float64(nG)*0.7)), 1, max(1, nM/2))
	nEventDocs := clamp(int(math.Round(float64(nWeb)*0.85)), 1, max(1, nE))
	if nE == 0 {
		nEventDocs = 0
	}
	docs, gkgHere, carryNext := g.webDocuments(t, nWeb, last)
	nNonWeb := 0
	if nM >= 20 {
		nNonWeb = max(1, int(math.Round(float64(nM)*0.04/3)))
	}
	for range nNonWeb {
		docs = append(docs, g.newNonWebDoc(t))
	}

	evs, first := g.events(i, nE, nEventDocs, docs)
	ments := g.mentions(i, t, nM, evs, docs, nWeb, nNonWeb)
	countMentions(t, first, evs, ments, docs)
	gkgDocs := g.gkgDocuments(t, nG, gkgHere, carryNext)

	w := Window{Time: t}
	w.Export = g.renderExport(t, evs, docs)
	if g.cfg.Reexports > 0 {
		w.Export = g.reexport(i, w.Export)
	}
	w.Mentions = g.renderMentions(t, ments, docs)
	w.GKG = g.renderGKG(t, gkgDocs)
	return w
}
