package delta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/gdeltflow/gdeltflow/plugins/delta/datafile"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// Reading a table's rows: which files (a snapshot's live files, or what one
// commit added), and each file's rows with its partition values.

// Change is what one commit did, as a reader that follows a table sees it.
type Change struct {
	Version int64
	// Adds are the files the commit added with dataChange: new rows.
	Adds []*Add
	// Rearranged counts the files added without dataChange (compaction,
	// OPTIMIZE): rows that were in the table already, not read again.
	Rearranged int
	// Removes are the files the commit removed (with or without dataChange).
	Removes []*Remove
	// Txns are the commit's txn actions (exactly-once progress of its writer).
	Txns []Txn
	// Metadata and Protocol are set when the commit changed them.
	Metadata *Metadata
	Protocol *Protocol
}

// ChangeOf sorts a commit's actions into a Change.
func ChangeOf(version int64, actions []Action) *Change {
	c := &Change{Version: version}
	for i := range actions {
		a := &actions[i]
		switch {
		case a.Add != nil && a.Add.DataChange:
			c.Adds = append(c.Adds, a.Add)
		case a.Add != nil:
			c.Rearranged++
		case a.Remove != nil:
			c.Removes = append(c.Removes, a.Remove)
		case a.Txn != nil:
			c.Txns = append(c.Txns, *a.Txn)
		case a.MetaData != nil:
			c.Metadata = a.MetaData
		case a.Protocol != nil:
			c.Protocol = a.Protocol
		}
	}
	return c
}

// ReadChange reads commit version. A commit not written yet is an error
// wrapping storage.ErrNotExist; one that does not parse wraps ErrCorruptLog.
func ReadChange(ctx context.Context, st storage.Storage, version int64) (*Change, error) {
	actions, err := readCommit(ctx, st, version)
	if err != nil {
		return nil, err
	}
	return ChangeOf(version, actions), nil
}

// ErrDataFile is wrapped by the errors of a data file that the log lists but
// that cannot be read as the table's rows: missing from storage (deleted by
// hand, or vacuumed while a reader was behind), not Parquet, truncated, or
// with columns of other types than the schema's. No retry mends it.
var ErrDataFile = errors.New("unreadable data file")

// CheckReadRows reports whether the rows of a table with this protocol and
// metadata can be read from its data files here: CheckRead, and no column
// mapping (the files' column names would be physical names). Files with a
// deletion vector are refused one by one, by Scan.Open.
func CheckReadRows(p *Protocol, m *Metadata) error {
	if err := p.CheckRead(); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("%w: no metaData", ErrCorruptLog)
	}
	if !columnMappingOff(m) {
		return fmt.Errorf("%w: column mapping mode %q (reading the rows of such a table is not supported)",
			ErrUnsupportedProtocol, m.Configuration["delta.columnMapping.mode"])
	}
	return nil
}

// Scan reads the rows of a table's data files with one metadata: the
// columns it gives (all of the schema's, or a projection), in that order,
// each value typed per the schema (datafile.Reader's Go types; a partition
// column's value comes from the add action, see PartitionValue).
type Scan struct {
	names      []string
	types      []schema.DataType
	isPart     []bool   // by output column: a partition column
	partCols   []string // the table's partition columns
	partTypes  map[string]schema.DataType
	fileSchema schema.StructType // the data columns read from the files
	fileIndex  []int             // by output column: its index in fileSchema, -1 for a partition column
}

// NewScan prepares reading the columns of the table with metadata m (nil or
// empty: every column of the schema, in schema order). An unknown column is
// an error naming the table's columns.
func NewScan(m *Metadata, columns []string) (*Scan, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: no metaData", ErrCorruptLog)
	}
	s, err := schema.Parse(m.SchemaString)
	if err != nil {
		return nil, fmt.Errorf("%w: the table's schema: %w", ErrCorruptLog, err)
	}
	if len(columns) == 0 {
		columns = s.Names()
	}
	sc := &Scan{partCols: m.PartitionColumns, partTypes: map[string]schema.DataType{}}
	seen := map[string]bool{}
	for _, name := range columns {
		f, ok := s.Field(name)
		if !ok {
			return nil, fmt.Errorf("column %q is not in the table (its columns: %s)", name, strings.Join(s.Names(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("column %q is named twice", name)
		}
		seen[name] = true
		part := slices.Contains(m.PartitionColumns, name)
		sc.names = append(sc.names, name)
		sc.types = append(sc.types, f.Type)
		sc.isPart = append(sc.isPart, part)
		if part {
			sc.fileIndex = append(sc.fileIndex, -1)
			continue
		}
		sc.fileIndex = append(sc.fileIndex, len(sc.fileSchema.Fields))
		sc.fileSchema.Fields = append(sc.fileSchema.Fields, f)
	}
	for _, pc := range m.PartitionColumns {
		f, ok := s.Field(pc)
		if !ok {
			return nil, fmt.Errorf("%w: partition column %q is not in the schema", ErrCorruptLog, pc)
		}
		sc.partTypes[pc] = f.Type
	}
	return sc, nil
}

// Names are the columns a row holds, in order.
func (sc *Scan) Names() []string { return sc.names }

// PartitionColumns are the table's partition columns.
func (sc *Scan) PartitionColumns() []string { return sc.partCols }

// PartitionValues are a file's partition values, typed (nil for null), keyed
// by every partition column of the table.
func (sc *Scan) PartitionValues(a *Add) (map[string]any, error) {
	out := make(map[string]any, len(sc.partCols))
	for _, pc := range sc.partCols {
		v, err := PartitionValue(sc.partTypes[pc], a.PartitionValues[pc])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: partition column %s: %w", ErrDataFile, DecodePath(a.Path), pc, err)
		}
		out[pc] = v
	}
	return out, nil
}

// Open opens one data file of the table to read its rows. A file that is
// missing, is not Parquet, does not fit the schema or has a deletion vector
// fails with ErrDataFile (or ErrUnsupportedProtocol for the vector), naming
// the file; a storage failure is returned as it is, to be retried.
func (sc *Scan) Open(ctx context.Context, st storage.Storage, a *Add) (*FileRows, error) {
	path := DecodePath(a.Path)
	if a.HasDeletionVector() {
		return nil, fmt.Errorf("%w: %s has a deletion vector (reading the rows of such files is not supported)", ErrUnsupportedProtocol, path)
	}
	parts, err := sc.PartitionValues(a)
	if err != nil {
		return nil, err
	}
	f, err := storage.OpenFile(ctx, st, path)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: the log lists it, the storage does not have it: %w", ErrDataFile, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening data file %s: %w", path, err)
	}
	src := &ioErrors{r: f}
	r, err := datafile.NewReader(src, f.Size(), sc.fileSchema)
	if err != nil {
		f.Close()
		return nil, src.classify(path, err)
	}
	fr := &FileRows{sc: sc, path: path, f: f, src: src, r: r, parts: make([]any, len(sc.names))}
	for i, name := range sc.names {
		if sc.isPart[i] {
			fr.parts[i] = parts[name]
		}
	}
	return fr, nil
}

// FileRows are the rows of one data file. It holds one row group of the
// file at a time (see datafile.Reader); it is not safe for concurrent use.
type FileRows struct {
	sc    *Scan
	path  string
	f     storage.File
	src   *ioErrors
	r     *datafile.Reader
	parts []any // partition values at their output positions
	n     int64
}

// Path is the file's path relative to the table root.
func (fr *FileRows) Path() string { return fr.path }

// NumRows is the number of rows in the file.
func (fr *FileRows) NumRows() int64 { return fr.r.NumRows() }

// Next returns the next row's values in the order of Scan.Names, or io.EOF
// after the last one.
func (fr *FileRows) Next() ([]any, error) {
	m, err := fr.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fr.src.classify(fr.path, fmt.Errorf("row %d: %w", fr.n, err))
	}
	fr.n++
	out := make([]any, len(fr.sc.names))
	for i, name := range fr.sc.names {
		if fr.sc.isPart[i] {
			out[i] = fr.parts[i]
		} else {
			out[i] = m[name]
		}
	}
	return out, nil
}

// Close closes the file.
func (fr *FileRows) Close() error {
	err := fr.r.Close()
	if cerr := fr.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ioErrors remembers the storage's read errors, so that a reader's failure
// is told apart: the storage failed (retry), or the bytes are not a data
// file of the table (ErrDataFile).
type ioErrors struct {
	r   io.ReaderAt
	mu  sync.Mutex
	err error
}

func (e *ioErrors) ReadAt(b []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		e.mu.Lock()
		e.err = err
		e.mu.Unlock()
	}
	return n, err
}

func (e *ioErrors) classify(path string, err error) error {
	e.mu.Lock()
	ioErr := e.err
	e.err = nil
	e.mu.Unlock()
	if ioErr != nil {
		return fmt.Errorf("reading data file %s: %w", path, ioErr)
	}
	return fmt.Errorf("%w: %s: %w", ErrDataFile, path, err)
}
