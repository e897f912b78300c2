package gdelt

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
)

func rejectProc(t *testing.T, yaml string) service.BatchProcessor {
	t.Helper()
	pc, err := gdeltRejectSpec().ParseYAML(yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	maxRecords, _ := pc.FieldInt(grFieldMaxRecords)
	maxRaw, _ := pc.FieldInt(grFieldMaxRaw)
	m := service.MockResources().Metrics()
	return &gdeltReject{maxRecords: maxRecords, maxRaw: maxRaw, log: service.MockResources().Logger(),
		mRecorded: m.NewCounter("r", "stage", "reason"), mDropped: m.NewCounter("d")}
}

func TestRejectRecords(t *testing.T) {
	p := rejectProc(t, "max_records: 4\nmax_raw_bytes: 8")
	msg := func(raw string, meta map[string]string, err error) *service.Message {
		m := service.NewMessage([]byte(raw))
		for k, v := range meta {
			m.MetaSet(k, v)
		}
		if err != nil {
			m.SetError(err)
		}
		return m
	}
	batch := service.MessageBatch{
		msg("1\t2\t3", map[string]string{"gdelt_table": "mentions", "gdelt_file": "f.zip", "gdelt_line": "17",
			contract.MetaErrorStage: contract.StageDecode, contract.MetaErrorReason: ReasonFieldCount}, errors.New("gdelt_decode: field_count")),
		msg("", map[string]string{contract.MetaMarker: contract.MarkerWindowEnd}, errors.New("a marker")),
		msg("x", map[string]string{contract.MetaReplay: "true", contract.MetaErrorReason: ReasonFieldCount}, errors.New("again")),
		msg(`{"a":1}`, map[string]string{"fallback_error": "delta_lake: rejected: column a: want string"}, nil),
		msg("é long row here", map[string]string{contract.MetaErrorReason: ReasonLineTooLong}, errors.New("too long")),
		msg("junk", map[string]string{"kafka_topic": "gdelt.mentions", "kafka_partition": "2", "kafka_offset": "9",
			contract.MetaErrorStage: contract.StageJoin, contract.MetaErrorReason: "join_refused"}, errors.New("join: no key")),
		msg("over the cap", nil, errors.New("dropped")),
	}
	out, err := p.ProcessBatch(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || len(out[0]) != 4 {
		t.Fatalf("want 4 records (marker, replay and the 5th over the cap dropped), got %v", out)
	}
	var recs []RejectRecord
	for _, m := range out[0] {
		if m.GetError() != nil {
			t.Fatal("a record keeps its error flag")
		}
		b, _ := m.AsBytes()
		var r RejectRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	want := []struct{ stage, reason string }{
		{contract.StageDecode, ReasonFieldCount}, {contract.StageTable, "delta_rejected"}, {contract.StageFeed, ReasonLineTooLong}, {contract.StageJoin, "join_refused"},
	}
	for i, w := range want {
		if recs[i].Stage != w.stage || recs[i].Reason != w.reason {
			t.Errorf("record %d: %s/%s, want %s/%s", i, recs[i].Stage, recs[i].Reason, w.stage, w.reason)
		}
	}
	if r := recs[0]; r.Line != 17 || r.File != "f.zip" || r.Table != "mentions" || r.Raw != "1\t2\t3" || r.RawTruncated {
		t.Errorf("decode record %+v", r)
	}
	if r := recs[1]; !strings.HasPrefix(r.Error, "delta_lake: rejected: column a") {
		t.Errorf("table record error %q", r.Error)
	}
	if r := recs[2]; !r.RawTruncated || r.RawBytes != len("é long row here") || len(r.Raw) > 8 || !strings.HasPrefix("é long row here", r.Raw) {
		t.Errorf("truncation: %+v", r)
	}
	if r := recs[3]; r.Kafka == nil || r.Kafka.Offset != "9" {
		t.Errorf("kafka origin: %+v", r.Kafka)
	}
	// The cap holds across batches.
	out, _ = p.ProcessBatch(context.Background(), service.MessageBatch{msg("more", nil, errors.New("x"))})
	if len(out) != 0 {
		t.Fatalf("a record past the cap: %v", out)
	}
}
