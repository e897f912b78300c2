package gdelt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

// captureMetrics is a metrics exporter that keeps counter totals by
// "name{key=value,...}" (without the engine's label and path labels), so
// tests can read what the processor counted.
type captureMetrics struct {
	mu       sync.Mutex
	counters map[string]int64
}

func (c *captureMetrics) get(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counters[key]
}

type captureCounter struct {
	c   *captureMetrics
	key string
}

func (cc captureCounter) Incr(n int64) {
	cc.c.mu.Lock()
	cc.c.counters[cc.key] += n
	cc.c.mu.Unlock()
}

type captureNoop struct{}

func (captureNoop) Timing(int64) {}
func (captureNoop) Set(int64)    {}

func (c *captureMetrics) NewCounterCtor(name string, keys ...string) service.MetricsExporterCounterCtor {
	return func(values ...string) service.MetricsExporterCounter {
		var parts []string
		for i := range keys {
			if keys[i] != "label" && keys[i] != "path" { // added by the engine
				parts = append(parts, keys[i]+"="+values[i])
			}
		}
		return captureCounter{c, name + "{" + strings.Join(parts, ",") + "}"}
	}
}

func (c *captureMetrics) NewTimerCtor(string, ...string) service.MetricsExporterTimerCtor {
	return func(...string) service.MetricsExporterTimer { return captureNoop{} }
}

func (c *captureMetrics) NewGaugeCtor(string, ...string) service.MetricsExporterGaugeCtor {
	return func(...string) service.MetricsExporterGauge { return captureNoop{} }
}

func (c *captureMetrics) Close(context.Context) error { return nil }

// runDecodeStream pushes one batch through a real stream built from YAML
// with the given processor config and returns what comes out.
func runDecodeStream(t *testing.T, procYAML string, in service.MessageBatch) (service.MessageBatch, *captureMetrics) {
	t.Helper()
	env := service.NewEnvironment()
	capture := &captureMetrics{counters: map[string]int64{}}
	if err := env.RegisterMetricsExporter("gdelt_test_capture", service.NewConfigSpec(),
		func(*service.ParsedConfig, *service.Logger) (service.MetricsExporter, error) { return capture, nil }); err != nil {
		t.Fatal(err)
	}
	b := env.NewStreamBuilder()
	if err := b.SetMetricsYAML("gdelt_test_capture: {}"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLoggerYAML("level: none"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddProcessorYAML(procYAML); err != nil {
		t.Fatal(err)
	}
	produce, err := b.AddBatchProducerFunc()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		out service.MessageBatch
	)
	if err := b.AddBatchConsumerFunc(func(_ context.Context, batch service.MessageBatch) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, batch...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stream, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stream.Run(ctx) }()
	if err := produce(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := stream.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	return out, capture
}

func newMsg(raw string, meta ...string) *service.Message {
	m := service.NewMessage([]byte(raw))
	for i := 0; i+1 < len(meta); i += 2 {
		m.MetaSetMut(meta[i], meta[i+1])
	}
	return m
}

func TestGDELTDecodeStream(t *testing.T) {
	lines := realExportLines(t)
	mention := string(syntheticMentionLines(1)[0])
	short := string(lines[16][:strings.LastIndexByte(string(lines[16]), '\t')])
	flagged := newMsg("cut off\tline", "gdelt_table", "export", "gdelt_file", "x.export.CSV", "gdelt_line", "9")
	flagged.SetError(errors.New("gdelt_feed: line over max_line_bytes"))
	in := service.MessageBatch{
		newMsg(string(lines[0]), "gdelt_table", "export", "gdelt_file", "20191024143000.export.CSV", "gdelt_line", "1"),
		newMsg(short, "gdelt_table", "export", "gdelt_file", "20191024143000.export.CSV", "gdelt_line", "17"),
		newMsg(mention, "gdelt_table", "mentions"),
		flagged,
		newMsg(string(lines[45]), "gdelt_table", "events"),
		newMsg(string(lines[1])),
		newMsg(string(lines[2]), "gdelt_table", "nope"),
		newMsg(strings.Replace(string(lines[3]), "\t2.8\t", "\t2,8\t", 1), "gdelt_table", "export", "gdelt_line", "4"),
	}
	out, metrics := runDecodeStream(t, "gdelt_decode: {}", in)
	if len(out) != len(in) {
		t.Fatalf("got %d messages, want %d", len(out), len(in))
	}

	// 0: decoded, typed values.
	v, err := out[0].AsStructured()
	if err != nil || out[0].GetError() != nil {
		t.Fatalf("message 0: %v %v", err, out[0].GetError())
	}
	row := v.(map[string]any)
	if row["global_event_id"] != int64(881990832) || row["event_code"] != "139" || row["goldstein_scale"] != -7.0 || row["actor1_code"] != nil {
		t.Errorf("message 0: %v", row)
	}

	// 1: field count, with file and line in the error; raw content kept.
	wantErr := map[int]string{
		1: "gdelt_decode: table export, file 20191024143000.export.CSV, line 17: field_count: got 60 fields, want 61",
		3: "gdelt_feed: line over max_line_bytes",
		5: `gdelt_decode: table unknown, file unknown, line unknown: unknown_table: no table configured and no gdelt_table metadata`,
		6: `gdelt_decode: table unknown, file unknown, line unknown: unknown_table: gdelt_table metadata is "nope", want export, events, mentions or gkg`,
		7: `gdelt_decode: table export, file unknown, line 4: bad_float: column goldstein_scale: not a finite number: "2,8"`,
	}
	wantReason := map[int]string{1: "field_count", 5: "unknown_table", 6: "unknown_table", 7: "bad_float"}
	for i, msg := range out {
		var got string
		if err := msg.GetError(); err != nil {
			got = err.Error()
		}
		if got != wantErr[i] {
			t.Errorf("message %d error:\n got %q\nwant %q", i, got, wantErr[i])
		}
		reason, _ := msg.MetaGet(contract.MetaErrorReason)
		if reason != wantReason[i] {
			t.Errorf("message %d gdelt_error_reason %q, want %q", i, reason, wantReason[i])
		}
		if wantErr[i] != "" {
			raw, _ := msg.AsBytes()
			if inRaw, _ := in[i].AsBytes(); string(raw) != string(inRaw) {
				t.Errorf("message %d: raw content changed", i)
			}
		}
	}
	var de *DecodeError
	if !errors.As(out[1].GetError(), &de) || de.Reason != ReasonFieldCount {
		t.Errorf("message 1 error does not unwrap to a *DecodeError: %v", out[1].GetError())
	}
	// 2: a mention; 4: "events" is the export.
	if v, _ := out[2].AsStructured(); v.(map[string]any)["mention_type"] != int64(1) {
		t.Errorf("message 2: %v", v)
	}
	if v, _ := out[4].AsStructured(); v.(map[string]any)["actor1_geo_lat"] != -30.0 {
		t.Errorf("message 4: %v", v)
	}

	for key, want := range map[string]int64{
		"gdelt_decode_rows{table=export}":                           2,
		"gdelt_decode_rows{table=mentions}":                         1,
		"gdelt_decode_rejected{table=export,reason=field_count}":    1,
		"gdelt_decode_rejected{table=export,reason=bad_float}":      1,
		"gdelt_decode_rejected{table=unknown,reason=unknown_table}": 2,
	} {
		if got := metrics.get(key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
}

func TestGDELTDecodeNestedMetrics(t *testing.T) {
	gkg := realGKGLines(t)
	in := service.MessageBatch{
		newMsg(string(gkg[844])), // row 845: one malformed block in each location column
		newMsg(string(gkg[0])),
	}
	out, metrics := runDecodeStream(t, "gdelt_decode:\n  table: gkg\n  gkg_nested: true", in)
	for i, msg := range out {
		if msg.GetError() != nil {
			t.Fatalf("message %d: %v", i, msg.GetError())
		}
	}
	v, _ := out[1].AsStructured()
	row := v.(map[string]any)
	if row["page_title"] != "Hunt for suspects after shooting at street party leaves two dead" {
		t.Errorf("page_title %#v", row["page_title"])
	}
	if tone, ok := row["v2_tone"].(map[string]any); !ok || tone["word_count"] != int64(613) {
		t.Errorf("v2_tone %#v", row["v2_tone"])
	}
	// Structured output must survive JSON: the engine serialises it downstream.
	if b, err := out[1].AsBytes(); err != nil || !strings.Contains(string(b), `"key":"wc","value":613`) {
		t.Errorf("JSON of a nested row: %v %.200s", err, b)
	}
	for key, want := range map[string]int64{
		"gdelt_decode_rows{table=gkg}":                                 2,
		"gdelt_decode_malformed_blocks{table=gkg,column=locations}":    1,
		"gdelt_decode_malformed_blocks{table=gkg,column=v2_locations}": 1,
	} {
		if got := metrics.get(key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
}

func TestGDELTDecodeGenerateYAML(t *testing.T) {
	// Components configured in YAML as a user writes them: generate →
	// gdelt_decode → mapping, read back through a consumer func.
	lines := realExportLines(t)
	var (
		mu  sync.Mutex
		got []string
	)
	b := service.NewStreamBuilder()
	_ = b.SetLoggerYAML("level: none")
	if err := b.AddInputYAML(fmt.Sprintf("generate:\n  count: 1\n  interval: \"\"\n  mapping: |\n    root = %q\n    meta gdelt_table = \"export\"\n", string(lines[1]))); err != nil {
		t.Fatal(err)
	}
	if err := b.AddProcessorYAML("gdelt_decode: {}"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddProcessorYAML(`mapping: 'root = {"id": this.global_event_id, "code": this.event_code, "lat": this.actor2_geo_lat, "a1": this.actor1_code}'`); err != nil {
		t.Fatal(err)
	}
	if err := b.AddConsumerFunc(func(_ context.Context, m *service.Message) error {
		mu.Lock()
		defer mu.Unlock()
		raw, _ := m.AsBytes()
		got = append(got, string(raw))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stream, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stream.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != `{"a1":null,"code":"040","id":881990833,"lat":53.9}` {
		t.Errorf("got %q", got)
	}
}

func TestGDELTDecodeConfig(t *testing.T) {
	spec := gdeltDecodeSpec()
	for _, c := range []struct {
		yaml, table string
		nested      bool
		fail        bool
	}{
		{"{}", "", false, false},
		{"table: events", "export", false, false},
		{"table: gkg\ngkg_nested: true", "gkg", true, false},
		{"table: gkg2", "", false, true},
	} {
		pConf, err := spec.ParseYAML(c.yaml, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		conf, err := gdeltDecodeConfigFromParsed(pConf)
		if c.fail {
			if err == nil {
				t.Errorf("%q: accepted", c.yaml)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		name := ""
		if conf.Table != nil {
			name = conf.Table.Name
		}
		if name != c.table || conf.GKGNested != c.nested {
			t.Errorf("%q: got %+v", c.yaml, conf)
		}
	}

	// The lint rule reports a bad table before the stream is built.
	b := service.NewStreamBuilder()
	if err := b.AddProcessorYAML("gdelt_decode:\n  table: gkg2"); err == nil {
		t.Error("lint accepted table: gkg2")
	}
}

// TestGDELTDecodeIsolation checks that messages of one batch do not affect
// each other, with the constructor and mock resources.
func TestGDELTDecodeIsolation(t *testing.T) {
	pConf, err := gdeltDecodeSpec().ParseYAML("table: export", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newGDELTDecodeFromParsed(pConf, service.MockResources())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	lines := realExportLines(t)
	batch := service.MessageBatch{}
	for i := 0; i < 50; i++ {
		raw := string(lines[i])
		if i%7 == 3 {
			raw = "broken"
		}
		batch = append(batch, newMsg(raw, "gdelt_line", fmt.Sprint(i+1)))
	}
	out, err := p.ProcessBatch(context.Background(), batch)
	if err != nil || len(out) != 1 || len(out[0]) != 50 {
		t.Fatalf("%v %v", out, err)
	}
	for i, msg := range out[0] {
		if i%7 == 3 {
			if msg.GetError() == nil || !strings.Contains(msg.GetError().Error(), fmt.Sprintf("line %d: field_count: got 1 fields", i+1)) {
				t.Errorf("message %d: %v", i, msg.GetError())
			}
			continue
		}
		v, err := msg.AsStructured()
		if msg.GetError() != nil || err != nil {
			t.Fatalf("message %d: %v %v", i, msg.GetError(), err)
		}
		want, _ := NewDecoder(p.decoders[0].Table(), false).Decode(lines[i])
		if v.(map[string]any)["global_event_id"] != want["global_event_id"] {
			t.Errorf("message %d: wrong row", i)
		}
	}
}
