package lookups

import (
	"context"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// Why a processor exports the misses: a Bloblang plugin gets no
// *service.Resources, so it cannot make an engine metric; and Connect's
// prometheus exporter serves a registry of its own, not the client
// library's default one, so a collector registered there would never reach
// /metrics (nor any other exporter). A processor gets the engine's metrics
// whatever the exporter. It must sit in a processors list: the engine
// builds resources only when something refers to them.
func gdeltLookupMetricsSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Utility").
		Summary("Exports the misses of the GDELT code book methods (`cameo_event_label`, `fips_country`, …) as the metric `gdelt_lookup_misses` (label `codebook`), and logs each unknown code once. Passes messages on untouched.").
		Description(`
The code book methods of Bloblang give null for a code their book lacks and count it. A Bloblang method has no
handle on the engine's metrics, so the counts are kept in the process, and this processor, which has one, exports
them: its counter `+"`gdelt_lookup_misses{codebook}`"+` gets the misses that happened before it started, then each
miss as it happens. The label values are the code books: `+"`cameo_events`"+`, `+"`cameo_event_roots`"+`,
`+"`cameo_goldstein`"+`, `+"`cameo_countries`"+`, `+"`cameo_actor_types`"+`, `+"`cameo_known_groups`"+`,
`+"`cameo_ethnic`"+`, `+"`cameo_religion`"+`, `+"`fips_countries`"+`, `+"`quad_classes`"+`, `+"`geo_types`"+`; each
is present from the start, at 0. It logs one warning per unknown code, naming the code and its book (at most 100
codes per book): the codes that missed before it started when it starts, the others when they first miss.

Put it in one processors list of the config (the pipeline's, an input's), anywhere: it is built with the stream,
exports from then on, and costs a function call per batch. Not as an unused processor resource: the engine builds
resources only when something refers to them. One per process is enough. With more (copies for
`+"`pipeline.threads`"+`, one per stream) each miss is still exported once: the one built last exports the misses of
every mapping of the process, and when it closes the one built before it takes over; sum the series by
`+"`codebook`"+` (the engine adds each processor's `+"`label`"+` and `+"`path`"+`).`).
		Example("Enrich events and export the misses", "", `
pipeline:
  processors:
    - mapping: |
        root = this
        root.event_label = this.event_code.cameo_event_label()
        root.action_country = this.action_geo_country_code.fips_country()
    - gdelt_lookup_metrics: {}

metrics:
  prometheus: {}
`)
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_lookup_metrics", gdeltLookupMetricsSpec(),
		func(_ *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			b, err := Default()
			if err != nil {
				return nil, err
			}
			sink := &missMetrics{
				misses: mgr.Metrics().NewCounter("gdelt_lookup_misses", "codebook"),
				log:    mgr.Logger(),
			}
			return &gdeltLookupMetrics{cancel: b.Misses().Subscribe(sink)}, nil
		})
}

// missMetrics is the MissSink that feeds the engine's counter.
type missMetrics struct {
	misses *service.MetricCounter
	log    *service.Logger
}

func (m *missMetrics) Add(book Book, n uint64) {
	m.misses.Incr(int64(n), string(book))
}

func (m *missMetrics) Unknown(book Book, code string) {
	m.log.Warnf("GDELT code %q is not in the code book %s (%s): lookups of it give null and count in gdelt_lookup_misses{codebook=%q}; logged once per code",
		code, book, book.File(), book)
}

type gdeltLookupMetrics struct {
	cancel func()
}

func (p *gdeltLookupMetrics) ProcessBatch(_ context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	return []service.MessageBatch{batch}, nil
}

func (p *gdeltLookupMetrics) Close(context.Context) error {
	p.cancel()
	return nil
}
