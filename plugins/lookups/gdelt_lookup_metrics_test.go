package lookups

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	_ "github.com/redpanda-data/connect/v4/public/components/prometheus"
)

// missLine is a series of gdelt_lookup_misses: the engine adds the exporting
// processor's label and path to the codebook label.
var missLine = regexp.MustCompile(`(?m)^gdelt_lookup_misses\{codebook="([a-z_]+)"(?:,[^}]*)?\} ([0-9.e+]+)$`)

// scrapeMisses reads gdelt_lookup_misses from a Prometheus endpoint, summed
// by codebook.
func scrapeMisses(t *testing.T, url string) (map[Book]uint64, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Book]uint64{}
	for _, m := range missLine.FindAllStringSubmatch(string(body), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[Book(m[1])] += uint64(v) // summed by codebook, over the processors that exported

	}
	return out, string(body)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLookupMetricsProcessor runs a stream with a mapping that misses and
// the Prometheus exporter, and reads /metrics over HTTP: the
// gdelt_lookup_misses series exist for every book from the start, grow by
// exactly the misses of the mapping (a second gdelt_lookup_metrics does not
// count them twice), and each unknown code is logged once per processor.
func TestLookupMetricsProcessor(t *testing.T) {
	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d.EventLabel("998") // a miss before the stream: exported as its backlog

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	defer srv.Close()
	logs := &syncBuffer{}

	sb := service.NewStreamBuilder()
	sb.SetHTTPMux(mux)
	sb.SetLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, err := range []error{
		sb.SetMetricsYAML(`prometheus: {}`),
		sb.AddProcessorYAML(`gdelt_lookup_metrics: {}`),
		sb.AddProcessorYAML(`
mapping: |
  root.label = this.code.cameo_event_label()
  root.iso3 = this.fips.fips_to_iso3()
`),
		sb.AddProcessorYAML(`gdelt_lookup_metrics: {}`), // a second one: the misses must not count twice
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	produce, err := sb.AddProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var outputs []string
	if err := sb.AddConsumerFunc(func(_ context.Context, m *service.Message) error {
		b, err := m.AsBytes()
		mu.Lock()
		outputs = append(outputs, string(b))
		mu.Unlock()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stream, err := sb.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stream.Run(ctx) }()

	// the processors are built at start; the series then exist, at their backlog
	var before map[Book]uint64
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		before, body = scrapeMisses(t, srv.URL+"/metrics")
		if len(before) == len(AllBooks()) || time.Now().After(deadline) {
			break
		}
	}
	if len(before) != len(AllBooks()) {
		t.Fatalf("gdelt_lookup_misses has %d series, want one per book (%d):\n%s\nlogs:\n%s", len(before), len(AllBooks()), body, logs.String())
	}
	if before[CAMEOEvents] < 1 {
		t.Errorf("the miss before the stream was not exported: %v", before)
	}
	countsBefore := d.Misses().Counts()

	// a code no earlier run of this test has missed, so that its warning can be counted
	fresh := fmt.Sprintf("Q%d", time.Now().UnixNano())
	for _, in := range []string{
		`{"code":"040","fips":"UK"}`,
		`{"code":"998","fips":"OS"}`,
		`{"code":"998","fips":"` + fresh + `"}`,
		`{"code":null,"fips":"` + fresh + `"}`,
		`{"code":"","fips":"` + fresh + `"}`,
		`{"code":"","fips":""}`,
	} {
		if err := produce(ctx, service.NewMessage([]byte(in))); err != nil {
			t.Fatal(err)
		}
	}
	after, body := scrapeMisses(t, srv.URL+"/metrics")
	countsAfter := d.Misses().Counts()
	want := map[Book]uint64{CAMEOEvents: 2, FIPSCountries: 4}
	for _, book := range AllBooks() {
		if got := after[book] - before[book]; got != want[book] {
			t.Errorf("%s: the metric grew by %d, want %d", book, got, want[book])
		}
		if got := countsAfter[book] - countsBefore[book]; got != want[book] {
			t.Errorf("%s: the counts grew by %d, want %d", book, got, want[book])
		}
	}
	t.Logf("scraped:\n%s", strings.Join(regexp.MustCompile(`(?m)^gdelt_lookup_misses.*$`).FindAllString(body, -1), "\n"))

	mu.Lock()
	wantOut := []string{`{"iso3":"GBR","label":"Consult, not specified below"}`, `{"iso3":null,"label":null}`,
		`{"iso3":null,"label":null}`, `{"iso3":null,"label":null}`, `{"iso3":null,"label":null}`, `{"iso3":null,"label":null}`}
	if strings.Join(outputs, "\n") != strings.Join(wantOut, "\n") {
		t.Errorf("outputs\n%s\nwant\n%s", strings.Join(outputs, "\n"), strings.Join(wantOut, "\n"))
	}
	mu.Unlock()

	if err := stream.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && err != context.Canceled {
		t.Logf("stream ended: %v", err)
	}
	if n := strings.Count(logs.String(), `GDELT code \"`+fresh+`\" is not in the code book fips_countries`); n != 1 {
		t.Errorf("the unknown code %s missed 3 times and was logged %d times, want once; logs:\n%s", fresh, n, logs.String())
	}
	// stopping the stream closed the processors: a miss now waits for the next sink
	d.EventLabel("997")
	sink := newRecordingSink()
	defer d.Misses().Subscribe(sink)()
	if sink.adds[CAMEOEvents] != 1 {
		t.Errorf("after the stream stopped, the next sink got %d cameo_events misses, want the 1 since", sink.adds[CAMEOEvents])
	}
}
