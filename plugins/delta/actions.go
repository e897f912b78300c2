package delta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Protocol is the `protocol` action: the reader and writer versions (and, for
// reader 3 / writer 7, the table features) a client needs to use the table.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// Format is the encoding of the table's data files; always parquet here.
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// MarshalJSON writes options as {} when empty: the protocol requires the map.
func (f Format) MarshalJSON() ([]byte, error) {
	type plain Format
	if f.Options == nil {
		f.Options = map[string]string{}
	}
	return json.Marshal(plain(f))
}

// Metadata is the `metaData` action: table id, schema, partitioning and
// configuration. The newest one in the log wins.
type Metadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      int64             `json:"createdTime,omitempty"`
}

// MarshalJSON writes the required partitionColumns and configuration as []
// and {} when empty, never as null.
func (m Metadata) MarshalJSON() ([]byte, error) {
	type plain Metadata
	if m.PartitionColumns == nil {
		m.PartitionColumns = []string{}
	}
	if m.Configuration == nil {
		m.Configuration = map[string]string{}
	}
	return json.Marshal(plain(m))
}

// Add is the `add` action: a data file that is part of the table. Path is the
// URI form written in the log (see EncodePath); the file's location relative
// to the table root is DecodePath(Path). A nil value in PartitionValues is a
// null partition (JSON null).
type Add struct {
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	ModificationTime int64              `json:"modificationTime"`
	DataChange       bool               `json:"dataChange"`
	Stats            string             `json:"stats,omitempty"`
	Tags             map[string]string  `json:"tags,omitempty"`
	// DeletionVector is kept as read (tables with deletion vectors are
	// read-only here: see Protocol.CheckWrite).
	DeletionVector json.RawMessage `json:"deletionVector,omitempty"`
}

// MarshalJSON writes the required partitionValues as {} when empty.
func (a Add) MarshalJSON() ([]byte, error) {
	type plain Add
	if a.PartitionValues == nil {
		a.PartitionValues = map[string]*string{}
	}
	return json.Marshal(plain(a))
}

// Remove is the `remove` action: a tombstone for a file that left the table.
// The data file stays on storage until vacuum deletes it after the retention.
type Remove struct {
	Path                 string             `json:"path"`
	DeletionTimestamp    int64              `json:"deletionTimestamp,omitempty"`
	DataChange           bool               `json:"dataChange"`
	ExtendedFileMetadata bool               `json:"extendedFileMetadata,omitempty"`
	PartitionValues      map[string]*string `json:"partitionValues,omitempty"`
	Size                 int64              `json:"size,omitempty"`
	Stats                string             `json:"stats,omitempty"`
	Tags                 map[string]string  `json:"tags,omitempty"`
	DeletionVector       json.RawMessage    `json:"deletionVector,omitempty"`
}

// MarshalJSON writes partitionValues (even empty) when extendedFileMetadata
// is true, since that flag promises the field is present.
func (r Remove) MarshalJSON() ([]byte, error) {
	type plain Remove
	if !r.ExtendedFileMetadata || r.PartitionValues != nil {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		PartitionValues map[string]*string `json:"partitionValues"`
	}{plain(r), map[string]*string{}})
}

// HasDeletionVector reports whether the file carries a deletion vector: some
// of its rows are deleted without rewriting it.
func (a *Add) HasDeletionVector() bool {
	return len(a.DeletionVector) > 0 && string(a.DeletionVector) != "null"
}

// DeletedRows is the number of the file's rows its deletion vector deletes
// (the descriptor's cardinality): 0 without one; ok is false when a vector
// has no readable cardinality.
func (a *Add) DeletedRows() (n int64, ok bool) {
	if !a.HasDeletionVector() {
		return 0, true
	}
	var dv struct {
		Cardinality *int64 `json:"cardinality"`
	}
	if json.Unmarshal(a.DeletionVector, &dv) != nil || dv.Cardinality == nil || *dv.Cardinality < 0 {
		return 0, false
	}
	return *dv.Cardinality, true
}

// Rows is the number of the file's live rows: its stats' numRecords minus the
// rows its deletion vector deletes. ok is false when either is unknown.
func (a *Add) Rows() (n int64, ok bool) {
	records, ok := statsNumRecords(a.Stats)
	if !ok {
		return 0, false
	}
	deleted, ok := a.DeletedRows()
	if !ok {
		return 0, false
	}
	return records - deleted, true
}

// RemoveOf returns the tombstone for a live file, carrying its partition
// values and size (extendedFileMetadata), as Spark writes it.
func RemoveOf(a *Add, deletionTimestamp int64, dataChange bool) Remove {
	return Remove{
		Path:                 a.Path,
		DeletionTimestamp:    deletionTimestamp,
		DataChange:           dataChange,
		ExtendedFileMetadata: true,
		PartitionValues:      a.PartitionValues,
		Size:                 a.Size,
		Tags:                 a.Tags,
		DeletionVector:       a.DeletionVector,
	}
}

// Txn is the `txn` action (SetTransaction): the progress an application has
// committed, recorded atomically with its data for exactly-once writes.
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated int64  `json:"lastUpdated,omitempty"`
}

// CommitInfo is the free-form `commitInfo` action (commit provenance).
type CommitInfo map[string]any

// Action is one line of a commit file. Exactly one field is set. Actions this
// package does not model (cdc, domainMetadata, checkpointMetadata, ...) are
// kept in Other, keyed by their name, with their JSON untouched.
type Action struct {
	Protocol   *Protocol                  `json:"protocol,omitempty"`
	MetaData   *Metadata                  `json:"metaData,omitempty"`
	Add        *Add                       `json:"add,omitempty"`
	Remove     *Remove                    `json:"remove,omitempty"`
	Txn        *Txn                       `json:"txn,omitempty"`
	CommitInfo CommitInfo                 `json:"commitInfo,omitempty"`
	Other      map[string]json.RawMessage `json:"-"`
}

// kind names the action for errors; "" when none or several fields are set.
func (a *Action) kind() string {
	var kinds []string
	if a.Protocol != nil {
		kinds = append(kinds, "protocol")
	}
	if a.MetaData != nil {
		kinds = append(kinds, "metaData")
	}
	if a.Add != nil {
		kinds = append(kinds, "add")
	}
	if a.Remove != nil {
		kinds = append(kinds, "remove")
	}
	if a.Txn != nil {
		kinds = append(kinds, "txn")
	}
	if a.CommitInfo != nil {
		kinds = append(kinds, "commitInfo")
	}
	for k := range a.Other {
		kinds = append(kinds, k)
	}
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// ParseCommit parses a commit file (newline-delimited JSON, one action per
// line). Blank lines are skipped; unknown actions and unknown fields are
// tolerated as the protocol requires. Errors name the 1-based line.
func ParseCommit(data []byte) ([]Action, error) {
	var actions []Action
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if len(fields) == 0 {
			return nil, fmt.Errorf("line %d: empty action", i+1)
		}
		// One action per line; a line with several is split in a stable order.
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a, err := decodeAction(k, fields[k])
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", i+1, k, err)
			}
			if a != nil {
				actions = append(actions, *a)
			}
		}
	}
	return actions, nil
}

func decodeAction(kind string, raw json.RawMessage) (*Action, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil // {"add":null} carries nothing
	}
	var a Action
	var err error
	switch kind {
	case "protocol":
		a.Protocol = new(Protocol)
		err = json.Unmarshal(raw, a.Protocol)
	case "metaData":
		a.MetaData = new(Metadata)
		err = json.Unmarshal(raw, a.MetaData)
		if err == nil && a.MetaData.ID == "" {
			err = errors.New("missing id")
		}
	case "add":
		a.Add = new(Add)
		err = json.Unmarshal(raw, a.Add)
		if err == nil && a.Add.Path == "" {
			err = errors.New("missing path")
		}
	case "remove":
		a.Remove = new(Remove)
		err = json.Unmarshal(raw, a.Remove)
		if err == nil && a.Remove.Path == "" {
			err = errors.New("missing path")
		}
	case "txn":
		a.Txn = new(Txn)
		err = json.Unmarshal(raw, a.Txn)
		if err == nil && a.Txn.AppID == "" {
			err = errors.New("missing appId")
		}
	case "commitInfo":
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber() // keep timestamps and versions exact
		err = d.Decode(&a.CommitInfo)
		if err == nil && a.CommitInfo == nil {
			a.CommitInfo = CommitInfo{}
		}
	default:
		a.Other = map[string]json.RawMessage{kind: append(json.RawMessage(nil), raw...)}
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// EncodeCommit writes actions as a commit file: one JSON object per line, in
// the given order, each line ending in '\n'.
func EncodeCommit(actions []Action) ([]byte, error) {
	var buf bytes.Buffer
	for i := range actions {
		a := &actions[i]
		kind := a.kind()
		var v any
		switch kind {
		case "":
			return nil, fmt.Errorf("action %d: exactly one action kind must be set", i)
		case "protocol":
			v = a.Protocol
		case "metaData":
			v = a.MetaData
		case "add":
			v = a.Add
		case "remove":
			v = a.Remove
		case "txn":
			v = a.Txn
		case "commitInfo":
			v = a.CommitInfo
		default:
			v = a.Other[kind]
		}
		body, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("action %d (%s): %w", i, kind, err)
		}
		key, _ := json.Marshal(kind)
		buf.WriteByte('{')
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(body)
		buf.WriteString("}\n")
	}
	return buf.Bytes(), nil
}

// LogDir is the folder of the transaction log, relative to the table root.
const LogDir = "_delta_log"

// CommitPath is the commit file of a version: "_delta_log/00000000000000000012.json".
func CommitPath(version int64) string {
	return fmt.Sprintf("%s/%020d.json", LogDir, version)
}

// CheckpointPath is the classic (single-file) checkpoint of a version.
func CheckpointPath(version int64) string {
	return fmt.Sprintf("%s/%020d.checkpoint.parquet", LogDir, version)
}

// LastCheckpointPath is the pointer to the newest checkpoint.
const LastCheckpointPath = LogDir + "/_last_checkpoint"

// DecodePath turns an add/remove path (a URI, RFC 2396) into the file's path
// relative to the table root, e.g. "a=2021-09-08%2011%253A11" becomes
// "a=2021-09-08 11%3A11". A path that does not decode is returned as is.
func DecodePath(p string) string {
	if !strings.ContainsRune(p, '%') {
		return p
	}
	d, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return d
}

// EncodePath is the inverse of DecodePath for relative paths: it escapes every
// byte outside the unreserved set and '/', '=' (partition folders) so that
// Spark, delta-rs and DuckDB resolve the file. Data file names made of
// letters, digits, '-', '_' and '.' come out unchanged.
func EncodePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/', c == '=':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
