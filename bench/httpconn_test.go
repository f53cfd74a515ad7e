package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHTTPConns: answers by Content-Length and chunked (with trailers) are read whole, a
// body is kept only when asked or when the status is not the
// one wanted, and a keep-alive connection carries every request until the server closes it.
func TestHTTPConns(t *testing.T) {
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			fmt.Fprint(w, "hello")
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			for i := range 3 {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "3")
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		case "/echo":
			body := new(strings.Builder)
			_, _ = fmt.Fprint(body, r.Method, " ", r.Header.Get("Authorization"), " ", r.ContentLength)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, body)
		default:
			http.Error(w, "no such page", http.StatusNotFound)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	h := newHTTPConns(strings.TrimPrefix(srv.URL, "http://"))
	defer h.close()
	ctx := t.Context()
	for _, c := range []struct {
		path string
		keep bool
		want string
	}{{"/length", true, "hello"}, {"/length", false, ""}, {"/chunked", true, "part0;part1;part2;"}, {"/chunked", false, ""}} {
		a, err := h.do(ctx, "GET", c.path, "", nil, 200, c.keep)
		if err != nil || a.status != 200 || string(a.body) != c.want {
			t.Errorf("GET %s (keep %v): %d %q %v, want %q", c.path, c.keep, a.status, a.body, err, c.want)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("%d connections for four keep-alive requests in turn", n)
	}
	a, err := h.do(ctx, "GET", "/missing", "", nil, 200, false)
	if err != nil || a.status != 404 || !strings.Contains(string(a.body), "no such page") {
		t.Errorf("an unwanted status keeps its body: %d %q %v", a.status, a.body, err)
	}
	a, err = h.do(ctx, "POST", "/echo", "Authorization: Bearer k\r\n", []byte(`{"a":1}`), 201, true)
	if err != nil || string(a.body) != "POST Bearer k 7" {
		t.Errorf("POST: %d %q %v", a.status, a.body, err)
	}
	before := opened.Load()
	for range 2 {
		if a, err := h.do(ctx, "GET", "/close", "", nil, 200, true); err != nil || string(a.body) != "bye" {
			t.Errorf("Connection: close: %q %v", a.body, err)
		}
	}
	if n := opened.Load() - before; n != 1 {
		t.Errorf("%d new connections for two requests the server closed after, want 1 (the second dials again)", n)
	}
}
