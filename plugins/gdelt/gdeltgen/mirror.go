package gdeltgen

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
)

// FeedURLPrefix is the URL prefix of the real feed, used in the list files.
const FeedURLPrefix = "http://data.gdeltproject.org/gdeltv2/"

// Tables in feed order.
var Tables = []string{"export", "mentions", "gkg"}

var tableSuffix = map[string]string{
	"export":   "export.CSV",
	"mentions": "mentions.CSV",
	"gkg":      "gkg.csv",
}

// FileName is the feed name of one file: 20230702153000.gkg.csv.zip, 20230702153000.translation.export.CSV.zip.
func FileName(window, table string, translation bool) string {
	s, ok := tableSuffix[table]
	if !ok {
		s = table
	}
	if translation {
		return window + ".translation." + s + ".zip"
	}
	return window + "." + s + ".zip"
}

// ListFileNames returns the names of the master list and the last-update list of the stream.
func ListFileNames(translation bool) (master, last string) {
	if translation {
		return "masterfilelist-translation.txt", "lastupdate-translation.txt"
	}
	return "masterfilelist.txt", "lastupdate.txt"
}

// ParseFileName splits a feed file name into window, table ("export", "mentions", "gkg") and stream.
func ParseFileName(name string) (window, table string, translation bool, err error) {
	rest, ok := strings.CutSuffix(name, ".zip")
	if !ok || len(rest) < 16 || rest[14] != '.' {
		return "", "", false, fmt.Errorf("gdeltgen: %q is not a GDELT 2.0 file name", name)
	}
	window, rest = rest[:14], rest[15:]
	if _, err := ParseWindowID(window); err != nil {
		return "", "", false, fmt.Errorf("gdeltgen: %q is not a GDELT 2.0 file name", name)
	}
	rest, translation = strings.CutPrefix(rest, "translation.")
	for t, s := range tableSuffix {
		if rest == s {
			return window, t, translation, nil
		}
	}
	return "", "", false, fmt.Errorf("gdeltgen: %q is not a GDELT 2.0 file name", name)
}

// ZipLevel is the deflate level of the zips written by the mirror (klauspost/compress flate; GDELT's own zips
// are plain deflate "normal").
const ZipLevel = 6

// ZipFile zips content as a single entry named entry, with a fixed modification time (so that the bytes are
// reproducible).
func ZipFile(entry string, content []byte, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(content)/3 + 1024)
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, ZipLevel)
	})
	h := &zip.FileHeader{Name: entry, Method: zip.Deflate, Modified: modified.UTC()}
	h.SetMode(0o644)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Mirror writes a GDELT-style mirror directory: <window>.<table>.zip files plus masterfilelist.txt and
// lastupdate.txt (or the -translation lists).
type Mirror struct {
	dir         string
	translation bool
	entries     []*mirrorEntry
	closed      bool
}

type mirrorEntry struct {
	name   string
	window string
	order  int    // position of the table in feed order
	size   int64  // listed size
	md5    string // listed md5
}

// NewMirror creates dir if needed and returns a writer for it.
func NewMirror(dir string, translation bool) (*Mirror, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Mirror{dir: dir, translation: translation}, nil
}

// Dir is the mirror directory.
func (m *Mirror) Dir() string { return m.dir }

// AddWindow zips and writes the three files of one window.
func (m *Mirror) AddWindow(w Window) error {
	id := WindowID(w.Time)
	for _, f := range []struct {
		table   string
		content []byte
	}{{"export", w.Export}, {"mentions", w.Mentions}, {"gkg", w.GKG}} {
		if err := m.AddFile(id, f.table, f.content); err != nil {
			return err
		}
	}
	return nil
}

// AddFile zips content into the right name for window and table ("export", "mentions", "gkg"), with the
// window time as the entry's modification time.
func (m *Mirror) AddFile(window, table string, content []byte) error {
	if _, ok := tableSuffix[table]; !ok {
		return fmt.Errorf("gdeltgen: unknown table %q", table)
	}
	t, err := ParseWindowID(window)
	if err != nil {
		return fmt.Errorf("gdeltgen: bad window %q: %w", window, err)
	}
	name := FileName(window, table, m.translation)
	z, err := ZipFile(strings.TrimSuffix(name, ".zip"), content, t)
	if err != nil {
		return err
	}
	return m.AddZip(name, z)
}

// AddZip writes an existing zip, copied as is, under name.
func (m *Mirror) AddZip(name string, zipBytes []byte) error {
	if name != filepath.Base(name) || name == "" {
		return fmt.Errorf("gdeltgen: bad file name %q", name)
	}
	e := &mirrorEntry{name: name, order: len(Tables)}
	if w, table, _, err := ParseFileName(name); err == nil {
		e.window = w
		e.order = slices.Index(Tables, table)
	} else if len(name) >= 14 {
		e.window = name[:14]
	}
	sum := md5.Sum(zipBytes)
	e.size = int64(len(zipBytes))
	e.md5 = hex.EncodeToString(sum[:])
	if err := writeFileAtomic(filepath.Join(m.dir, name), zipBytes); err != nil {
		return err
	}
	if i := m.find(name); i >= 0 {
		m.entries[i] = e
	} else {
		m.entries = append(m.entries, e)
	}
	return m.relist()
}

func (m *Mirror) find(name string) int {
	return slices.IndexFunc(m.entries, func(e *mirrorEntry) bool { return e.name == name })
}

func (m *Mirror) entry(name string) (*mirrorEntry, error) {
	i := m.find(name)
	if i < 0 {
		return nil, fmt.Errorf("gdeltgen: %s is not in the mirror", name)
	}
	return m.entries[i], nil
}

// CorruptMD5 keeps the file and its listed size but lists a wrong md5 for it.
func (m *Mirror) CorruptMD5(name string) error {
	e, err := m.entry(name)
	if err != nil {
		return err
	}
	sum := md5.Sum([]byte("corrupt:" + e.md5))
	e.md5 = hex.EncodeToString(sum[:])
	return m.relist()
}

// Truncate cuts the file to n bytes; its list line still describes the full file.
func (m *Mirror) Truncate(name string, n int) error {
	e, err := m.entry(name)
	if err != nil {
		return err
	}
	if n < 0 || int64(n) > e.size {
		return fmt.Errorf("gdeltgen: cannot truncate %s (%d bytes) to %d", name, e.size, n)
	}
	return os.Truncate(filepath.Join(m.dir, name), int64(n))
}

// Remove deletes the file and keeps its list line (a 404 window).
func (m *Mirror) Remove(name string) error {
	if _, err := m.entry(name); err != nil {
		return err
	}
	return os.Remove(filepath.Join(m.dir, name))
}

// Close writes masterfilelist.txt (every file, by window then export/mentions/gkg) and lastupdate.txt (the
// newest window's files). Fault injections after Close rewrite the lists.
func (m *Mirror) Close() error {
	m.closed = true
	return m.relist()
}

// relist rewrites the lists once the mirror is closed.
func (m *Mirror) relist() error {
	if !m.closed {
		return nil
	}
	master, last := ListFileNames(m.translation)
	es := slices.Clone(m.entries)
	slices.SortStableFunc(es, func(a, b *mirrorEntry) int {
		if c := strings.Compare(a.window, b.window); c != 0 {
			return c
		}
		if a.order != b.order {
			return a.order - b.order
		}
		return strings.Compare(a.name, b.name)
	})
	var all, newest bytes.Buffer
	newestWindow := ""
	for _, e := range es {
		if e.window > newestWindow {
			newestWindow = e.window
		}
	}
	for _, e := range es {
		line := fmt.Sprintf("%d %s %s%s\n", e.size, e.md5, FeedURLPrefix, e.name)
		all.WriteString(line)
		if e.window == newestWindow {
			newest.WriteString(line)
		}
	}
	if err := writeFileAtomic(filepath.Join(m.dir, last), newest.Bytes()); err != nil {
		return err
	}
	// the master list last: its presence marks a complete mirror
	return writeFileAtomic(filepath.Join(m.dir, master), all.Bytes())
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WriteDayLoad writes the day-sized mirror (Day(DayLoadStart, seed), 96 windows, ~1.5 GB unzipped, ~0.5 GB
// zipped) into dir. It does nothing when dir already holds a complete mirror (its masterfilelist.txt), so
// benchmarks can cache it under a git-ignored folder.
func WriteDayLoad(dir string, seed int64) error {
	master, _ := ListFileNames(false)
	if _, err := os.Stat(filepath.Join(dir, master)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	m, err := NewMirror(dir, false)
	if err != nil {
		return err
	}
	if err := Generate(Day(DayLoadStart, seed), m.AddWindow); err != nil {
		return err
	}
	return m.Close()
}

// Unzip reads a single-entry zip (a feed file) and returns its entry name and content.
func Unzip(zipBytes []byte) (name string, content []byte, err error) {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return "", nil, err
	}
	if len(zr.File) != 1 {
		return "", nil, fmt.Errorf("gdeltgen: zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	rc, err := f.Open()
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	content, err = io.ReadAll(rc)
	return f.Name, content, err
}

// UnzipFile reads a GDELT zip file and returns the content of its one entry.
func UnzipFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, content, err := Unzip(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return content, nil
}
