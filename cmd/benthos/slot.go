package main

import (
	"fmt"
	"strconv"
)

// A silver shard in a Docker Swarm service learns who it is from its task
// slot: the stack sets SILVER_SLOT={{.Task.Slot}} (1..replicas, stable across
// restarts and updates of that task) and SILVER_SHARDS to the replica count.
// Swarm templates cannot do arithmetic, so the binary derives the rest:
//
//	SILVER_SHARD      = slot - 1
//	SILVER_PARTITIONS = the shard's contiguous share of the P partitions of
//	                    gdelt.mentions and gdelt.gkg (P = GDELT_PARTITIONS_DOCS,
//	                    default 6): from floor(shard*P/N) to floor((shard+1)*P/N)-1
//
// e.g. 6 partitions over 4 shards: 0-0, 1-2, 3-3, 4-5. Every partition has
// exactly one shard, so 1 <= SILVER_SHARDS <= P. Every shard reads all of
// gdelt.events (SILVER_EVENT_PARTITIONS keeps its default). Setting
// SILVER_SHARD or SILVER_PARTITIONS as well is refused: two rules for one
// shard would disagree sooner or later.
const (
	slotEnv       = "SILVER_SLOT"
	shardEnv      = "SILVER_SHARD"
	shardsEnv     = "SILVER_SHARDS"
	partitionsEnv = "SILVER_PARTITIONS"
	docsEnv       = "GDELT_PARTITIONS_DOCS"
	defaultDocs   = 6
)

// silverSlot sets SILVER_SHARD and SILVER_PARTITIONS from SILVER_SLOT when it
// is set; otherwise it does nothing.
func silverSlot(lookup func(string) (string, bool), setenv func(string, string) error) error {
	slotS, ok := lookup(slotEnv)
	if !ok {
		return nil
	}
	for _, k := range []string{shardEnv, partitionsEnv} {
		if _, set := lookup(k); set {
			return fmt.Errorf("%s and %s are both set: the slot decides the shard and its partitions; unset %s", slotEnv, k, k)
		}
	}
	slot, err := strconv.Atoi(slotS)
	if err != nil || slot < 1 {
		return fmt.Errorf("%s=%q: want the task slot, a whole number from 1 ({{.Task.Slot}} in the stack)", slotEnv, slotS)
	}
	shardsS, ok := lookup(shardsEnv)
	if !ok {
		return fmt.Errorf("%s is set but %s is not: set it to the service's replica count", slotEnv, shardsEnv)
	}
	shards, err := strconv.Atoi(shardsS)
	if err != nil || shards < 1 {
		return fmt.Errorf("%s=%q: want a whole number from 1", shardsEnv, shardsS)
	}
	docs := defaultDocs
	if v, ok := lookup(docsEnv); ok {
		if docs, err = strconv.Atoi(v); err != nil || docs < 1 {
			return fmt.Errorf("%s=%q: want the partition count of gdelt.mentions and gdelt.gkg", docsEnv, v)
		}
	}
	if shards > docs {
		return fmt.Errorf("%s=%d is more than the %d partitions of gdelt.mentions and gdelt.gkg (%s): a shard would read nothing", shardsEnv, shards, docs, docsEnv)
	}
	if slot > shards {
		return fmt.Errorf("%s=%d is past %s=%d: the replica count and SILVER_SHARDS must be equal", slotEnv, slot, shardsEnv, shards)
	}
	shard := slot - 1
	first, last := ShardPartitions(shard, shards, docs)
	if err := setenv(shardEnv, strconv.Itoa(shard)); err != nil {
		return err
	}
	return setenv(partitionsEnv, fmt.Sprintf("%d-%d", first, last))
}

// ShardPartitions is the range of partitions, first to last inclusive, that
// shard (from 0) of shards reads out of partitions.
func ShardPartitions(shard, shards, partitions int) (first, last int) {
	return shard * partitions / shards, (shard+1)*partitions/shards - 1
}
