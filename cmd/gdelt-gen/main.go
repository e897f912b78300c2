// Command gdelt-gen writes a GDELT 2.0 style mirror directory of generated windows (Events export, Mentions,
// GKG) with masterfilelist.txt and lastupdate.txt, optionally adding real GDELT files.
//
//	go run ./cmd/gdelt-gen -out /tmp/dayload -scale day
//	go run ./cmd/gdelt-gen -out resources/mirror -start 20230702154500 -windows 4 -seed 1 -scale small \
//	    -real /work/shared/testdata/gdelt
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/gdeltgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gdelt-gen:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "", "mirror directory to write (required)")
	start := flag.String("start", "", "first window, UTC YYYYMMDDHHMMSS on a 15-minute boundary (default 20230702154500 for -scale small, "+gdeltgen.WindowID(gdeltgen.DayLoadStart)+" for -scale day, as WriteDayLoad)")
	windows := flag.Int("windows", 0, "number of windows (default: 4 for -scale small, 96 for -scale day)")
	seed := flag.Int64("seed", 1, "random seed")
	scale := flag.String("scale", "small", "small (60 events, 150 mentions, 40 GKG rows of ~3 KB per window) or day (96 realistic windows, ~1.5 GB unzipped)")
	events := flag.Int("events", 0, "export rows per window (0 = scale default)")
	mentions := flag.Int("mentions", 0, "mentions rows per window (0 = scale default)")
	gkg := flag.Int("gkg", 0, "GKG rows per window (0 = scale default)")
	rowBytes := flag.Int("gkg-row-bytes", -1, "target mean GKG row size in bytes (-1 = scale default, 0 = realistic ~12 KB)")
	translation := flag.Bool("translation", false, "translingual stream: *.translation.* names, -translation lists, -T GKG record ids")
	real := flag.String("real", "", "directory with real GDELT files to add: *.zip copied as is, unzipped *.CSV/*.csv zipped")
	repeat := flag.Int("export-repeat", 0, "replace each window's export file with its first row repeated this many times (a huge file of one event: 1600000 makes ~500 MB, a ~2 MB zip)")
	reexports := flag.Int("reexports", 0, "re-exports appended to each window's export file after the first (earlier windows' rows again, as gdeltgen.Config.Reexports)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gdelt-gen -out DIR [flags]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		return fmt.Errorf("-out is required")
	}
	if *start == "" {
		*start = "20230702154500"
		if *scale == "day" {
			*start = gdeltgen.WindowID(gdeltgen.DayLoadStart)
		}
	}
	st, err := gdeltgen.ParseWindowID(*start)
	if err != nil {
		return fmt.Errorf("bad -start: %w", err)
	}
	var cfg gdeltgen.Config
	switch *scale {
	case "small":
		cfg = gdeltgen.Small(st, 4, *seed)
	case "day":
		cfg = gdeltgen.Day(st, *seed)
	default:
		return fmt.Errorf("bad -scale %q (small or day)", *scale)
	}
	if *windows > 0 {
		cfg.Windows = *windows
	}
	if *events > 0 {
		cfg.Events = *events
	}
	if *mentions > 0 {
		cfg.Mentions = *mentions
	}
	if *gkg > 0 {
		cfg.GKG = *gkg
	}
	if *rowBytes >= 0 {
		cfg.GKGRowBytes = *rowBytes
	}
	cfg.Translation = *translation
	cfg.Reexports = *reexports

	m, err := gdeltgen.NewMirror(*out, cfg.Translation)
	if err != nil {
		return err
	}
	t0 := time.Now()
	var tot totals
	if *real != "" {
		if err := addReal(m, *real, cfg.Translation, &tot); err != nil {
			return err
		}
	}
	err = gdeltgen.Generate(cfg, func(w gdeltgen.Window) error {
		if *repeat > 0 {
			first := w.Export[:bytes.IndexByte(w.Export, '\n')+1]
			w.Export = bytes.Repeat(first, *repeat)
		}
		if err := m.AddWindow(w); err != nil {
			return err
		}
		id := gdeltgen.WindowID(w.Time)
		var line strings.Builder
		fmt.Fprintf(&line, "%s", id)
		for i, c := range [][]byte{w.Export, w.Mentions, w.GKG} {
			table := gdeltgen.Tables[i]
			rows := bytes.Count(c, []byte{'\n'})
			zs := zipSize(*out, gdeltgen.FileName(id, table, cfg.Translation))
			tot.add(i, rows, len(c), zs, true)
			fmt.Fprintf(&line, "  %s %5d rows %8.3f MB (zip %7.3f MB)", table, rows, mb(len(c)), mb(int(zs)))
		}
		fmt.Println(line.String())
		return nil
	})
	if err != nil {
		return err
	}
	if err := m.Close(); err != nil {
		return err
	}
	tot.print(time.Since(t0))
	return nil
}

func mb(n int) float64 { return float64(n) / 1e6 }

func zipSize(dir, name string) int64 {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return 0
	}
	return fi.Size()
}

type totals struct {
	rows, bytes, zips            [3]int64
	genRows, genBytes, genZipped [3]int64
	realFiles                    []string
}

func (t *totals) add(table, rows, n int, z int64, generated bool) {
	t.rows[table] += int64(rows)
	t.bytes[table] += int64(n)
	t.zips[table] += z
	if generated {
		t.genRows[table] += int64(rows)
		t.genBytes[table] += int64(n)
		t.genZipped[table] += z
	}
}

func (t *totals) print(d time.Duration) {
	for _, f := range t.realFiles {
		fmt.Println("real:", f)
	}
	var ub, zb int64
	for i, table := range gdeltgen.Tables {
		fmt.Printf("total %-8s %9d rows %10.3f MB unzipped %9.3f MB zipped (generated: %d rows)\n",
			table, t.rows[i], mb(int(t.bytes[i])), mb(int(t.zips[i])), t.genRows[i])
		ub += t.bytes[i]
		zb += t.zips[i]
	}
	fmt.Printf("total all      %10.3f MB unzipped %9.3f MB zipped in %s\n", mb(int(ub)), mb(int(zb)), d.Round(10*time.Millisecond))
}

// addReal adds the real GDELT files found in dir: zips as they are, unzipped export/mentions/gkg files zipped
// with the mirror's fixed timestamp. Other files are ignored.
func addReal(m *gdeltgen.Mirror, dir string, translation bool, tot *totals) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		zipName := name
		if !strings.HasSuffix(name, ".zip") {
			zipName = name + ".zip"
		}
		window, table, tr, err := gdeltgen.ParseFileName(zipName)
		if err != nil || tr != translation {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ti := indexOf(table)
		if zipName == name {
			if err := m.AddZip(name, data); err != nil {
				return err
			}
			_, content, err := gdeltgen.Unzip(data)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			tot.add(ti, bytes.Count(content, []byte{'\n'}), len(content), int64(len(data)), false)
			tot.realFiles = append(tot.realFiles, fmt.Sprintf("%s copied (%d rows)", name, bytes.Count(content, []byte{'\n'})))
		} else {
			if err := m.AddFile(window, table, data); err != nil {
				return err
			}
			tot.add(ti, bytes.Count(data, []byte{'\n'}), len(data), zipSize(m.Dir(), zipName), false)
			tot.realFiles = append(tot.realFiles, fmt.Sprintf("%s zipped into %s (%d rows)", name, zipName, bytes.Count(data, []byte{'\n'})))
		}
	}
	return nil
}

func indexOf(table string) int {
	for i, t := range gdeltgen.Tables {
		if t == table {
			return i
		}
	}
	return 0
}
