// Package secretenv reads a setting from the environment or from a file the
// environment names: wherever a process reads the variable KEY, KEY_FILE may
// name a file that holds the value instead. That is how Docker Swarm hands a
// service its secrets (files under /run/secrets, never values in the service
// spec or its environment), and the convention the official images of
// PostgreSQL, MinIO and Grafana follow.
//
// Benthos interpolates `${KEY}` and `${KEY:default}` in a config through one
// lookup function (service.CLIOptSetEnvVarLookup, documented as the place for
// "custom secret mechanisms"); cmd/benthos passes Lookup there, so a pipeline
// reads `${S3_SECRET_ACCESS_KEY:}` unchanged and gets the secret file's
// content when only S3_SECRET_ACCESS_KEY_FILE is set. Nothing is exported to
// the process environment, so the value does not reach child processes or
// /proc/<pid>/environ.
//
// Rules: KEY set wins over nothing, KEY_FILE is read when KEY is unset; both
// set is an error (which one was meant?); one trailing newline ("\n" or
// "\r\n", as `echo` or an editor leaves) is dropped, nothing else. A file that
// cannot be read is an error, never an empty value. Lookup cannot return an
// error (Benthos' lookup signature), so it records them: Errors gives them to
// the caller, which refuses to start (cmd/benthos does so once its config is
// parsed).
package secretenv

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// Suffix is appended to a variable's name to name its file.
const Suffix = "_FILE"

// Env is where the variables come from; os.LookupEnv and os.ReadFile unless a
// test says otherwise.
type Env struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)

	mu   sync.Mutex
	errs map[string]error
}

// Default reads the process environment and the filesystem.
var Default = &Env{LookupEnv: os.LookupEnv, ReadFile: os.ReadFile}

// Lookup is Default.Lookup.
func Lookup(key string) (string, bool) { return Default.Lookup(key) }

// Errors is Default.Errors.
func Errors() error { return Default.Errors() }

// Lookup returns the value of key: the variable itself, else the content of
// the file key_FILE names. It reports false when neither is set or the file
// cannot be read (recorded, see Errors).
func (e *Env) Lookup(key string) (string, bool) {
	v, ok := e.LookupEnv(key)
	path, fromFile := "", false
	if !strings.HasSuffix(key, Suffix) {
		path, fromFile = e.LookupEnv(key + Suffix)
	}
	switch {
	case ok && fromFile:
		e.record(key, fmt.Errorf("both %s and %s%s are set; unset one", key, key, Suffix))
		return "", false
	case ok:
		return v, true
	case !fromFile:
		return "", false
	}
	if path == "" {
		e.record(key, fmt.Errorf("%s%s is empty; name the file that holds %s", key, Suffix, key))
		return "", false
	}
	b, err := e.ReadFile(path)
	if err != nil {
		e.record(key, fmt.Errorf("%s%s: reading the secret file: %w", key, Suffix, err))
		return "", false
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, true
}

func (e *Env) record(key string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.errs == nil {
		e.errs = map[string]error{}
	}
	e.errs[key] = err
}

// Errors returns the problems Lookup met so far (a file that could not be
// read, both forms set), one per variable in name order, or nil.
func (e *Env) Errors() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	keys := make([]string, 0, len(e.errs))
	for k := range e.errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	errs := make([]error, 0, len(keys))
	for _, k := range keys {
		errs = append(errs, e.errs[k])
	}
	return errors.Join(errs...)
}
