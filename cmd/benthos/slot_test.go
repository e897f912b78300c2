package main

import (
	"fmt"
	"strings"
	"testing"
)

func runSlot(vars map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range vars {
		out[k] = v
	}
	err := silverSlot(func(k string) (string, bool) { v, ok := out[k]; return v, ok },
		func(k, v string) error { out[k] = v; return nil })
	return out, err
}

func TestSilverSlotDerivesShardAndPartitions(t *testing.T) {
	for _, c := range []struct {
		slot, shards, docs string
		shard, parts       string
	}{
		{"1", "1", "", "0", "0-5"},
		{"1", "2", "", "0", "0-2"},
		{"2", "2", "", "1", "3-5"},
		{"1", "4", "", "0", "0-0"},
		{"2", "4", "", "1", "1-2"},
		{"3", "4", "", "2", "3-3"},
		{"4", "4", "", "3", "4-5"},
		{"6", "6", "", "5", "5-5"},
		{"3", "3", "12", "2", "8-11"},
	} {
		vars := map[string]string{slotEnv: c.slot, shardsEnv: c.shards}
		if c.docs != "" {
			vars[docsEnv] = c.docs
		}
		got, err := runSlot(vars)
		if err != nil {
			t.Fatalf("%v: %v", vars, err)
		}
		if got[shardEnv] != c.shard || got[partitionsEnv] != c.parts {
			t.Errorf("%v: shard %q partitions %q; want %q %q", vars, got[shardEnv], got[partitionsEnv], c.shard, c.parts)
		}
	}
}

// Every partition belongs to exactly one shard, for every count the rule allows.
func TestShardPartitionsCoverEachPartitionOnce(t *testing.T) {
	for p := 1; p <= 24; p++ {
		for n := 1; n <= p; n++ {
			owner := make([]int, p)
			for i := range owner {
				owner[i] = -1
			}
			for s := 0; s < n; s++ {
				first, last := ShardPartitions(s, n, p)
				if first > last {
					t.Fatalf("p=%d n=%d shard %d: empty range %d-%d", p, n, s, first, last)
				}
				for i := first; i <= last; i++ {
					if owner[i] != -1 {
						t.Fatalf("p=%d n=%d: partition %d in shards %d and %d", p, n, i, owner[i], s)
					}
					owner[i] = s
				}
			}
			for i, o := range owner {
				if o == -1 {
					t.Fatalf("p=%d n=%d: partition %d has no shard", p, n, i)
				}
			}
		}
	}
}

func TestSilverSlotRefuses(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{slotEnv: "0", shardsEnv: "2"}, "a whole number from 1"},
		{map[string]string{slotEnv: "x", shardsEnv: "2"}, "a whole number from 1"},
		{map[string]string{slotEnv: "1"}, "SILVER_SHARDS is not"},
		{map[string]string{slotEnv: "3", shardsEnv: "2"}, "past SILVER_SHARDS=2"},
		{map[string]string{slotEnv: "1", shardsEnv: "7"}, "more than the 6 partitions"},
		{map[string]string{slotEnv: "1", shardsEnv: "2", shardEnv: "0"}, "unset SILVER_SHARD"},
		{map[string]string{slotEnv: "1", shardsEnv: "2", partitionsEnv: "0-2"}, "unset SILVER_PARTITIONS"},
		{map[string]string{slotEnv: "1", shardsEnv: "2", docsEnv: "zero"}, "GDELT_PARTITIONS_DOCS"},
	} {
		_, err := runSlot(c.vars)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want one saying %q", c.vars, err, c.want)
		}
	}
	// No slot: nothing changes.
	got, err := runSlot(map[string]string{shardEnv: "1"})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(map[string]string{shardEnv: "1"}) {
		t.Errorf("without a slot: %v %v", got, err)
	}
}
