package gdeltgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Documents are the articles of a window: web pages (MentionType 1, a URL from a news domain) that carry
// events, mentions and GKG rows, and citation-only (2) and CORE (3) documents with non-URL identifiers that
// only mentions refer to. Their titles, URLs and quotes are synthetic text built from the words and names
// tables.

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
		d.lang = r.IntN(len(g.v.translations))
		dl := g.v.translations[d.lang].domains
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
		src := g.pick(g.v.citationSources)
		d.source = src
		d.id = fmt.Sprintf("%s, %s, %q, ref %d", src, t.Format("2 Jan 2006"), g.titleCore(), 1000000+d.seq)
	} else {
		d.mtype = 3
		d.source = "CORE"
		d.id = fmt.Sprintf("doi:10.%d/%s.%d.%07d", 1000+r.IntN(9000), g.pick(g.v.coreJournals), t.Year(), d.seq)
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

// webDocuments makes window t's nWeb web documents. About 4% are documents whose GKG row was written in the
// previous window without a mention (GDELT's GKG and mentions disagree by a window now and then); of the new
// ones about 1.5% get no GKG row and 5% get theirs in the next window (not in the last window, which has no
// next). gkgHere are those whose GKG row goes in this window, carryNext those for the next one.
func (g *generator) webDocuments(t time.Time, nWeb int, last bool) (docs, gkgHere, carryNext []*doc) {
	r := g.r
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
	return docs, gkgHere, carryNext
}

// Text: names, headlines, quotes and URLs, from the names and words tables.

func (g *generator) personName() string {
	r := g.r
	if r.IntN(100) < 12 {
		return g.pick(g.v.famousPersons)
	}
	return g.pick(g.v.firstNames) + " " + g.pick(g.v.lastNames)
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
		return fmt.Sprintf("%s %s %s %s", g.place(), g.pick(g.v.nouns), g.pick(g.v.verbs3), g.pick(g.v.objects))
	case 1:
		return fmt.Sprintf("%s %s %s after %s", g.personName(), g.pick(g.v.verbs3), g.pick(g.v.objects), g.pick(g.v.topics))
	case 2:
		return fmt.Sprintf("%d %s %s in %s %s", 2+r.IntN(40), g.pick(g.v.pluralNouns), g.pick(g.v.pastVerbs), g.place(), g.pick(g.v.topics))
	case 3:
		return fmt.Sprintf("%s to %s %s amid %s", capFirst(g.pick(g.v.orgNames)), g.pick(g.v.verbsBase), g.pick(g.v.objects), g.pick(g.v.topics))
	case 4:
		return fmt.Sprintf("How %s %s are coping with %s", g.place(), g.pick(g.v.pluralNouns), g.pick(g.v.topics))
	case 5:
		return fmt.Sprintf("%s: what we know so far", capFirst(g.pick(g.v.adjectives)+" "+g.pick(g.v.topics)+" in "+g.place()))
	case 6:
		return fmt.Sprintf("%s %s hits %s, %d %s %s", capFirst(g.pick(g.v.adjectives)), g.pick(g.v.topics), g.place(), 2+r.IntN(300), g.pick(g.v.pluralNouns), g.pick(g.v.pastVerbs))
	case 7:
		return fmt.Sprintf("%s's %s %s %s", g.place(), g.pick(g.v.nouns), g.pick(g.v.verbs3), g.pick(g.v.objects))
	case 8:
		return fmt.Sprintf("%s %s %s over %s", capFirst(g.pick(g.v.pluralNouns)), g.pick(g.v.verbsBase), g.pick(g.v.objects), g.pick(g.v.topics))
	default:
		return fmt.Sprintf("%s says %s %s %s", g.personName(), g.pick(g.v.nouns), g.pick(g.v.modal), g.pick(g.v.verbsBase)+" "+g.pick(g.v.objects))
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
		t += " &amp; " + g.pick(g.v.topics)
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
		w := g.v.quoteWords[int(float64(len(g.v.quoteWords))*math.Pow(r.Float64(), 2.2))]
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
		return fmt.Sprintf("https://%s/%s/%s-%d.html", host, g.pick(g.v.sections), s, aid)
	case 3:
		var hb []byte
		hb = appendHex(hb, r, 32)
		return fmt.Sprintf("https://%s/article/%s-%s", host, s, hb)
	case 4:
		return fmt.Sprintf("https://%s/story/%s/%d/%02d/%02d/%s/%d/", host, g.pick(g.v.sections), p.Year(), int(p.Month()), p.Day(), s, aid)
	default:
		return fmt.Sprintf("https://%s/%s/%s/article%d.ece", host, g.pick(g.v.sections), s, aid)
	}
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
