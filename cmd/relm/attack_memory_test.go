package main

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
)

// TestAttackSlowReaders: clients that ask for the largest lists they can and never read
// the answers leave the server's memory bounded and other tenants served promptly, and the
// memory is returned once they go.
func TestAttackSlowReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 15 MB of contacts")
	}
	tg := startTarget(t, "--write-timeout", "30s")
	attacker, victim := tg.key("mallory", auth.Test), tg.key("victim", auth.Live)
	c := client("")
	// 200 contacts of about 75 kB each: a full page of them is 15 MB of JSON.
	blob := strings.Repeat("x", 60_000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				body := fmt.Sprintf(`{"email":"m%d-%d@example.com","first_name":"%s","metadata":{"notes":"%s"}}`, w, i, blob[:200], blob)
				if r := tg.send(c, "POST", "/v1/contacts", attacker, body); r.Status != 201 {
					t.Errorf("seed: %d %s", r.Status, r.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	probe := tg.send(c, "POST", "/v1/contacts", victim, `{"email":"v@example.com"}`)
	victimID := strings.Split(strings.Split(string(probe.Body), `"id":"`)[1], `"`)[0]
	page := tg.send(c, "GET", "/v1/contacts?limit=200", attacker, "")
	t.Logf("a limit=200 page is %d bytes with %d contacts", len(page.Body), strings.Count(string(page.Body), `"object":"contact"`))
	for range 3 { // warm up
		tg.send(c, "GET", "/v1/contacts?limit=200", attacker, "")
	}
	base := tg.rssMiB()

	// 40 connections ask for the page and never read; small receive buffers keep the
	// kernel from taking the responses off the server's hands.
	var conns []net.Conn
	for range 40 {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		conn, err := d.Dial("tcp", tg.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		fmt.Fprintf(conn, "GET /v1/contacts?limit=200 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", attacker)
	}
	peak := base
	var lat []time.Duration
	victimClient := client("127.0.0.2")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		start := time.Now()
		if r := tg.send(victimClient, "GET", "/v1/contacts/"+victimID, victim, ""); r.Status != 200 {
			t.Fatalf("victim: %d %s", r.Status, r.Body)
		}
		lat = append(lat, time.Since(start))
		peak = max(peak, tg.rssMiB())
		time.Sleep(50 * time.Millisecond)
	}
	slices.Sort(lat)
	for _, conn := range conns {
		conn.Close()
	}
	after := peak
	for i := 0; i < 100; i++ {
		time.Sleep(200 * time.Millisecond)
		if after = tg.rssMiB(); after < base+64 {
			break
		}
	}
	t.Logf("RSS %.0f MiB before, %.0f MiB peak with 40 non-reading clients, %.0f MiB after they closed; "+
		"victim GET p50 %v, max %v over %d requests", base, peak, after, lat[len(lat)/2], lat[len(lat)-1], len(lat))
	if peak-base > 300 {
		t.Errorf("non-reading clients grew the server by %.0f MiB", peak-base)
	}
	// Liveness bounds, not a benchmark: before the caps, a point read waited 11 s here.
	if p50, worst := lat[len(lat)/2], lat[len(lat)-1]; p50 > 200*time.Millisecond || worst > 5*time.Second {
		t.Errorf("another tenant's point reads took %v (median) and %v (worst)", p50, worst)
	}
	if after > base+64 {
		t.Errorf("memory not returned: %.0f MiB before, %.0f MiB 20 s after the clients closed", base, after)
	}
}
