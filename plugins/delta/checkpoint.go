package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// The V1 checkpoint schema, mirrored from the checkpoints Spark writes: one
// nullable struct column per action kind, every field nullable, maps as
// Parquet MAP (key_value, required key, optional value) and arrays as LIST.
// Reading converts any checkpoint to these columns: columns Spark or delta-rs
// add beyond them (cdc, domainMetadata, baseRowId, ...) are ignored, missing
// ones read as null.
type ckptRow struct {
	Txn      *ckptTxn      `parquet:"txn,optional"`
	Add      *ckptAdd      `parquet:"add,optional"`
	Remove   *ckptRemove   `parquet:"remove,optional"`
	MetaData *ckptMetaData `parquet:"metaData,optional"`
	Protocol *ckptProtocol `parquet:"protocol,optional"`
}

type ckptTxn struct {
	AppID       *string `parquet:"appId,optional"`
	Version     *int64  `parquet:"version,optional"`
	LastUpdated *int64  `parquet:"lastUpdated,optional"`
}

type ckptDeletionVector struct {
	StorageType    *string `parquet:"storageType,optional"`
	PathOrInlineDv *string `parquet:"pathOrInlineDv,optional"`
	Offset         *int32  `parquet:"offset,optional"`
	SizeInBytes    *int32  `parquet:"sizeInBytes,optional"`
	Cardinality    *int64  `parquet:"cardinality,optional"`
	MaxRowIndex    *int64  `parquet:"maxRowIndex,optional"`
}

type ckptAdd struct {
	Path             *string             `parquet:"path,optional"`
	PartitionValues  map[string]*string  `parquet:"partitionValues,optional"`
	Size             *int64              `parquet:"size,optional"`
	ModificationTime *int64              `parquet:"modificationTime,optional"`
	DataChange       *bool               `parquet:"dataChange,optional"`
	Tags             map[string]*string  `parquet:"tags,optional"`
	DeletionVector   *ckptDeletionVector `parquet:"deletionVector,optional"`
	Stats            *string             `parquet:"stats,optional"`
}

type ckptRemove struct {
	Path                 *string             `parquet:"path,optional"`
	DeletionTimestamp    *int64              `parquet:"deletionTimestamp,optional"`
	DataChange           *bool               `parquet:"dataChange,optional"`
	ExtendedFileMetadata *bool               `parquet:"extendedFileMetadata,optional"`
	PartitionValues      map[string]*string  `parquet:"partitionValues,optional"`
	Size                 *int64              `parquet:"size,optional"`
	DeletionVector       *ckptDeletionVector `parquet:"deletionVector,optional"`
}

type ckptFormat struct {
	Provider *string            `parquet:"provider,optional"`
	Options  map[string]*string `parquet:"options,optional"`
}

type ckptMetaData struct {
	ID               *string            `parquet:"id,optional"`
	Name             *string            `parquet:"name,optional"`
	Description      *string            `parquet:"description,optional"`
	Format           *ckptFormat        `parquet:"format,optional"`
	SchemaString     *string            `parquet:"schemaString,optional"`
	PartitionColumns []*string          `parquet:"partitionColumns,optional,list"`
	Configuration    map[string]*string `parquet:"configuration,optional"`
	CreatedTime      *int64             `parquet:"createdTime,optional"`
}

type ckptProtocol struct {
	MinReaderVersion *int32    `parquet:"minReaderVersion,optional"`
	MinWriterVersion *int32    `parquet:"minWriterVersion,optional"`
	ReaderFeatures   []*string `parquet:"readerFeatures,optional,list"`
	WriterFeatures   []*string `parquet:"writerFeatures,optional,list"`
}

// Table properties read here (PROTOCOL.md, Delta's DeltaConfigs).
const (
	ConfDeletedFileRetention = "delta.deletedFileRetentionDuration" // default "interval 1 week"
	ConfCompressionCodec     = "delta.parquet.compression.codec"    // default zstd
	ConfWriteStatsAsJSON     = "delta.checkpoint.writeStatsAsJson"  // default true
	ConfCheckpointInterval   = "delta.checkpointInterval"           // default 10
	ConfAppendOnly           = "delta.appendOnly"
)

// DefaultDeletedFileRetention is how long tombstones (and the files they
// name) are kept by default: one week.
const DefaultDeletedFileRetention = 7 * 24 * time.Hour

// DeletedFileRetention is the table's tombstone retention
// (delta.deletedFileRetentionDuration, e.g. "interval 1 week").
func (m *Metadata) DeletedFileRetention() time.Duration {
	if m != nil {
		if d, ok := ParseInterval(m.Configuration[ConfDeletedFileRetention]); ok {
			return d
		}
	}
	return DefaultDeletedFileRetention
}

// ParseInterval parses the Spark calendar intervals used by Delta table
// properties: "interval 1 week", "interval 7 days", "168 hours", "interval
// 1 day 12 hours". Months and years are not accepted (no fixed length).
func ParseInterval(s string) (time.Duration, bool) {
	f := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	if len(f) > 0 && f[0] == "interval" {
		f = f[1:]
	}
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, false
	}
	var total time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		var unit time.Duration
		switch strings.TrimSuffix(f[i+1], "s") {
		case "week":
			unit = 7 * 24 * time.Hour
		case "day":
			unit = 24 * time.Hour
		case "hour":
			unit = time.Hour
		case "minute":
			unit = time.Minute
		case "second":
			unit = time.Second
		case "millisecond":
			unit = time.Millisecond
		case "microsecond":
			unit = time.Microsecond
		default:
			return 0, false
		}
		total += time.Duration(n) * unit
	}
	return total, true
}

// checkpointCodec is the compression of checkpoint files: the table's
// delta.parquet.compression.codec, zstd when absent or not supported.
func checkpointCodec(conf map[string]string) compress.Codec {
	switch strings.ToLower(conf[ConfCompressionCodec]) {
	case "uncompressed", "none":
		return &parquet.Uncompressed
	case "snappy":
		return &parquet.Snappy
	case "gzip":
		return &parquet.Gzip
	case "lz4_raw":
		return &parquet.Lz4Raw
	}
	return &parquet.Zstd
}

// readCheckpoint builds the snapshot at version from the parts of a checkpoint.
func readCheckpoint(ctx context.Context, st storage.Storage, version int64, parts []string) (*Snapshot, error) {
	s := NewSnapshot()
	for _, p := range parts {
		data, err := st.Read(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("reading checkpoint: %w", err)
		}
		actions, err := decodeCheckpoint(data)
		if err != nil {
			return nil, fmt.Errorf("%w: reading checkpoint %s: %w", ErrCorruptLog, p, err)
		}
		s.apply(actions)
	}
	if s.Protocol == nil || s.Metadata == nil {
		return nil, fmt.Errorf("%w: checkpoint %d has no protocol or metaData row", ErrCorruptLog, version)
	}
	s.Version = version
	s.CheckpointVersion = version
	return s, nil
}

// decodeCheckpoint turns the rows of one checkpoint file into actions.
func decodeCheckpoint(data []byte) (actions []Action, err error) {
	defer func() {
		// parquet-go panics on some malformed files and schema mismatches.
		if r := recover(); r != nil {
			err = fmt.Errorf("decoding parquet: %v", r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	r := parquet.NewGenericReader[ckptRow](f)
	defer r.Close()
	buf := make([]ckptRow, 256)
	for {
		n, rerr := r.Read(buf)
		for i := 0; i < n; i++ {
			if a := buf[i].action(); a != nil {
				actions = append(actions, *a)
			}
			buf[i] = ckptRow{}
		}
		if errors.Is(rerr, io.EOF) {
			return actions, nil
		}
		if rerr != nil {
			return nil, rerr
		}
	}
}

func (row *ckptRow) action() *Action {
	switch {
	case row.Protocol != nil:
		p := row.Protocol
		return &Action{Protocol: &Protocol{
			MinReaderVersion: int(ckptVal(p.MinReaderVersion)),
			MinWriterVersion: int(ckptVal(p.MinWriterVersion)),
			ReaderFeatures:   ckptStrings(p.ReaderFeatures),
			WriterFeatures:   ckptStrings(p.WriterFeatures),
		}}
	case row.MetaData != nil:
		m := row.MetaData
		md := &Metadata{
			ID:               ckptVal(m.ID),
			Name:             ckptVal(m.Name),
			Description:      ckptVal(m.Description),
			SchemaString:     ckptVal(m.SchemaString),
			PartitionColumns: ckptStrings(m.PartitionColumns),
			Configuration:    ckptMap(m.Configuration),
			CreatedTime:      ckptVal(m.CreatedTime),
			Format:           Format{Provider: "parquet"},
		}
		if m.Format != nil {
			md.Format = Format{Provider: ckptVal(m.Format.Provider), Options: ckptMap(m.Format.Options)}
		}
		return &Action{MetaData: md}
	case row.Txn != nil && row.Txn.AppID != nil:
		t := row.Txn
		return &Action{Txn: &Txn{AppID: *t.AppID, Version: ckptVal(t.Version), LastUpdated: ckptVal(t.LastUpdated)}}
	case row.Add != nil && row.Add.Path != nil:
		a := row.Add
		pv := a.PartitionValues
		if pv == nil {
			pv = map[string]*string{}
		}
		return &Action{Add: &Add{
			Path:             *a.Path,
			PartitionValues:  pv,
			Size:             ckptVal(a.Size),
			ModificationTime: ckptVal(a.ModificationTime),
			DataChange:       ckptVal(a.DataChange),
			Stats:            ckptVal(a.Stats),
			Tags:             ckptMap(a.Tags),
			DeletionVector:   a.DeletionVector.json(),
		}}
	case row.Remove != nil && row.Remove.Path != nil:
		r := row.Remove
		return &Action{Remove: &Remove{
			Path:                 *r.Path,
			DeletionTimestamp:    ckptVal(r.DeletionTimestamp),
			DataChange:           ckptVal(r.DataChange),
			ExtendedFileMetadata: ckptVal(r.ExtendedFileMetadata),
			PartitionValues:      r.PartitionValues,
			Size:                 ckptVal(r.Size),
			DeletionVector:       r.DeletionVector.json(),
		}}
	}
	return nil
}

func ckptVal[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ckptStrings(in []*string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = ckptVal(s)
	}
	return out
}

func ckptMap(in map[string]*string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = ckptVal(v)
	}
	return out
}

func ckptStringPtrs(in []string) []*string {
	out := make([]*string, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	return out
}

func ckptMapPtrs(in map[string]string) map[string]*string {
	if in == nil {
		return nil
	}
	out := make(map[string]*string, len(in))
	for k, v := range in {
		out[k] = &v
	}
	return out
}

// deletionVectorJSON is the deletion vector descriptor as in the JSON log.
type deletionVectorJSON struct {
	StorageType    string `json:"storageType"`
	PathOrInlineDv string `json:"pathOrInlineDv"`
	Offset         *int32 `json:"offset,omitempty"`
	SizeInBytes    int32  `json:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality"`
	MaxRowIndex    *int64 `json:"maxRowIndex,omitempty"`
}

func (dv *ckptDeletionVector) json() json.RawMessage {
	if dv == nil || dv.StorageType == nil {
		return nil
	}
	b, _ := json.Marshal(deletionVectorJSON{
		StorageType:    *dv.StorageType,
		PathOrInlineDv: ckptVal(dv.PathOrInlineDv),
		Offset:         dv.Offset,
		SizeInBytes:    ckptVal(dv.SizeInBytes),
		Cardinality:    ckptVal(dv.Cardinality),
		MaxRowIndex:    dv.MaxRowIndex,
	})
	return b
}

func ckptDV(raw json.RawMessage) *ckptDeletionVector {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var dv deletionVectorJSON
	if json.Unmarshal(raw, &dv) != nil {
		return nil
	}
	return &ckptDeletionVector{
		StorageType:    &dv.StorageType,
		PathOrInlineDv: &dv.PathOrInlineDv,
		Offset:         dv.Offset,
		SizeInBytes:    &dv.SizeInBytes,
		Cardinality:    &dv.Cardinality,
		MaxRowIndex:    dv.MaxRowIndex,
	}
}

// checkpointInfo is what _last_checkpoint records about a checkpoint.
type checkpointInfo struct {
	Version       int64 // table version
	Size          int64 // actions (rows) in the checkpoint
	SizeInBytes   int64 // bytes of the checkpoint file
	NumOfAddFiles int64 // add rows
}

// WriteCheckpoint writes the classic V1 checkpoint of s
// (_delta_log/<version>.checkpoint.parquet): one row per action (protocol,
// metaData, each txn, each live file's add, each tombstone not yet expired
// under delta.deletedFileRetentionDuration), then points _last_checkpoint at
// it as Spark does ({"version","size","sizeInBytes","numOfAddFiles"}).
// s must be a complete snapshot of a version that is committed.
func WriteCheckpoint(ctx context.Context, st storage.Storage, s *Snapshot) error {
	_, err := writeCheckpoint(ctx, st, s, time.Now())
	return err
}

func writeCheckpoint(ctx context.Context, st storage.Storage, s *Snapshot, now time.Time) (*checkpointInfo, error) {
	if s.Version < 0 || s.Protocol == nil || s.Metadata == nil {
		return nil, errors.New("checkpoint: the snapshot has no committed version")
	}
	if err := s.Protocol.CheckWrite(); err != nil {
		return nil, fmt.Errorf("checkpoint of version %d: %w", s.Version, err)
	}
	rows := checkpointRows(s, now)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[ckptRow](&buf,
		parquet.DataPageVersion(1), // what Delta readers expect by default
		parquet.Compression(checkpointCodec(s.Metadata.Configuration)),
		parquet.CreatedBy("gdeltflow delta", "1", ""),
	)
	const batch = 4096
	for i := 0; i < len(rows); i += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(i+batch, len(rows))
		if _, err := w.Write(rows[i:end]); err != nil {
			return nil, fmt.Errorf("checkpoint of version %d: encoding: %w", s.Version, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("checkpoint of version %d: encoding: %w", s.Version, err)
	}
	info := &checkpointInfo{Version: s.Version, Size: int64(len(rows)), SizeInBytes: int64(buf.Len()), NumOfAddFiles: int64(len(s.Files))}
	p := CheckpointPath(s.Version)
	if err := st.Write(ctx, p, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		return nil, fmt.Errorf("checkpoint of version %d: %w", s.Version, err)
	}
	// _last_checkpoint only moves forward (a slow writer must not point it
	// back; readers would still list past it, but needlessly).
	if lc, err := readLastCheckpoint(ctx, st); err == nil && lc.Version > s.Version {
		return info, nil
	}
	last, _ := json.Marshal(lastCheckpoint{
		Version: info.Version, Size: info.Size, SizeInBytes: info.SizeInBytes, NumOfAddFiles: info.NumOfAddFiles,
	})
	if err := st.Write(ctx, LastCheckpointPath, bytes.NewReader(last), int64(len(last))); err != nil {
		return nil, fmt.Errorf("checkpoint of version %d: %w", s.Version, err)
	}
	return info, nil
}

// checkpointRows lists the snapshot as checkpoint rows, in a stable order.
// File actions carry dataChange=false, as in Spark's checkpoints.
func checkpointRows(s *Snapshot, now time.Time) []ckptRow {
	p, m := s.Protocol, s.Metadata
	rows := make([]ckptRow, 0, 2+len(s.Txns)+len(s.Files)+len(s.Tombstones))
	proto := &ckptProtocol{
		MinReaderVersion: ckptPtr(int32(p.MinReaderVersion)),
		MinWriterVersion: ckptPtr(int32(p.MinWriterVersion)),
	}
	// Feature lists only when the versions use them (else null, as required).
	if p.MinReaderVersion >= 3 {
		proto.ReaderFeatures = ckptStringPtrs(p.ReaderFeatures)
	}
	if p.MinWriterVersion >= 7 {
		proto.WriterFeatures = ckptStringPtrs(p.WriterFeatures)
	}
	rows = append(rows, ckptRow{Protocol: proto})

	md := &ckptMetaData{
		ID:               ckptPtr(m.ID),
		Format:           &ckptFormat{Provider: ckptPtr(m.Format.Provider), Options: ckptMapPtrs(m.Format.Options)},
		SchemaString:     ckptPtr(m.SchemaString),
		PartitionColumns: ckptStringPtrs(m.PartitionColumns),
		Configuration:    ckptMapPtrs(m.Configuration),
	}
	if md.Format.Options == nil {
		md.Format.Options = map[string]*string{}
	}
	if md.Configuration == nil {
		md.Configuration = map[string]*string{}
	}
	if m.Name != "" {
		md.Name = ckptPtr(m.Name)
	}
	if m.Description != "" {
		md.Description = ckptPtr(m.Description)
	}
	if m.CreatedTime != 0 {
		md.CreatedTime = ckptPtr(m.CreatedTime)
	}
	rows = append(rows, ckptRow{MetaData: md})

	appIDs := make([]string, 0, len(s.Txns))
	for id := range s.Txns {
		appIDs = append(appIDs, id)
	}
	sort.Strings(appIDs)
	for _, id := range appIDs {
		t := s.Txns[id]
		ct := &ckptTxn{AppID: ckptPtr(t.AppID), Version: ckptPtr(t.Version)}
		if t.LastUpdated != 0 {
			ct.LastUpdated = ckptPtr(t.LastUpdated)
		}
		rows = append(rows, ckptRow{Txn: ct})
	}

	writeStats := !strings.EqualFold(m.Configuration[ConfWriteStatsAsJSON], "false")
	for _, a := range s.SortedFiles() {
		pv := a.PartitionValues
		if pv == nil {
			pv = map[string]*string{}
		}
		ca := &ckptAdd{
			Path:             ckptPtr(a.Path),
			PartitionValues:  pv,
			Size:             ckptPtr(a.Size),
			ModificationTime: ckptPtr(a.ModificationTime),
			DataChange:       ckptPtr(false),
			Tags:             ckptMapPtrs(a.Tags),
			DeletionVector:   ckptDV(a.DeletionVector),
		}
		if writeStats && a.Stats != "" {
			ca.Stats = ckptPtr(a.Stats)
		}
		rows = append(rows, ckptRow{Add: ca})
	}

	cutoff := now.Add(-m.DeletedFileRetention()).UnixMilli()
	keys := make([]string, 0, len(s.Tombstones))
	for k, r := range s.Tombstones {
		if r.DeletionTimestamp > cutoff {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := s.Tombstones[k]
		cr := &ckptRemove{
			Path:              ckptPtr(r.Path),
			DeletionTimestamp: ckptPtr(r.DeletionTimestamp),
			DataChange:        ckptPtr(false),
			DeletionVector:    ckptDV(r.DeletionVector),
		}
		if r.ExtendedFileMetadata {
			cr.ExtendedFileMetadata = ckptPtr(true)
			cr.PartitionValues = r.PartitionValues
			if cr.PartitionValues == nil {
				cr.PartitionValues = map[string]*string{}
			}
			cr.Size = ckptPtr(r.Size)
		}
		rows = append(rows, ckptRow{Remove: cr})
	}
	return rows
}

func ckptPtr[T any](v T) *T { return &v }
