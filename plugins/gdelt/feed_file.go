package gdelt

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zip"
)

// Reasons a window file could not be (fully) read. They label the
// gdelt_feed_file_errors metric and the incomplete-window records.
const (
	ReasonNotFound        = "not_found"         // HTTP 404 / no such file in the mirror
	ReasonFetchFailed     = "fetch_failed"      // transient errors outlasted the retries, or another HTTP status
	ReasonSizeMismatch    = "size_mismatch"     // byte count differs from the list line (often a truncated download)
	ReasonMD5Mismatch     = "md5_mismatch"      // md5 differs from the list line
	ReasonCorruptZip      = "corrupt_zip"       // not a readable zip with one entry, or the inflate failed part way
	ReasonEmptyFile       = "empty_file"        // the entry holds no rows
	ReasonMissingFromList = "missing_from_list" // the list has no line for this table of the window
	// ReasonLineTooLong flags a single row over max_line_bytes; the row is
	// emitted (cut to the limit) as a message error, so it is not a file error.
	ReasonLineTooLong = "line_too_long"
)

// FileError says why one file of a window was not read completely.
type FileError struct {
	Window   string `json:"window"`
	Table    string `json:"table"`
	File     string `json:"file"`
	Location string `json:"location"`
	Reason   string `json:"reason"`
	Detail   string `json:"detail,omitempty"`
	Rows     int    `json:"rows_emitted"` // rows emitted before the failure (corrupt_zip part way)
}

func (e *FileError) Error() string {
	s := fmt.Sprintf("window %s %s file %s: %s", e.Window, e.Table, e.Location, e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Rows > 0 {
		s += fmt.Sprintf(" (after %d rows)", e.Rows)
	}
	return s
}

// Chunk is a run of consecutive rows of one file: the unit the feed emits as one batch.
type Chunk struct {
	Window, Table, File, Stream string
	// Marker, when set, makes this chunk a marker with no lines: contract.MarkerWindowEnd
	// (every file of Window was emitted) or contract.MarkerEnd (the backfill is over).
	Marker string
	// Repair marks rows read again by mode repair (metadata gdelt_repair).
	Repair    bool
	FirstLine int      // 1-based line number of Lines[0]
	Lines     [][]byte // without the line end
	// TooLong holds, for rows cut to max_line_bytes, their index in Lines and
	// their full length (line end excluded).
	TooLong map[int]int
	Bytes   int // bytes of the rows as read, line ends included
	CRLF    int // rows whose CR before the LF was dropped
}

// verifyFile checks a downloaded file against its list line.
func verifyFile(data []byte, e ListEntry) (reason, detail string) {
	if int64(len(data)) != e.Size {
		return ReasonSizeMismatch, fmt.Sprintf("got %d bytes, list says %d", len(data), e.Size)
	}
	sum := md5.Sum(data)
	if got := hex.EncodeToString(sum[:]); got != e.MD5 {
		return ReasonMD5Mismatch, fmt.Sprintf("got md5 %s, list says %s", got, e.MD5)
	}
	return "", ""
}

// openZipEntry opens the data entry of a GDELT zip for streaming: the entry
// named like the zip without ".zip" (in any folder, any case), else the first
// regular file. Directory entries are never data, wherever they come.
func openZipEntry(data []byte, zipName string) (io.ReadCloser, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	want := strings.TrimSuffix(zipName, ".zip")
	var first *zip.File
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") || !zf.Mode().IsRegular() {
			continue
		}
		if strings.EqualFold(path.Base(zf.Name), want) {
			return zf.Open()
		}
		if first == nil {
			first = zf
		}
	}
	if first == nil {
		return nil, fmt.Errorf("zip has no file entry (%d entries, all folders)", len(zr.File))
	}
	return first.Open()
}

// chunker splits a stream of LF-terminated rows into chunks. Rows never need
// to fit a fixed buffer: long rows are assembled up to maxLine bytes and the
// rest of such a row is counted, not kept.
//
// Rows are copied into arenas sized to what they hold, not to max_batch_bytes:
// a chunk stays in memory until downstream acknowledges it, so an arena
// reserved for the largest possible chunk made memory grow with the number of
// chunks in flight (8 MiB for a chunk of one row). An arena starts at
// minArena; when it is full the next one is as large as the chunk's rows so
// far (geometric growth, a handful of allocations per chunk), and rows already
// kept go on pointing into the old one. So the arenas of a chunk hold at most
// about twice its rows' bytes. The unused tail of a chunk's last arena is
// where the next chunk's first rows go, so that small chunks (max_batch_rows:
// 1) share arenas instead of each reserving minArena.
type chunker struct {
	br       *bufio.Reader
	maxLine  int
	maxRows  int
	maxBytes int
	line     int // rows read so far
	long     []byte
	arena    []byte // rows are appended into its free capacity
}

// minArena is the size of a chunk's first arena when the previous chunk left
// no room.
const minArena = 64 << 10

func newChunker(r io.Reader, maxLine, maxRows, maxBytes int) *chunker {
	return &chunker{br: bufio.NewReaderSize(r, 256*1024), maxLine: maxLine, maxRows: maxRows, maxBytes: maxBytes}
}

// next reads up to maxRows rows / about maxBytes bytes. It returns io.EOF
// with an empty chunk at the end of the stream, and any read error as is
// (with the rows read before it).
func (c *chunker) next(ch *Chunk) error {
	ch.FirstLine = c.line + 1
	ch.Lines = ch.Lines[:0]
	ch.TooLong = nil
	ch.Bytes, ch.CRLF = 0, 0
	kept := 0 // bytes of this chunk's rows in arenas
	for len(ch.Lines) < c.maxRows && ch.Bytes < c.maxBytes {
		raw, full, err := c.readLine()
		if len(raw) == 0 && err != nil {
			if err == io.EOF && len(ch.Lines) > 0 {
				return nil
			}
			return err
		}
		if err != nil && err != io.EOF {
			// A partial last row before a read error is not a row.
			return err
		}
		c.line++
		ch.Bytes += full
		row := raw
		if n := len(row); n > 0 && row[n-1] == '\n' {
			row = row[:n-1]
		}
		if n := len(row); n > 0 && row[n-1] == '\r' {
			row = row[:n-1]
			ch.CRLF++
		}
		rowLen := full
		if err == nil { // the row ended with its LF
			rowLen--
		}
		if rowLen > c.maxLine {
			if ch.TooLong == nil {
				ch.TooLong = map[int]int{}
			}
			ch.TooLong[len(ch.Lines)] = rowLen
		}
		ch.Lines = append(ch.Lines, c.keep(row, kept))
		kept += len(row)
		if err == io.EOF {
			return nil
		}
	}
	return nil
}

// skip reads past the first n rows (emitted by an earlier run) without
// keeping them; io.EOF when the file has no more rows than that.
func (c *chunker) skip(n int) error {
	for c.line < n {
		raw, _, err := c.readLine()
		if len(raw) == 0 && err != nil {
			return err
		}
		if err != nil && err != io.EOF {
			return err
		}
		c.line++
		if err == io.EOF {
			if c.line < n {
				return io.EOF
			}
			break
		}
	}
	// At the end of the stream right after the skipped rows?
	if _, err := c.br.Peek(1); err == io.EOF {
		return io.EOF
	}
	return nil
}

// keep copies row into the current arena, first replacing the arena when the
// row does not fit: by one as large as the chunk's rows so far (chunkBytes),
// at least minArena and at least the row. The copy is capped so that an
// append to it can never write into a neighbour.
func (c *chunker) keep(row []byte, chunkBytes int) []byte {
	if len(c.arena)+len(row) > cap(c.arena) {
		c.arena = make([]byte, 0, max(minArena, chunkBytes, len(row)))
	}
	start := len(c.arena)
	c.arena = append(c.arena, row...)
	return c.arena[start:len(c.arena):len(c.arena)]
}

// readLine returns the next row with its LF (none at a final unterminated
// row), cut to maxLine bytes, and the row's full length.
func (c *chunker) readLine() ([]byte, int, error) {
	b, err := c.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return b, len(b), err
	}
	c.long = append(c.long[:0], b...)
	full := len(b)
	for err == bufio.ErrBufferFull {
		b, err = c.br.ReadSlice('\n')
		full += len(b)
		if room := c.maxLine + 1 - len(c.long); room > 0 {
			c.long = append(c.long, b[:min(room, len(b))]...)
		}
	}
	if len(c.long) > c.maxLine && (err != nil || c.long[c.maxLine] != '\n') {
		// Keep exactly maxLine bytes of a row that is over the limit.
		c.long = c.long[:c.maxLine]
	}
	return c.long, full, err
}
