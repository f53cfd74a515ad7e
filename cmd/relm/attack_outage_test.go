package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/store/localpg"
)

// TestAttackDatabaseOutage: with its database stopped, the server answers 503
// service_unavailable with Retry-After on both surfaces (never 500), stays alive, writes
// nothing, and serves again as soon as the database is back, without a restart.
func TestAttackDatabaseOutage(t *testing.T) {
	t.Parallel()
	dir := reachableTempDir(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx := context.Background()
	opts := localpg.Options{Dir: dir, Port: port, Logger: quietLog()}
	cluster, err := localpg.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cluster.Stop(ctx) }()
	tg := startTargetOn(t, cluster.URL("postgres"))
	key := tg.key("acme", auth.Test)
	c := client("")
	if r := tg.send(c, "GET", "/v1/contacts", key, ""); r.Status != 200 {
		t.Fatalf("before the outage: %d %s", r.Status, r.Body)
	}
	tg.admin.Close() // the test's own connection would otherwise be cut too

	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, probe := range []struct {
		name string
		do   func() reply
	}{
		{"REST read", func() reply { return tg.send(c, "GET", "/v1/contacts", key, "") }},
		{"REST write", func() reply { return tg.send(c, "POST", "/v1/contacts", key, `{"email":"lost@example.com"}`) }},
		{"MCP tool call", func() reply {
			return tg.mcp(c, key, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_contacts","arguments":{}}}`)
		}},
	} {
		r := probe.do()
		retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != 503 || r.errorCode() != "service_unavailable" || retry < 1 {
			t.Fatalf("%s during the outage: %d %v %s", probe.name, r.Status, r.Header, r.Body)
		}
	}
	if r := tg.send(c, "GET", "/readyz", "", ""); r.Status != 503 {
		t.Fatalf("/readyz during the outage: %d", r.Status)
	}
	if r := tg.send(c, "GET", "/healthz", "", ""); r.Status != 200 {
		t.Fatalf("/healthz during the outage: %d", r.Status)
	}

	if cluster, err = localpg.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	var r reply
	for i := 0; i < 50; i++ {
		if r = tg.send(c, "GET", "/v1/contacts", key, ""); r.Status == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Status != 200 {
		t.Fatalf("after the database came back: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "lost@example.com") {
		t.Fatal("a write answered 503 was stored")
	}
	if r := tg.send(c, "POST", "/v1/contacts", key, `{"email":"back@example.com"}`); r.Status != 201 {
		t.Fatalf("write after the outage: %d %s", r.Status, r.Body)
	}
	if strings.Contains(tg.logs.String(), "panic") {
		t.Fatalf("the server panicked:\n%s", tg.logs.String())
	}
}
