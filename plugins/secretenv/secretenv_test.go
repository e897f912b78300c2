package secretenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fileEnv(t *testing.T, vars map[string]string) *Env {
	t.Helper()
	return &Env{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		ReadFile:  os.ReadFile,
	}
}

func writeSecret(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	crlf := writeSecret(t, "s3cr3t\r\n")
	lf := writeSecret(t, "line one\nline two\n\n")
	bare := writeSecret(t, "  spaced  ")
	e := fileEnv(t, map[string]string{
		"PLAIN":       "value",
		"FROM_FILE":   "x", // a variable whose own name ends in _FILE is read as itself
		"CRLF_FILE":   crlf,
		"LF_FILE":     lf,
		"BARE_FILE":   bare,
		"EMPTYVAL":    "",
		"UNSET_OTHER": "y",
	})
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{"PLAIN", "value", true},
		{"FROM_FILE", "x", true},
		{"CRLF", "s3cr3t", true},
		{"LF", "line one\nline two\n", true}, // one newline dropped, no more
		{"BARE", "  spaced  ", true},
		{"EMPTYVAL", "", true},
		{"MISSING", "", false},
	} {
		got, ok := e.Lookup(c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if err := e.Errors(); err != nil {
		t.Fatalf("Errors() = %v, want nil", err)
	}
}

func TestLookupRefusesAmbiguityAndUnreadableFiles(t *testing.T) {
	secret := writeSecret(t, "v")
	e := fileEnv(t, map[string]string{
		"BOTH": "inline", "BOTH_FILE": secret,
		"GONE_FILE":  filepath.Join(t.TempDir(), "absent"),
		"BLANK_FILE": "",
	})
	for _, k := range []string{"BOTH", "GONE", "BLANK"} {
		if v, ok := e.Lookup(k); ok || v != "" {
			t.Errorf("Lookup(%s) = %q, %v; want nothing", k, v, ok)
		}
	}
	err := e.Errors()
	if err == nil {
		t.Fatal("Errors() = nil, want three errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"both BOTH and BOTH_FILE are set",
		"GONE_FILE: reading the secret file",
		"BLANK_FILE is empty",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Errors() = %q, want it to mention %q", msg, want)
		}
	}
	// Errors come in variable order, one line each.
	if lines := strings.Split(msg, "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "BLANK_FILE") {
		t.Errorf("Errors() lines = %q", lines)
	}
}
