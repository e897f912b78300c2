package gdeltgen

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFileNames(t *testing.T) {
	cases := []struct {
		table       string
		translation bool
		want        string
	}{
		{"export", false, "20230702153000.export.CSV.zip"},
		{"mentions", false, "20230702153000.mentions.CSV.zip"},
		{"gkg", false, "20230702153000.gkg.csv.zip"},
		{"export", true, "20230702153000.translation.export.CSV.zip"},
		{"mentions", true, "20230702153000.translation.mentions.CSV.zip"},
		{"gkg", true, "20230702153000.translation.gkg.csv.zip"},
	}
	for _, c := range cases {
		if got := FileName("20230702153000", c.table, c.translation); got != c.want {
			t.Errorf("FileName(%s, %v) = %s, want %s", c.table, c.translation, got, c.want)
		}
		w, table, tr, err := ParseFileName(c.want)
		if err != nil || w != "20230702153000" || table != c.table || tr != c.translation {
			t.Errorf("ParseFileName(%s) = %s %s %v %v", c.want, w, table, tr, err)
		}
	}
	if m, l := ListFileNames(false); m != "masterfilelist.txt" || l != "lastupdate.txt" {
		t.Errorf("ListFileNames(false) = %s %s", m, l)
	}
	if m, l := ListFileNames(true); m != "masterfilelist-translation.txt" || l != "lastupdate-translation.txt" {
		t.Errorf("ListFileNames(true) = %s %s", m, l)
	}
}

type listLine struct {
	size int64
	md5  string
	name string
}

func readList(t *testing.T, path string) []listLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' || bytes.IndexByte(data, '\r') >= 0 {
		t.Fatalf("%s: bad line ends", path)
	}
	var out []listLine
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Split(l, " ")
		if len(f) != 3 || len(f[1]) != 32 || !strings.HasPrefix(f[2], FeedURLPrefix) {
			t.Fatalf("%s: bad line %q", path, l)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("%s: bad size in %q", path, l)
		}
		out = append(out, listLine{n, f[1], strings.TrimPrefix(f[2], FeedURLPrefix)})
	}
	return out
}

func md5File(t *testing.T, path string) (int64, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := md5.Sum(data)
	return int64(len(data)), hex.EncodeToString(s[:])
}

func writeTestMirror(t *testing.T, dir string, translation bool) []Window {
	t.Helper()
	m, err := NewMirror(dir, translation)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Small(testStart, 3, 5)
	cfg.Translation = translation
	ws := collect(t, cfg)
	// an older "real" window added as content and as a ready zip
	old := testStart.Add(-time.Hour)
	if err := m.AddFile(WindowID(old), "export", ws[0].Export); err != nil {
		t.Fatal(err)
	}
	z, err := ZipFile(strings.TrimSuffix(FileName(WindowID(old), "gkg", translation), ".zip"), ws[0].GKG, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddZip(FileName(WindowID(old), "gkg", translation), z); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if err := m.AddWindow(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestMirror(t *testing.T) {
	for _, translation := range []bool{false, true} {
		dir := t.TempDir()
		ws := writeTestMirror(t, dir, translation)
		masterName, lastName := ListFileNames(translation)
		master := readList(t, filepath.Join(dir, masterName))
		last := readList(t, filepath.Join(dir, lastName))

		var want []string
		old := WindowID(testStart.Add(-time.Hour))
		want = append(want, FileName(old, "export", translation), FileName(old, "gkg", translation))
		for _, w := range ws {
			for _, table := range Tables {
				want = append(want, FileName(WindowID(w.Time), table, translation))
			}
		}
		var got []string
		for _, l := range master {
			got = append(got, l.name)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("master list names\n%q\nwant\n%q", got, want)
		}
		if len(last) != 3 || !slices.Equal(last, master[len(master)-3:]) {
			t.Fatalf("last update %v, want the newest window's lines", last)
		}
		contents := map[string][]byte{}
		for _, w := range ws {
			id := WindowID(w.Time)
			contents[FileName(id, "export", translation)] = w.Export
			contents[FileName(id, "mentions", translation)] = w.Mentions
			contents[FileName(id, "gkg", translation)] = w.GKG
		}
		for _, l := range master {
			path := filepath.Join(dir, l.name)
			size, sum := md5File(t, path)
			if size != l.size || sum != l.md5 {
				t.Fatalf("%s: file %d %s, list %d %s", l.name, size, sum, l.size, l.md5)
			}
			zr, err := zip.OpenReader(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != 1 || zr.File[0].Name != strings.TrimSuffix(l.name, ".zip") {
				t.Fatalf("%s: zip entries %d, first %q", l.name, len(zr.File), zr.File[0].Name)
			}
			w, _, _, _ := ParseFileName(l.name)
			wt, _ := ParseWindowID(w)
			if !zr.File[0].Modified.Equal(wt) {
				t.Fatalf("%s: entry modified %v, want the window time", l.name, zr.File[0].Modified)
			}
			rc, _ := zr.File[0].Open()
			data, err := io.ReadAll(rc)
			rc.Close()
			zr.Close()
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := contents[l.name]; ok && !bytes.Equal(c, data) {
				t.Fatalf("%s: unzipped content differs from the generated window", l.name)
			}
		}
	}
}

func TestMirrorDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeTestMirror(t, a, false)
	writeTestMirror(t, b, false)
	ents, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2+2+9 {
		t.Fatalf("%d files in the mirror", len(ents))
	}
	for _, e := range ents {
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two mirrors written with the same seed", e.Name())
		}
	}
}

func TestMirrorFaults(t *testing.T) {
	dir := t.TempDir()
	ws := writeTestMirror(t, dir, false)
	id := WindowID(ws[1].Time)
	bad, short, gone := FileName(id, "export", false), FileName(id, "mentions", false), FileName(id, "gkg", false)
	before := readList(t, filepath.Join(dir, "masterfilelist.txt"))
	m, err := NewMirror(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	// a fresh Mirror does not know the files: faults need the writer that added them
	if err := m.Remove(gone); err == nil {
		t.Fatal("Remove of an unknown file accepted")
	}

	dir = t.TempDir()
	m, _ = NewMirror(dir, false)
	for _, w := range ws {
		if err := m.AddWindow(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.CorruptMD5(bad); err != nil {
		t.Fatal(err)
	}
	if err := m.Truncate(short, 100); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(gone); err != nil { // after Close, too
		t.Fatal(err)
	}
	after := readList(t, filepath.Join(dir, "masterfilelist.txt"))
	if len(after) != 9 {
		t.Fatalf("%d list lines", len(after))
	}
	for _, l := range after {
		var good listLine
		for _, b := range before {
			if b.name == l.name {
				good = b
			}
		}
		path := filepath.Join(dir, l.name)
		switch l.name {
		case bad:
			size, sum := md5File(t, path)
			if l.size != size || l.md5 == sum || l.md5 == good.md5 {
				t.Fatalf("CorruptMD5: list %d %s, file %d %s", l.size, l.md5, size, sum)
			}
		case short:
			size, _ := md5File(t, path)
			if size != 100 || l != good {
				t.Fatalf("Truncate: file %d bytes, list %v want %v", size, l, good)
			}
		case gone:
			if _, err := os.Stat(path); !os.IsNotExist(err) || l != good {
				t.Fatalf("Remove: stat %v, list %v want %v", err, l, good)
			}
		default:
			if l != good {
				t.Fatalf("%s: list %v, want %v", l.name, l, good)
			}
		}
	}
}

func TestWriteDayLoadSkipsComplete(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "masterfilelist.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDayLoad(dir, 1); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("WriteDayLoad wrote into a complete mirror: %d files", len(ents))
	}
}
