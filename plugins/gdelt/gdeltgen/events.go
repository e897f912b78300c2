package gdeltgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Events are the export file's rows: consecutive GLOBALEVENTIDs per window (a small gap between windows),
// grouped by the document that first reported them, so that one article carries several events. Actors, the
// CAMEO event code with its Goldstein score, and the places come from the vocabularies; NumMentions,
// NumSources, NumArticles and AvgTone count the event's mentions in its own window (countMentions).

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

// events makes window i's nE events, numbered from the end of the previous window plus a gap of 0-3, and
// spreads them over the first nEventDocs documents in consecutive groups of random sizes.
func (g *generator) events(i, nE, nEventDocs int, docs []*doc) (evs []evInfo, first int64) {
	r := g.r
	if i > 0 {
		g.nextID += int64(r.IntN(4))
	}
	first = g.nextID
	evs = make([]evInfo, nE)
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
	return evs, first
}

// newEvent draws an event reported by document d: actors (92% an Actor1, 74% an Actor2), an event code, and
// the places of the action and of each actor, mostly among the document's places.
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

// appendGold formats a Goldstein score like the export: always one decimal at least ("-10.0", "1.9").
func appendGold(b []byte, f float64) []byte {
	if f == math.Trunc(f) {
		return strconv.AppendFloat(b, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// renderExport writes the export file of window t, one 61-field row per event; DATEADDED is the window.
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
