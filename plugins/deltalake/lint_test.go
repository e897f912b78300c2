package deltalake

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// TestDeltaLakeLintRules: the rules across fields are lint errors (what
// `benthos lint` reports, line and all), and the same configs fail at run
// time with the same words when linting is skipped.
func TestDeltaLakeLintRules(t *testing.T) {
	cases := []struct {
		name, conf, want string // want "": no lint error
	}{
		{"a GDELT table", "gdelt_table: export\nprogress: gdelt_feed", ""},
		{"a declared schema", "schema: [ { name: id, type: long } ]\nprogress: none", ""},
		{"both", "gdelt_table: export\nschema: [ { name: id, type: long } ]", "set one of gdelt_table and schema, not both"},
		{"neither", "progress: none", "set gdelt_table or schema"},
		{"an unknown table", "gdelt_table: evnts", `gdelt_table "evnts" is unknown: want one of export, events, mentions, gkg, silver, audit_windows`},
		{"custom without version", "gdelt_table: export\nprogress: custom\napp_id: a", "progress: custom needs app_id and version"},
		{"custom with both", "gdelt_table: export\nprogress: custom\napp_id: '${! @a }'\nversion: '${! @v }'", ""},
		{"app_id without custom", "gdelt_table: export\nprogress: kafka\napp_id: a\nversion: '1'", "app_id and version are only for progress: custom"},
		{"version with the default progress", "gdelt_table: export\nversion: '1'", "app_id and version are only for progress: custom"},
		{"a partition column with a value", "gdelt_table: export\npartition_by: [ { column: window_date, type: date, value: '2024-01-01' } ]", ""},
		{"a partition column of the schema", "schema: [ { name: id, type: long }, { name: day, type: date } ]\npartition_by: [ { column: day } ]", ""},
		{"its value's type", "schema: [ { name: id, type: long }, { name: day, type: date } ]\npartition_by: [ { column: day, type: date, value: '2024-01-01' } ]", ""},
		{"a value of another type", "schema: [ { name: id, type: long }, { name: day, type: date } ]\npartition_by: [ { column: day, value: '2024-01-01' } ]",
			`partition column "day": its value's type is string, the schema says date`},
		{"a double partition column", "schema: [ { name: id, type: long }, { name: score, type: double } ]\npartition_by: [ { column: score } ]",
			`partition column "score" has type double: a partition column has one of the types string, long, integer, short, byte, date, timestamp, boolean`},
		{"an array partition column", "schema: [ { name: id, type: long }, { name: tags, type: array, element: string } ]\npartition_by: [ { column: tags } ]",
			`partition column "tags" has type array`},
		{"a column outside the schema without a value", "schema: [ { name: id, type: long } ]\npartition_by: [ { column: day } ]",
			`partition column "day" is not in the schema: give it a value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := "path: /tmp/lint-only\n" + c.conf
			output := "output:\n  delta_lake:\n    " + strings.ReplaceAll(conf, "\n", "\n    ") + "\n"
			sb := service.NewStreamBuilder()
			err := sb.SetYAML("input:\n  generate: { count: 1, mapping: 'root = {}' }\n" + output)
			var lints service.LintError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("lint: %v", err)
			case c.want != "" && !errors.As(err, &lints):
				t.Fatalf("lint: %v, want a lint error %q", err, c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("lint: %v, want %q", err, c.want)
			case c.want != "" && (len(lints) != 1 || lints[0].Line < 3):
				t.Errorf("lint: %d errors, the first at line %d: want one, on the output's lines", len(lints), lints[0].Line)
			}
			// The run-time check, without the linter.
			pc, err := deltaLakeSpec().ParseYAML(conf, nil)
			if err == nil {
				_, err = deltaLakeConfFromParsed(pc)
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("run time: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), firstWords(c.want))):
				t.Errorf("run time: %v, want %q", err, c.want)
			}
		})
	}
}

// firstWords is the start of a lint message that the run-time error repeats
// (the run-time one may name more: the table names of the catalogue).
func firstWords(s string) string {
	if i := strings.Index(s, ":"); i > 0 {
		return s[:i]
	}
	return fmt.Sprint(s)
}
