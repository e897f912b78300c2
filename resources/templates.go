// Package resources holds gdeltflow's shared data and configuration, embedded
// in the binary so that no run depends on where it was started: the Benthos
// templates of resources/templates (registered by cmd/benthos), the mart's DDL
// (MartDDL, resources/mart), and the data folders in FS (the generator's
// vocabularies, resources/gdeltgen).
package resources

import (
	"embed"
	"io/fs"
	"path"
)

//go:embed templates/*.yaml
var templates embed.FS

// Templates returns the Benthos config templates (resources/templates/*.yaml),
// by file name, for service.RegisterTemplateYAML.
func Templates() (map[string]string, error) {
	names, err := fs.Glob(templates, "templates/*.yaml")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		b, err := templates.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[path.Base(n)] = string(b)
	}
	return out, nil
}
