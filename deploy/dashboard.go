package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// Dashboard is the part of Grafana's dashboard JSON (schemaVersion 39) the
// dashboards use. Decoding refuses unknown fields, so a misspelt key fails.
type Dashboard struct {
	UID           string          `json:"uid"`
	Title         string          `json:"title"`
	Description   string          `json:"description"`
	Tags          []string        `json:"tags"`
	SchemaVersion int             `json:"schemaVersion"`
	Version       int             `json:"version"`
	Editable      bool            `json:"editable"`
	Time          TimeRange       `json:"time"`
	Refresh       string          `json:"refresh"`
	Timezone      string          `json:"timezone"`
	Panels        []Panel         `json:"panels"`
	Templating    json.RawMessage `json:"templating"`
	Annotations   json.RawMessage `json:"annotations"`
}

// TimeRange is a dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Panel is one panel with its queries.
type Panel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  DatasourceRef   `json:"datasource"`
	Targets     []Target        `json:"targets"`
	GridPos     GridPos         `json:"gridPos"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	Options     json.RawMessage `json:"options"`
}

// DatasourceRef names a provisioned datasource by uid.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one query: Expr (PromQL) for Prometheus, RawSQL for the mart.
type Target struct {
	RefID        string        `json:"refId"`
	Datasource   DatasourceRef `json:"datasource"`
	Expr         string        `json:"expr,omitempty"`
	LegendFormat string        `json:"legendFormat,omitempty"`
	RawSQL       string        `json:"rawSql,omitempty"`
	Format       string        `json:"format,omitempty"`
	RawQuery     bool          `json:"rawQuery,omitempty"`
	EditorMode   string        `json:"editorMode,omitempty"`
}

// Datasource types the dashboards use.
const (
	TypePrometheus = "prometheus"
	TypePostgres   = "grafana-postgresql-datasource"
)

// Dir is deploy/ from the repository root.
func Dir(root string) string { return filepath.Join(root, "deploy") }

// LoadDashboards reads every deploy/grafana/dashboards/*.json, by file name.
func LoadDashboards(root string) (map[string]*Dashboard, error) {
	files, err := filepath.Glob(filepath.Join(Dir(root), "grafana", "dashboards", "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]*Dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var d Dashboard
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		out[filepath.Base(f)] = &d
	}
	return out, nil
}

// Query is one dashboard target with where it comes from.
type Query struct {
	Dashboard, Panel, RefID string
	Datasource              DatasourceRef
	Expr, SQL               string
}

// Queries lists every target of every dashboard, sorted by dashboard then panel order.
func Queries(ds map[string]*Dashboard) []Query {
	names := make([]string, 0, len(ds))
	for n := range ds {
		names = append(names, n)
	}
	sort.Strings(names)
	var qs []Query
	for _, n := range names {
		for _, p := range ds[n].Panels {
			for _, t := range p.Targets {
				qs = append(qs, Query{Dashboard: n, Panel: p.Title, RefID: t.RefID, Datasource: t.Datasource, Expr: t.Expr, SQL: t.RawSQL})
			}
		}
	}
	return qs
}

// ProvisionedDatasources reads deploy/grafana/provisioning/datasources/*.yml: uid -> type.
func ProvisionedDatasources(root string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(Dir(root), "grafana", "provisioning", "datasources", "*.yml"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				Name, UID, Type, URL string
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		for _, d := range doc.Datasources {
			out[d.UID] = d.Type
		}
	}
	return out, nil
}
