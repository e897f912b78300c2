package gdeltgen

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Mentions are the mentions file's rows: every event of the window is mentioned in its own window (by the
// document that reported it first, then by others, a few events widely), and 40-50% of the rows are late
// mentions of events first seen 15 minutes to 6 weeks earlier (earlierEvent). One (event, document) pair may
// come back in other sentences; non-web documents mention events too.

type mention struct {
	eventID   int64
	eventTime time.Time
	doc       int
	sentence  int
	a1, a2    bool // actor present (offset) or -1
}

// mentions makes window i's nM mention rows, ordered by event, document and sentence as GDELT writes them.
// Documents are drawn with a skew: a few carry many mentions, many carry one or two.
func (g *generator) mentions(i int, t time.Time, nM int, evs []evInfo, docs []*doc, nWeb, nNonWeb int) []mention {
	r := g.r
	nE := len(evs)
	share := 0.40 + 0.10*r.Float64()
	nEarlier := int(math.Round(float64(nM) * share))
	nSame := nM - nEarlier
	if nSame < nE {
		nSame = min(nE, nM)
		nEarlier = nM - nSame
	}
	ments := make([]mention, 0, nM)
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
	return ments
}

// countMentions adds the window's own mentions to its events: NumMentions (rows), NumArticles (distinct
// documents), NumSources (distinct sources per event) and the tone sum for AvgTone. Late mentions count
// nowhere: the export row of an older event was written in its own window.
func countMentions(t time.Time, first int64, evs []evInfo, ments []mention, docs []*doc) {
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

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// confidences are the Confidence values a mention row draws from, uniformly: multiples of 10, the low and
// high ends more often.
var confidences = []int{10, 10, 10, 10, 20, 20, 30, 40, 50, 50, 50, 60, 70, 80, 90, 100, 100, 100, 100}

// renderMentions writes the mentions file of window t, one row per mention with its 16 fields.
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
			b = append(b, g.v.translations[d.lang].info...)
		}
		b = append(b, '\t', '\n')
	}
	return b
}
