package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/secretenv"
)

// The embedded default (pipelines/local.yaml) writes its checkpoints and
// rejects under GDELT_OUT and its tables under GDELT_LAKE, which defaults to
// GDELT_OUT: a YAML default cannot name another variable, so the binary sets
// it (one setting moves everything; GDELT_LAKE=s3://… moves only the tables).
const (
	outEnv  = "GDELT_OUT"
	lakeEnv = "GDELT_LAKE"
)

// preflight refuses, before the stream starts, settings that would make a run
// write where nobody meant it to. Only runs are checked, not lint or test.
func preflight(args []string) error {
	if !isRun(args) {
		return nil
	}
	if err := silverSlot(os.LookupEnv, os.Setenv); err != nil {
		return err
	}
	for _, name := range []string{outEnv, lakeEnv} {
		if v, ok := os.LookupEnv(name); ok {
			if err := checkOutDir(v); err != nil {
				return fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	}
	if _, ok := os.LookupEnv(lakeEnv); !ok {
		if v, ok := os.LookupEnv(outEnv); ok {
			os.Setenv(lakeEnv, v)
		}
	}
	return nil
}

// isRun tells a run (`benthos -c x.yaml`, `run`, `streams`) from the other
// subcommands (lint, test, list, create, echo, blobl, …).
func isRun(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "run", "streams":
			return true
		case "lint", "test", "list", "create", "echo", "blobl", "template", "help", "studio", "mcp-server", "agent":
			return false
		}
	}
	return true
}

// checkOutDir accepts a folder that exists and is writable, or that can be
// created; it refuses a blank value and the filesystem root.
func checkOutDir(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("the output folder is blank; unset it (./out) or name a folder")
	}
	if strings.TrimSpace(v) != v {
		return errors.New("the output folder has leading or trailing spaces; remove them")
	}
	if strings.Contains(v, "://") {
		return nil // a URL: the tables' storage checks it when it connects
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return err
	}
	if filepath.Dir(abs) == abs {
		return errors.New("the output folder is the filesystem root; name a folder for the tables, e.g. ./out")
	}
	// The nearest existing ancestor must be a writable folder.
	p := abs
	for {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a folder", p)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("no folder of %s exists", abs)
		}
		p = parent
	}
	f, err := os.CreateTemp(p, ".gdeltflow-write-check-")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w; choose a writable folder", p, errors.Unwrap(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// onConfigParse runs once the config is read and its variables interpolated:
// a secret file that could not be read (or a variable set both ways) refuses
// the start rather than running with an empty credential.
func onConfigParse(pConf *service.ParsedConfig) error {
	if err := secretenv.Errors(); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	return checkHTTPAddress(pConf)
}

// checkHTTPAddress refuses to start when the HTTP server (metrics, /ready)
// cannot bind: the engine would log the error and run on without metrics,
// and a second replica on the same host would go unwatched.
//
// The engine starts its server in a goroutine before this hook runs, so the
// check must not bind the address itself: under load the engine may already
// hold it (binding again would refuse a healthy start) or may not yet (the
// engine's own bind would then fail). It waits instead, up to httpBindWait,
// for a listening socket of this process on the port (ownListener); where
// that cannot be told (not Linux or macOS), it does not check.
func checkHTTPAddress(pConf *service.ParsedConfig) error {
	if !pConf.Contains("http") {
		return nil
	}
	enabled, err := pConf.FieldBool("http", "enabled")
	if err != nil || !enabled {
		return nil
	}
	addr, err := pConf.FieldString("http", "address")
	if err != nil || addr == "" {
		return nil
	}
	_, portS, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(portS)
	if err != nil || perr != nil || port == 0 {
		return nil // the engine reports a malformed address; port 0 is any port
	}
	for deadline := time.Now().Add(httpBindWait); ; time.Sleep(10 * time.Millisecond) {
		ours, known := ownListener(port)
		if ours || !known {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
	}
	// The engine has given up on the address by now: binding it here tells why.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.address %s: %w; another process (a second replica?) holds it: give this one its own HTTP_ADDRESS", addr, errors.Unwrap(err))
	}
	l.Close()
	return fmt.Errorf("http.address %s: the HTTP server is not listening after %s", addr, httpBindWait)
}

// httpBindWait bounds the wait for the engine's HTTP server to bind.
const httpBindWait = 5 * time.Second
