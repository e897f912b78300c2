package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			w.Write([]byte("OK"))
		case "/slow":
			time.Sleep(time.Second)
		default:
			http.Error(w, "input not connected", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/ready"
	l.Close()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{srv.URL + "/ready"}, 0, ""},
		{[]string{srv.URL + "/notready"}, 1, "503 Service Unavailable"},
		{[]string{"-timeout", "100ms", srv.URL + "/slow"}, 1, "deadline exceeded"},
		{[]string{closed}, 1, "refused"},
		{[]string{}, 2, "Usage"},
	} {
		var stderr bytes.Buffer
		if code := run(c.args, &stderr); code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("%v: exit %d %q; want %d with %q", c.args, code, stderr.String(), c.code, c.msg)
		}
	}
}
