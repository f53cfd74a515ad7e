package main

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relmcrm/relm/auth"
)

// TestAttackKeysDoNotMultiplyLimits: minting keys stops at the cap, and however many keys
// a workspace has, they share one rate ceiling; refused requests are not charged.
func TestAttackKeysDoNotMultiplyLimits(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, "--rate-limit", "40", "--workspace-rate-limit", "100", "--max-keys", "10")
	root := tg.key("acme", auth.Test)
	c := client("")
	keys := []string{root}
	for {
		r := tg.send(c, "POST", "/v1/api_keys", root, "")
		if r.Status == 409 {
			if r.errorCode() != "limit_reached" {
				t.Fatalf("over the key cap: %s", r.Body)
			}
			break
		}
		if r.Status != 201 || len(keys) > 10 {
			t.Fatalf("minting key %d: %d %s", len(keys)+1, r.Status, r.Body)
		}
		secret := string(r.Body)
		secret = secret[strings.Index(secret, `"secret":"`)+10:]
		keys = append(keys, secret[:strings.Index(secret, `"`)])
	}
	if len(keys) != 10 {
		t.Fatalf("%d keys before the cap of 10", len(keys))
	}
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Go(func() {
			for range 30 {
				switch r := tg.send(c, "GET", "/v1/contacts", k, ""); r.Status {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("status %d: %s", r.Status, r.Body)
				}
			}
		})
	}
	wg.Wait()
	// 100 per window for the workspace, less the 10 minting requests; the window may turn
	// once during the test, so allow two windows' worth at most.
	if ok.Load() > 200-int64(len(keys)) || limited.Load() == 0 {
		t.Fatalf("%d requests passed and %d were limited with 10 keys sharing a ceiling of 100", ok.Load(), limited.Load())
	}
	r := tg.send(c, "GET", "/v1/usage", tg.key("acme", auth.Test), "")
	t.Logf("ok %d, limited %d; usage after: %d %s", ok.Load(), limited.Load(), r.Status, r.Body)
}

// TestAttackMCPBatch: a batch of tool calls against the real server runs none of them and
// charges nothing; the answer is a JSON-RPC error.
func TestAttackMCPBatch(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, "--rate-limit", "50")
	key := tg.key("acme", auth.Test)
	c := client("")
	call := func(id int, email string) string {
		return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"create_contact","arguments":{"email":"` + email + `"}}}`
	}
	before := tg.send(c, "GET", "/v1/contacts", key, "")
	batch := "[" + call(1, "a@example.com") + "," + call(2, "b@example.com") + "," + call(3, "c@example.com") + "]"
	for _, version := range []string{"2025-03-26", "2025-06-18"} {
		r := tg.mcp(c, key, batch, "Mcp-Protocol-Version", version)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"code":-32600`) || !strings.HasPrefix(string(r.Body), `{"jsonrpc":"2.0"`) {
			t.Fatalf("batch at %s: %d %s", version, r.Status, r.Body)
		}
	}
	after := tg.send(c, "GET", "/v1/contacts", key, "")
	if !strings.Contains(string(after.Body), `"data":[]`) {
		t.Fatalf("a batched call ran: %s", after.Body)
	}
	b, _ := strconv.Atoi(before.Header.Get("X-RateLimit-Remaining"))
	a, _ := strconv.Atoi(after.Header.Get("X-RateLimit-Remaining"))
	if b-a != 1 {
		t.Fatalf("batches were charged: remaining %d then %d", b, a)
	}
}
