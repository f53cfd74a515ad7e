package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
)

// TestAttackIdleConnections: a client that opens connections and sends nothing can hold at
// most --max-conns-per-client of them, each only until the server's timeouts close it;
// clients at other addresses are served meanwhile.
func TestAttackIdleConnections(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, "--max-conns-per-client", "50", "--idle-timeout", "2s", "--read-timeout", "2s")
	key := tg.key("victim", auth.Test)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 80 {
		c, err := net.Dial("tcp", tg.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// A request on a connection past the cap is answered 429 and the connection closed.
	last := conns[len(conns)-1]
	_ = last.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(last, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(last), nil)
	if err != nil {
		t.Fatalf("connection past the cap: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 429 || !strings.Contains(string(body), `"concurrency_limited"`) {
		t.Fatalf("connection past the cap: %d %s", res.StatusCode, body)
	}
	// Another address is served while these are held.
	if r := tg.send(client("127.0.0.2"), "GET", "/v1/contacts", key, ""); r.Status != 200 {
		t.Fatalf("another client: %d %s", r.Status, r.Body)
	}
	// The server closes every idle connection within its timeouts.
	deadline := time.Now().Add(15 * time.Second)
	var wg sync.WaitGroup
	open := make(chan int, len(conns))
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err != nil { // EOF (nil) when the server closed it
				open <- 1
			}
		})
	}
	wg.Wait()
	close(open)
	if n := len(open); n > 0 {
		t.Fatalf("%d idle connections still open after 15 s", n)
	}
	// And with them gone, the address may connect again.
	if r := tg.send(client(""), "GET", "/v1/contacts", key, ""); r.Status != 200 {
		t.Fatalf("after the idle connections closed: %d %s", r.Status, r.Body)
	}
}

// TestAttackSlowBody: a request body that trickles in is cut off by the read timeout and
// writes nothing.
func TestAttackSlowBody(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, "--read-timeout", "2s")
	key := tg.key("acme", auth.Test)
	c, err := net.Dial("tcp", tg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = io.WriteString(c, "POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+key+
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"email\":\"slow@example.com\"")
	stop := time.After(20 * time.Second)
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, c); close(closed) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-closed:
			done = true
		case <-tick.C:
			_, _ = io.WriteString(c, " ") // one byte at a time, never finishing
		case <-stop:
			t.Fatal("a trickling body held its connection for 20 s")
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the slow body was cut off only after %v", took)
	}
	if r := tg.send(client(""), "GET", "/v1/contacts", key, ""); !strings.Contains(string(r.Body), `"data":[]`) {
		t.Fatalf("the cut-off request wrote: %s", r.Body)
	}
}
