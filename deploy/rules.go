package deploy

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Rule is one recording or alert rule of deploy/prometheus/rules.
type Rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	File        string            `yaml:"-"`
	Group       string            `yaml:"-"`
}

// LoadRules reads every deploy/prometheus/rules/*.yml.
func LoadRules(root string) ([]Rule, error) {
	files, err := filepath.Glob(filepath.Join(Dir(root), "prometheus", "rules", "*.yml"))
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []Rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				r.File, r.Group = filepath.Base(f), g.Name
				out = append(out, r)
			}
		}
	}
	return out, nil
}
