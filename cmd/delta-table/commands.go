package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/delta"
	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// errNoTable is returned for a location without any commit.
var errNoTable = errors.New("no Delta table here: no commit files in " + delta.LogDir + "/")

// viewOptions are the options of the read-only commands.
type viewOptions struct {
	// Version is the table version to show; -1 is the latest.
	Version int64
	JSON    bool
	// Warn receives warnings (stderr); nil discards them.
	Warn io.Writer
}

// loadSnapshot loads the latest snapshot or the one at version (>= 0). What
// the load had to work around (a checkpoint it could not use) is written to
// warn, one "delta-table: warning: …" line each.
func loadSnapshot(ctx context.Context, st storage.Storage, version int64, warn io.Writer) (*delta.Snapshot, error) {
	var s *delta.Snapshot
	var err error
	if version < 0 {
		s, err = delta.Load(ctx, st)
	} else {
		s, err = delta.LoadVersion(ctx, st, version)
	}
	if err == nil && s.Version >= 0 {
		if warn != nil {
			for _, w := range s.Warnings {
				fmt.Fprintf(warn, "delta-table: warning: %s: %s\n", st.Location(), w)
			}
		}
		return s, nil
	}
	// Tell "there is no table" apart from a broken one.
	if files, lerr := st.List(ctx, delta.LogDir+"/"); lerr == nil && len(commitVersions(files)) == 0 {
		return nil, errNoTable
	}
	if err == nil {
		err = errNoTable
	}
	return nil, err
}

// checkRows refuses a table whose protocol needs reader features this tool
// cannot honour: its row counts and live files would be wrong.
func checkRows(s *delta.Snapshot) error {
	if err := s.Protocol.CheckRead(); err != nil {
		return fmt.Errorf("version %d: %w; delta-table cannot tell this table's rows and files: read it with Spark or delta-rs", s.Version, err)
	}
	return nil
}

// commitVersions returns the versions of the commit files (N.json) of a
// listing of the log, newest first.
func commitVersions(files []storage.FileInfo) []int64 {
	var out []int64
	for _, f := range files {
		name, ok := strings.CutPrefix(f.Path, delta.LogDir+"/")
		if !ok || len(name) != 25 || !strings.HasSuffix(name, ".json") {
			continue
		}
		v, err := strconv.ParseInt(name[:20], 10, 64)
		if err != nil || v < 0 {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

// ---------------------------------------------------------------- history

type historyOptions struct {
	// N is how many versions to show, newest first; 0 is all.
	N    int
	JSON bool
}

// commitSummary is one line of the history.
type commitSummary struct {
	Version             int64          `json:"version"`
	Timestamp           *string        `json:"timestamp"`
	TimestampMs         int64          `json:"timestampMs,omitempty"`
	Operation           string         `json:"operation,omitempty"`
	OperationParameters map[string]any `json:"operationParameters,omitempty"`
	OperationMetrics    map[string]any `json:"operationMetrics,omitempty"`
	// Counted from the commit's actions.
	AddedFiles   int64 `json:"addedFiles"`
	RemovedFiles int64 `json:"removedFiles"`
	AddedBytes   int64 `json:"addedBytes"`
	// AddedRows is operationMetrics.numOutputRows, else the sum of the added
	// files' stats.numRecords; null when neither is known.
	AddedRows *int64 `json:"addedRows"`
	// DeletedRows is operationMetrics.numDeletedRows / numTargetRowsDeleted.
	DeletedRows *int64 `json:"deletedRows,omitempty"`
	// Txns are the txn actions of the commit (JSON: TxnEntries).
	Txns       []delta.Txn `json:"-"`
	TxnEntries []txnEntry  `json:"txns,omitempty"`
	EngineInfo string      `json:"engineInfo,omitempty"`
	// Metadata / Protocol say whether the commit changed them.
	Metadata bool `json:"metadataChanged,omitempty"`
	Protocol bool `json:"protocolChanged,omitempty"`
}

// cmdHistory lists the commits, newest first, reading each commit file.
// Versions whose JSON was removed by log cleanup are not listed.
func cmdHistory(ctx context.Context, w io.Writer, st storage.Storage, o historyOptions) error {
	files, err := st.List(ctx, delta.LogDir+"/")
	if err != nil {
		return err
	}
	modTimes := map[int64]time.Time{}
	for _, f := range files {
		if vs := commitVersions([]storage.FileInfo{f}); len(vs) == 1 {
			modTimes[vs[0]] = f.ModTime
		}
	}
	versions := commitVersions(files)
	if len(versions) == 0 {
		return errNoTable
	}
	if o.N > 0 && len(versions) > o.N {
		versions = versions[:o.N]
	}
	summaries, err := readCommits(ctx, st, versions)
	if err != nil {
		return err
	}
	if o.JSON {
		j := newJSONLines(w)
		for _, s := range summaries {
			if s.TimestampMs == 0 {
				s.TimestampMs = modTimes[s.Version].UnixMilli()
			}
			s.Timestamp = jsonMillis(s.TimestampMs)
			for _, t := range s.Txns {
				s.TxnEntries = append(s.TxnEntries, txnEntry{t.AppID, t.Version, jsonMillis(t.LastUpdated), t.LastUpdated})
			}
			if err := j.write(s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(w)
	row(tw, "VERSION", "TIMESTAMP (UTC)", "OPERATION", "ROWS", "FILES", "BYTES", "TXNS", "ENGINE")
	for _, s := range summaries {
		ts := s.TimestampMs
		if ts == 0 {
			ts = modTimes[s.Version].UnixMilli()
		}
		rows := "?"
		if s.AddedRows != nil {
			rows = "+" + strconv.FormatInt(*s.AddedRows, 10)
		}
		if s.DeletedRows != nil {
			rows += " -" + strconv.FormatInt(*s.DeletedRows, 10)
		}
		var txns []string
		for _, t := range s.Txns {
			txns = append(txns, t.AppID+"="+strconv.FormatInt(t.Version, 10))
		}
		row(tw,
			strconv.FormatInt(s.Version, 10),
			fmtMillis(ts),
			orDash(s.Operation),
			rows,
			fmt.Sprintf("+%d -%d", s.AddedFiles, s.RemovedFiles),
			"+"+strconv.FormatInt(s.AddedBytes, 10),
			orDash(strings.Join(txns, ",")),
			orDash(s.EngineInfo),
		)
	}
	return tw.Flush()
}

// readCommits reads and summarizes the commit files of versions (a few at a
// time: on S3 each is a round trip). A commit deleted since the listing (log
// cleanup) is skipped.
func readCommits(ctx context.Context, st storage.Storage, versions []int64) ([]*commitSummary, error) {
	out := make([]*commitSummary, len(versions))
	errs := make([]error, len(versions))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			data, err := st.Read(ctx, delta.CommitPath(v))
			if errors.Is(err, storage.ErrNotExist) {
				return
			}
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			actions, err := delta.ParseCommit(data)
			if err != nil {
				errs[i] = fmt.Errorf("parsing %s: %w", delta.CommitPath(v), err)
				cancel()
				return
			}
			out[i] = summarizeCommit(v, actions)
		}()
	}
	wg.Wait()
	var canceled error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil && canceled == nil {
			canceled = err
		}
	}
	if canceled != nil {
		return nil, canceled
	}
	var kept []*commitSummary
	for _, s := range out {
		if s != nil {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

// summarizeCommit condenses one commit's actions.
func summarizeCommit(v int64, actions []delta.Action) *commitSummary {
	s := &commitSummary{Version: v}
	// A file removed and added again in one commit with a new deletion vector
	// (a DELETE or UPDATE that does not rewrite it) adds no rows: it deletes
	// the rows its new vector adds to the old one's.
	removedDV := map[string]int64{}
	for i := range actions {
		if r := actions[i].Remove; r != nil {
			old := delta.Add{DeletionVector: r.DeletionVector}
			d, _ := old.DeletedRows()
			removedDV[delta.DecodePath(r.Path)] = d
		}
	}
	var statsRows, dvDeleted int64
	statsKnown, dvSeen := true, false
	for i := range actions {
		a := &actions[i]
		switch {
		case a.Add != nil:
			s.AddedFiles++
			s.AddedBytes += a.Add.Size
			if old, readded := removedDV[delta.DecodePath(a.Add.Path)]; readded && a.Add.HasDeletionVector() {
				dvSeen = true
				if d, ok := a.Add.DeletedRows(); ok {
					dvDeleted += d - old
				}
				continue
			}
			if n, ok := a.Add.Rows(); ok {
				statsRows += n
			} else {
				statsKnown = false
			}
		case a.Remove != nil:
			s.RemovedFiles++
		case a.Txn != nil:
			s.Txns = append(s.Txns, *a.Txn)
		case a.MetaData != nil:
			s.Metadata = true
		case a.Protocol != nil:
			s.Protocol = true
		case a.CommitInfo != nil:
			ci := a.CommitInfo
			// With in-commit timestamps enabled, that one is authoritative.
			if ts, ok := toInt64(ci["inCommitTimestamp"]); ok {
				s.TimestampMs = ts
			} else if ts, ok := toInt64(ci["timestamp"]); ok {
				s.TimestampMs = ts
			}
			s.Operation, _ = ci["operation"].(string)
			s.EngineInfo, _ = ci["engineInfo"].(string)
			s.OperationParameters, _ = ci["operationParameters"].(map[string]any)
			s.OperationMetrics, _ = ci["operationMetrics"].(map[string]any)
		}
	}
	sort.Slice(s.Txns, func(i, j int) bool { return s.Txns[i].AppID < s.Txns[j].AppID })
	if n, ok := toInt64(s.OperationMetrics["numOutputRows"]); ok {
		s.AddedRows = &n
	} else if statsKnown {
		s.AddedRows = &statsRows
	}
	for _, k := range []string{"numDeletedRows", "numTargetRowsDeleted"} {
		if n, ok := toInt64(s.OperationMetrics[k]); ok {
			s.DeletedRows = &n
			break
		}
	}
	if s.DeletedRows == nil && dvSeen {
		s.DeletedRows = &dvDeleted
	}
	if len(s.OperationMetrics) == 0 {
		s.OperationMetrics = nil
	}
	return s
}

// statsNumRecords reads numRecords out of an add's stats JSON.
func statsNumRecords(stats string) (int64, bool) {
	if stats == "" {
		return 0, false
	}
	var st struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if json.Unmarshal([]byte(stats), &st) != nil || st.NumRecords == nil {
		return 0, false
	}
	return *st.NumRecords, true
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ----------------------------------------------------------------- schema

type schemaColumn struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Nullable  bool   `json:"nullable"`
	Partition bool   `json:"partition,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

type schemaReport struct {
	Version          int64             `json:"version"`
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	CreatedTime      *string           `json:"createdTime,omitempty"`
	Columns          []schemaColumn    `json:"columns"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	Protocol         *delta.Protocol   `json:"protocol"`
	// Schema is the schemaString, as JSON.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// cmdSchema prints the columns, partitioning, configuration and protocol.
func cmdSchema(ctx context.Context, w io.Writer, st storage.Storage, o viewOptions) error {
	s, err := loadSnapshot(ctx, st, o.Version, o.Warn)
	if err != nil {
		return err
	}
	m := s.Metadata
	rep := schemaReport{
		Version:          s.Version,
		ID:               m.ID,
		Name:             m.Name,
		Description:      m.Description,
		CreatedTime:      jsonMillis(m.CreatedTime),
		PartitionColumns: m.PartitionColumns,
		Configuration:    m.Configuration,
		Protocol:         s.Protocol,
	}
	if rep.PartitionColumns == nil {
		rep.PartitionColumns = []string{}
	}
	if rep.Configuration == nil {
		rep.Configuration = map[string]string{}
	}
	if json.Valid([]byte(m.SchemaString)) {
		rep.Schema = json.RawMessage(m.SchemaString)
	}
	ts, schemaErr := schema.Parse(m.SchemaString)
	if schemaErr == nil {
		part := map[string]bool{}
		for _, c := range m.PartitionColumns {
			part[c] = true
		}
		rep.Columns = flattenColumns(ts.Fields, "", part)
	}
	if o.JSON {
		if schemaErr != nil && rep.Schema == nil {
			return fmt.Errorf("version %d: %w", s.Version, schemaErr)
		}
		if rep.Columns == nil {
			rep.Columns = []schemaColumn{}
		}
		return newJSONLines(w).write(rep)
	}

	tw := newTable(w)
	row(tw, "table", st.Location())
	row(tw, "version", strconv.FormatInt(s.Version, 10))
	row(tw, "id", m.ID)
	if m.Name != "" {
		row(tw, "name", m.Name)
	}
	if m.Description != "" {
		row(tw, "description", m.Description)
	}
	if m.CreatedTime != 0 {
		row(tw, "created", fmtMillis(m.CreatedTime))
	}
	row(tw, "protocol", protocolString(s.Protocol))
	row(tw, "partitioned by", orNone(strings.Join(m.PartitionColumns, ", ")))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if schemaErr != nil {
		fmt.Fprintf(w, "schema (not understood: %v):\n%s\n", schemaErr, m.SchemaString)
	} else {
		hasComment := false
		for _, c := range rep.Columns {
			hasComment = hasComment || c.Comment != ""
		}
		tw = newTable(w)
		head := []string{"COLUMN", "TYPE", "NULLABLE", "PARTITION"}
		if hasComment {
			head = append(head, "COMMENT")
		}
		row(tw, head...)
		for _, c := range rep.Columns {
			cells := []string{c.Name, c.Type, strconv.FormatBool(c.Nullable), yes(c.Partition)}
			if hasComment {
				cells = append(cells, c.Comment)
			}
			row(tw, cells...)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(m.Configuration) == 0 {
		fmt.Fprintln(w, "configuration: (none)")
		return nil
	}
	fmt.Fprintln(w, "configuration:")
	keys := make([]string, 0, len(m.Configuration))
	for k := range m.Configuration {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw = newTable(w)
	for _, k := range keys {
		row(tw, "  "+k, "= "+m.Configuration[k])
	}
	return tw.Flush()
}

// flattenColumns lists the columns, and the fields of struct columns as
// "parent.child" after their parent.
func flattenColumns(fields []schema.StructField, prefix string, part map[string]bool) []schemaColumn {
	var out []schemaColumn
	for _, f := range fields {
		c := schemaColumn{
			Name:      prefix + f.Name,
			Type:      f.Type.String(),
			Nullable:  f.Nullable,
			Partition: prefix == "" && part[f.Name],
		}
		if cm, ok := f.Metadata["comment"].(string); ok {
			c.Comment = cm
		}
		out = append(out, c)
		if f.Type.Struct != nil {
			out = append(out, flattenColumns(f.Type.Struct.Fields, c.Name+".", nil)...)
		}
	}
	return out
}

func protocolString(p *delta.Protocol) string {
	if p == nil {
		return "-"
	}
	s := fmt.Sprintf("reader %d, writer %d", p.MinReaderVersion, p.MinWriterVersion)
	if len(p.ReaderFeatures) > 0 {
		s += "; reader features: " + strings.Join(p.ReaderFeatures, ", ")
	}
	if len(p.WriterFeatures) > 0 {
		s += "; writer features: " + strings.Join(p.WriterFeatures, ", ")
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// ------------------------------------------------------------------ files

type fileEntry struct {
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	NumRecords       *int64             `json:"numRecords"` // rows in the file (stats)
	ModificationTime *string            `json:"modificationTime"`
	ModificationMs   int64              `json:"modificationTimeMs"`
	DeletionVector   bool               `json:"deletionVector,omitempty"`
	// DeletedRecords is the rows of the file its deletion vector deletes.
	DeletedRecords *int64 `json:"deletedRecords,omitempty"`
	// Rows is the file's live rows: numRecords - deletedRecords.
	Rows *int64 `json:"rows"`
}

// cmdFiles lists the live files and their totals.
func cmdFiles(ctx context.Context, w io.Writer, st storage.Storage, o viewOptions) error {
	s, err := loadSnapshot(ctx, st, o.Version, o.Warn)
	if err != nil {
		return err
	}
	if err := checkRows(s); err != nil {
		return err
	}
	files := s.SortedFiles()
	anyDV := false
	for _, a := range files {
		anyDV = anyDV || a.HasDeletionVector()
	}
	var j *jsonLines
	if o.JSON {
		j = newJSONLines(w)
	}
	tw := newTable(w)
	partCols := s.Metadata.PartitionColumns
	if !o.JSON {
		head := []string{"PATH"}
		if len(partCols) > 0 {
			head = append(head, "PARTITION")
		}
		head = append(head, "SIZE", "RECORDS")
		if anyDV {
			head = append(head, "DELETED (DV)")
		}
		row(tw, append(head, "MODIFIED (UTC)")...)
	}
	var bytes, records, deleted, dvFiles, noStats int64
	for _, a := range files {
		e := fileEntry{
			Path:             delta.DecodePath(a.Path),
			PartitionValues:  a.PartitionValues,
			Size:             a.Size,
			ModificationTime: jsonMillis(a.ModificationTime),
			ModificationMs:   a.ModificationTime,
			DeletionVector:   a.HasDeletionVector(),
		}
		if e.PartitionValues == nil {
			e.PartitionValues = map[string]*string{}
		}
		n, hasStats := statsNumRecords(a.Stats)
		d, hasDV := a.DeletedRows()
		if hasStats {
			e.NumRecords = &n
			records += n
		}
		if e.DeletionVector && hasDV {
			e.DeletedRecords = &d
			deleted += d
			dvFiles++
		}
		if hasStats && hasDV {
			live := n - d
			e.Rows = &live
		} else {
			noStats++
		}
		bytes += a.Size
		if j != nil {
			if err := j.write(e); err != nil {
				return err
			}
			continue
		}
		cells := []string{e.Path}
		if len(partCols) > 0 {
			cells = append(cells, partitionString(partCols, a.PartitionValues))
		}
		cells = append(cells, strconv.FormatInt(a.Size, 10), optInt(e.NumRecords))
		if anyDV {
			dv := "-"
			switch {
			case e.DeletedRecords != nil:
				dv = strconv.FormatInt(*e.DeletedRecords, 10)
			case e.DeletionVector:
				dv = "?"
			}
			cells = append(cells, dv)
		}
		row(tw, append(cells, fmtMillis(a.ModificationTime))...)
	}
	if j != nil {
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	recs := plural(records, "record")
	if deleted > 0 || dvFiles > 0 {
		recs = fmt.Sprintf("%s less %d deleted by deletion vectors in %s: %s", recs, deleted, plural(dvFiles, "file"), plural(records-deleted, "live row"))
	}
	if noStats > 0 {
		recs = fmt.Sprintf("records unknown (%s without stats or a readable deletion vector)", plural(noStats, "file"))
	}
	_, err = fmt.Fprintf(w, "\ntotal: %s, %d bytes (%s), %s; version %d\n",
		plural(int64(len(files)), "file"), bytes, humanBytes(bytes), recs, s.Version)
	return err
}

// partitionString prints partition values in the table's column order:
// "c1=4, c2=c"; a null value is <null>.
func partitionString(cols []string, vals map[string]*string) string {
	seen := map[string]bool{}
	var parts []string
	add := func(k string) {
		v, ok := vals[k]
		if !ok {
			return
		}
		seen[k] = true
		if v == nil {
			parts = append(parts, k+"=<null>")
		} else {
			parts = append(parts, k+"="+*v)
		}
	}
	for _, c := range cols {
		add(c)
	}
	var extra []string
	for k := range vals {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		add(k)
	}
	return strings.Join(parts, ", ")
}

// -------------------------------------------------------------------- txn

type txnEntry struct {
	AppID         string  `json:"appId"`
	Version       int64   `json:"version"`
	LastUpdated   *string `json:"lastUpdated"`
	LastUpdatedMs int64   `json:"lastUpdatedMs,omitempty"`
}

// cmdTxn lists the newest txn (application progress) of each appId.
func cmdTxn(ctx context.Context, w io.Writer, st storage.Storage, o viewOptions) error {
	s, err := loadSnapshot(ctx, st, o.Version, o.Warn)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(s.Txns))
	for id := range s.Txns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if o.JSON {
		j := newJSONLines(w)
		for _, id := range ids {
			t := s.Txns[id]
			if err := j.write(txnEntry{t.AppID, t.Version, jsonMillis(t.LastUpdated), t.LastUpdated}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ids) == 0 {
		_, err := fmt.Fprintf(w, "no application transactions (version %d)\n", s.Version)
		return err
	}
	tw := newTable(w)
	row(tw, "APP ID", "VERSION", "LAST UPDATED (UTC)")
	for _, id := range ids {
		t := s.Txns[id]
		row(tw, t.AppID, strconv.FormatInt(t.Version, 10), fmtMillis(t.LastUpdated))
	}
	return tw.Flush()
}

// ------------------------------------------------------------------ count

type countReport struct {
	Version int64 `json:"version"`
	// Rows is the live rows: the files' numRecords less the rows their
	// deletion vectors delete; null when a file has no numRecords statistic.
	Rows             *int64 `json:"rows"`
	Files            int64  `json:"files"`
	Bytes            int64  `json:"bytes"`
	FilesWithoutStat int64  `json:"filesWithoutStats,omitempty"`
	// DeletedRows are the rows deletion vectors delete, in FilesWithDV files.
	DeletedRows *int64 `json:"deletedRows,omitempty"`
	FilesWithDV int64  `json:"filesWithDeletionVectors,omitempty"`
}

// cmdCount prints the row count from the file statistics and the deletion
// vectors' cardinalities.
func cmdCount(ctx context.Context, w io.Writer, st storage.Storage, o viewOptions) error {
	s, err := loadSnapshot(ctx, st, o.Version, o.Warn)
	if err != nil {
		return err
	}
	if err := checkRows(s); err != nil {
		return err
	}
	rep := countReport{Version: s.Version, Files: int64(len(s.Files))}
	var rows, deleted int64
	for _, a := range s.Files {
		rep.Bytes += a.Size
		if a.HasDeletionVector() {
			rep.FilesWithDV++
			if d, ok := a.DeletedRows(); ok {
				deleted += d
			}
		}
		if n, ok := a.Rows(); ok {
			rows += n
		} else {
			rep.FilesWithoutStat++
		}
	}
	if rep.FilesWithoutStat == 0 {
		rep.Rows = &rows
	}
	if rep.FilesWithDV > 0 {
		rep.DeletedRows = &deleted
	}
	if o.JSON {
		return newJSONLines(w).write(rep)
	}
	rowsText := strconv.FormatInt(rows, 10)
	if rep.Rows != nil && rep.FilesWithDV > 0 {
		rowsText += fmt.Sprintf(" (%d in the files less %d deleted by deletion vectors in %s)",
			rows+deleted, deleted, plural(rep.FilesWithDV, "file"))
	}
	if rep.Rows == nil {
		rowsText = fmt.Sprintf("unknown (no numRecords stats or readable deletion vector in %d of %s", rep.FilesWithoutStat, plural(rep.Files, "file"))
		if with := rep.Files - rep.FilesWithoutStat; with > 0 {
			rowsText += fmt.Sprintf("; the other %d hold %s", with, plural(rows, "row"))
		}
		rowsText += ")"
	}
	tw := newTable(w)
	row(tw, "rows", rowsText)
	row(tw, "files", strconv.FormatInt(rep.Files, 10))
	row(tw, "bytes", fmt.Sprintf("%d (%s)", rep.Bytes, humanBytes(rep.Bytes)))
	row(tw, "version", strconv.FormatInt(rep.Version, 10))
	return tw.Flush()
}

// ------------------------------------------------------------- checkpoint

// cmdCheckpoint writes a checkpoint of the latest version (warnings to warn).
func cmdCheckpoint(ctx context.Context, w, warn io.Writer, st storage.Storage) error {
	s, err := loadSnapshot(ctx, st, -1, warn)
	if err != nil {
		return err
	}
	if err := delta.WriteCheckpoint(ctx, st, s); err != nil {
		return err
	}
	p := delta.CheckpointPath(s.Version)
	var info struct {
		Version     int64 `json:"version"`
		Size        int64 `json:"size"`
		SizeInBytes int64 `json:"sizeInBytes"`
	}
	detail := ""
	if data, err := st.Read(ctx, delta.LastCheckpointPath); err == nil && json.Unmarshal(data, &info) == nil && info.Version == s.Version {
		detail = fmt.Sprintf(", %s, %d bytes", plural(info.Size, "action"), info.SizeInBytes)
	}
	_, err = fmt.Fprintf(w, "wrote checkpoint of version %d: %s (%s%s)\n",
		s.Version, p, plural(int64(len(s.Files)), "live file"), detail)
	return err
}

// ----------------------------------------------------------------- vacuum

type vacuumOptions struct {
	// Retention is used when RetentionSet; otherwise the table's
	// delta.deletedFileRetentionDuration.
	Retention    time.Duration
	RetentionSet bool
	// Execute deletes the files; otherwise it is a dry run.
	Execute bool
	// Force allows executing with a retention below the table's.
	Force bool
	JSON  bool
	Now   time.Time
	// Warn receives warnings (stderr); nil discards them.
	Warn io.Writer
}

type vacuumEntry struct {
	Kind              string  `json:"kind"` // orphan or tombstone
	Path              string  `json:"path"`
	Size              int64   `json:"size"`
	ModificationTime  *string `json:"modificationTime"`
	DeletionTimestamp *string `json:"deletionTimestamp,omitempty"`
	// Deleted is true with -execute once the deletion succeeded.
	Deleted bool `json:"deleted"`
}

// cmdVacuum lists (and with Execute deletes) orphan data files and the files
// of expired tombstones.
func cmdVacuum(ctx context.Context, w io.Writer, st storage.Storage, o vacuumOptions) error {
	s, err := loadSnapshot(ctx, st, -1, o.Warn)
	if err != nil {
		return err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	tableRet := s.Metadata.DeletedFileRetention()
	retention := tableRet
	if o.RetentionSet {
		retention = o.Retention
	}
	if retention < tableRet {
		msg := fmt.Sprintf("retention %s is shorter than the table's delta.deletedFileRetentionDuration (%s): "+
			"readers of older versions and writers still committing may lose files", fmtDuration(retention), fmtDuration(tableRet))
		if o.Execute && !o.Force {
			return errors.New("refusing to vacuum: " + msg + "; pass -force to do it anyway")
		}
		if o.Warn != nil {
			fmt.Fprintln(o.Warn, "delta-table: warning: "+msg)
		}
	}
	plan, err := delta.PlanVacuum(ctx, st, s, retention, o.Now)
	if err != nil {
		return err
	}
	var entries []vacuumEntry
	for _, f := range plan.Orphans {
		entries = append(entries, vacuumEntry{Kind: "orphan", Path: f.Path, Size: f.Size, ModificationTime: jsonTime(f.ModTime)})
	}
	for _, f := range plan.ExpiredTombstones {
		e := vacuumEntry{Kind: "tombstone", Path: f.Path, Size: f.Size, ModificationTime: jsonTime(f.ModTime)}
		if r, ok := s.Tombstones[f.Path]; ok {
			e.DeletionTimestamp = jsonMillis(r.DeletionTimestamp)
		}
		entries = append(entries, e)
	}

	var execErr error
	if o.Execute && len(entries) > 0 {
		execErr = delta.ExecuteVacuum(ctx, st, plan)
		if execErr == nil {
			for i := range entries {
				entries[i].Deleted = true
			}
		} else {
			// Report which files are gone and which are left.
			left := map[string]bool{}
			if files, err := st.List(ctx, ""); err == nil {
				for _, f := range files {
					left[f.Path] = true
				}
				for i := range entries {
					entries[i].Deleted = !left[entries[i].Path]
				}
			}
		}
	}

	if o.JSON {
		j := newJSONLines(w)
		for _, e := range entries {
			if err := j.write(e); err != nil {
				return err
			}
		}
		return execErr
	}

	mode := "dry run"
	if o.Execute {
		mode = "executing"
	}
	fmt.Fprintf(w, "vacuum of version %d, retention %s (%s)\n", s.Version, fmtDuration(retention), mode)
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "nothing to delete")
		return err
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	head := []string{"KIND", "PATH", "SIZE", "MODIFIED (UTC)", "REMOVED (UTC)"}
	if o.Execute {
		head = append(head, "DELETED")
	}
	row(tw, head...)
	var orphans, tombstones, bytes, deleted, deletedBytes int64
	for _, e := range entries {
		if e.Kind == "orphan" {
			orphans++
		} else {
			tombstones++
		}
		bytes += e.Size
		if e.Deleted {
			deleted++
			deletedBytes += e.Size
		}
		cells := []string{e.Kind, e.Path, strconv.FormatInt(e.Size, 10), derefOr(e.ModificationTime), derefOr(e.DeletionTimestamp)}
		if o.Execute {
			cells = append(cells, yesNo(e.Deleted))
		}
		row(tw, cells...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	what := fmt.Sprintf("%s (%s, %s)", plural(orphans+tombstones, "file"),
		plural(orphans, "orphan"), plural(tombstones, "expired tombstone"))
	switch {
	case !o.Execute:
		_, err = fmt.Fprintf(w, "\nwould delete %s, %d bytes (%s); run with -execute to delete them\n", what, bytes, humanBytes(bytes))
	case execErr == nil:
		_, err = fmt.Fprintf(w, "\ndeleted %s, %d bytes (%s)\n", what, bytes, humanBytes(bytes))
	default:
		_, err = fmt.Fprintf(w, "\ndeleted %d of %s, %d bytes (%s)\n", deleted, what, deletedBytes, humanBytes(deletedBytes))
	}
	if execErr != nil {
		return execErr
	}
	return err
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeLayout)
	return &s
}

func derefOr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
