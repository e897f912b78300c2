package lookups

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/gdeltflow/gdeltflow/resources"
)

// recordingSink is a MissSink that keeps what it was told.
type recordingSink struct {
	adds    map[Book]uint64
	calls   map[Book]int // Add calls, including those with n = 0
	unknown []string
}

func newRecordingSink() *recordingSink {
	return &recordingSink{adds: map[Book]uint64{}, calls: map[Book]int{}}
}

func (s *recordingSink) Add(book Book, n uint64) { s.adds[book] += n; s.calls[book]++ }
func (s *recordingSink) Unknown(book Book, code string) {
	s.unknown = append(s.unknown, string(book)+":"+code)
}

// TestMissesSubscribe: a sink gets the misses before it (once), then each
// miss; a sink subscribing later takes over, and when it cancels the one
// before it receives again; with none, the misses wait for the next sink;
// every miss reaches exactly one sink.
func TestMissesSubscribe(t *testing.T) {
	b, err := Load(resources.Lookups())
	if err != nil {
		t.Fatal(err)
	}
	m := b.Misses()
	b.EventLabel("999")
	b.EventLabel("999")
	b.GeoCountry("OS")

	s1 := newRecordingSink()
	cancel1 := m.Subscribe(s1)
	for _, book := range AllBooks() {
		if s1.calls[book] == 0 {
			t.Errorf("%s: no Add when the sink subscribed (its series would not exist)", book)
		}
	}
	if s1.adds[CAMEOEvents] != 2 || s1.adds[FIPSCountries] != 1 {
		t.Errorf("backlog %v, want 2 cameo_events and 1 fips_countries", s1.adds)
	}
	if want := []string{"cameo_events:999", "fips_countries:OS"}; !reflect.DeepEqual(s1.unknown, want) {
		t.Errorf("unknown codes told %v, want %v", s1.unknown, want)
	}
	b.EventLabel("999") // seen before: counted, not told again
	b.Religion("ZZZ")
	if s1.adds[CAMEOEvents] != 3 || s1.adds[CAMEOReligion] != 1 {
		t.Errorf("live misses: %v", s1.adds)
	}
	if want := []string{"cameo_events:999", "fips_countries:OS", "cameo_religion:ZZZ"}; !reflect.DeepEqual(s1.unknown, want) {
		t.Errorf("unknown codes told %v, want %v", s1.unknown, want)
	}

	// a second sink takes over: no backlog (s1 had everything), the codes seen so far, then the misses
	s2 := newRecordingSink()
	cancel2 := m.Subscribe(s2)
	b.ActorType("ZZZ")
	if s2.adds[CAMEOActorTypes] != 1 || s1.adds[CAMEOActorTypes] != 0 || s2.adds[CAMEOEvents] != 0 {
		t.Errorf("after a second subscribed: first %v, second %v", s1.adds, s2.adds)
	}
	if len(s2.unknown) != 4 {
		t.Errorf("the second sink was told %v", s2.unknown)
	}
	cancel2()
	cancel2() // twice is harmless
	b.ActorType("ZZZ")
	if s1.adds[CAMEOActorTypes] != 1 || s2.adds[CAMEOActorTypes] != 1 {
		t.Errorf("after the second cancelled, the first receives again: first %v, second %v", s1.adds, s2.adds)
	}

	cancel1()
	b.GeoCountry("OS")
	b.GeoCountry("XX")
	if s1.adds[FIPSCountries] != 1 {
		t.Errorf("a cancelled sink got misses: %v", s1.adds)
	}
	s3 := newRecordingSink()
	cancel3 := m.Subscribe(s3)
	defer cancel3()
	if s3.adds[FIPSCountries] != 2 || s3.adds[CAMEOEvents] != 0 {
		t.Errorf("the next sink's backlog %v, want the 2 FIPS misses after the cancel only", s3.adds)
	}
	// every miss reached exactly one sink
	counts := m.Counts()
	for _, book := range AllBooks() {
		if got := s1.adds[book] + s2.adds[book] + s3.adds[book]; got != counts[book] {
			t.Errorf("%s: the sinks got %d misses, counts %d", book, got, counts[book])
		}
	}
}

// TestMissesBounded: at most MaxUnknownCodes distinct codes are remembered
// per book; the count goes on.
func TestMissesBounded(t *testing.T) {
	b, err := Load(resources.Lookups())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				b.ActorCountry(fmt.Sprintf("Z%d", g*1000+i))
			}
		}()
	}
	wg.Wait()
	if n := b.Misses().Counts()[CAMEOCountries]; n != 4000 {
		t.Errorf("%d misses, want 4000", n)
	}
	if n := len(b.Misses().Unknown(CAMEOCountries)); n != MaxUnknownCodes {
		t.Errorf("%d codes remembered, want %d", n, MaxUnknownCodes)
	}
}
