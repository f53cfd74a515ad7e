package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/email/resendtest"
	"github.com/relmcrm/relm/internal/testkit"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

const (
	fullKey    = "re_FullAccessKey0123456789"
	sendingKey = "re_SendingOnlyKey012345678"
)

// emailEnv is a server whose email capabilities talk to a fake Resend.
type emailEnv struct {
	*env
	resend *resendtest.Server
	logs   *syncBuffer // everything the server logged, at debug level
}

func setupEmail(t *testing.T) *emailEnv {
	t.Helper()
	fake := resendtest.NewServer(t)
	fake.AddKey(fullKey, true)
	fake.AddKey(sendingKey, false)
	secret := server.NewSecretKey()
	box, err := secrets.NewBox(secret)
	if err != nil {
		t.Fatal(err)
	}
	client := email.NewClient(fake.URL, "relm-test", nil)
	logs := &syncBuffer{}
	e := setupWith(t, func(c *server.Config) {
		c.SecretKey = secret
		c.Email = &tools.EmailServices{Box: box, Resend: client}
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	outbox := &email.Outbox{Store: e.Store, Box: box, Client: client, Sent: tools.EmailSentEvent, KeyBinding: tools.EmailKeyBinding,
		Backoff: func(int) time.Duration { return 0 }}
	engine, err := webhooks.Start(context.Background(), e.Store, webhooks.Options{Payload: tools.EventPayload, Version: "test",
		Open: tools.WebhookSecretOpener(box),
		Log:  slog.New(slog.DiscardHandler), Others: []webhooks.Work{{Queue: store.EmailQueue, Workers: 4, Add: outbox.Register}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return &emailEnv{env: e, resend: fake, logs: logs}
}

// connect sets key as key's workspace's integration with a from address on domain.
func (e *emailEnv) connect(key, apiKey, from string) resp {
	e.t.Helper()
	return e.call("PUT", "/v1/integrations/email", key, map[string]any{"api_key": apiKey, "from_email": from})
}

func TestEmailIntegration(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	expectError(t, e.connect(e.Live, "re_NotAKeyResendKnows0000", "ada@mail.example.com"), 422, "validation_failed", "api_key")
	expectError(t, e.connect(e.Live, "sk_live_nope", "ada@mail.example.com"), 422, "validation_failed", "api_key")
	got := e.call("GET", "/v1/integrations/email", e.Live, nil).must(t, 200).Body
	if got["configured"] != false {
		t.Fatalf("refused keys configured it: %v", got)
	}
	b := e.connect(e.Live, fullKey, "ada@mail.example.com").must(t, 200).Body
	if b["configured"] != true || b["access"] != "full" || b["verified"] != false || b["api_key_last4"] != fullKey[len(fullKey)-4:] {
		t.Fatalf("connected: %v", b)
	}
	e.resend.AddDomain(fullKey, "mail.example.com", true)
	if b = e.call("GET", "/v1/integrations/email", e.Live, nil).must(t, 200).Body; b["verified"] != true {
		t.Fatalf("verified domain: %v", b)
	}
	b = e.connect(e.Live, sendingKey, "ada@mail.example.com").must(t, 200).Body
	if b["access"] != "sending_only" || b["note"] == nil {
		t.Fatalf("sending-only key: %v", b)
	}
	expectError(t, e.call("GET", "/v1/email/domains", e.Live, nil), 422, "integration_required", "")
	e.call("DELETE", "/v1/integrations/email", e.Live, nil).must(t, 200)
	if b = e.call("GET", "/v1/integrations/email", e.Live, nil).must(t, 200).Body; b["configured"] != false {
		t.Fatalf("after disconnecting: %v", b)
	}
	expectError(t, e.call("DELETE", "/v1/integrations/email", e.Live, nil), 404, "not_found", "")
	e.assertKeyNowhere(t, fullKey, sendingKey)
}

// TestEmailTestModeSimulates: test mode records sends as simulated and never reaches Resend.
func TestEmailTestModeSimulates(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	e.connect(e.Test, fullKey, "ada@mail.example.com").must(t, 200)
	r := e.call("POST", "/v1/emails", e.Test, map[string]any{"to": "bob@example.com", "subject": "Hi", "text": "Hello"}).must(t, 201).Body
	if to := r["to"].([]any); len(to) != 1 || to[0] != "bob@example.com" {
		t.Fatalf("one address as a string: %v", r)
	}
	if r["status"] != "simulated" || r["from"] != "ada@mail.example.com" || r["resend_id"] != nil || !strings.HasPrefix(r["id"].(string), "eml_") {
		t.Fatalf("test-mode send: %v", r)
	}
	cs := e.mcpSession(e.Test, "2025-06-18")
	if res := tool(t, cs, "send_email", map[string]any{"to": []string{"c@example.com"}, "subject": "MCP", "html": "<p>x</p>", "from": "x@other.example"}); res.IsError {
		t.Fatalf("MCP send: %s", text(t, res))
	}
	if ev := e.lastEvent(e.Test, "email.sent"); ev == nil {
		t.Fatal("no email.sent event")
	}
	if n := len(e.call("GET", "/v1/emails", e.Test, nil).must(t, 200).Body["data"].([]any)); n != 2 {
		t.Fatalf("%d emails listed", n)
	}
	expectError(t, e.call("GET", "/v1/email/domains", e.Test, nil), 422, "integration_required", "")
	if n := e.resend.Requests(); n != 0 {
		t.Fatalf("test mode reached Resend %d times", n)
	}
	e.assertKeyNowhere(t, fullKey)
}

// TestEmailSendLive: a live send goes through Resend once, with an email.sent event; an
// idempotent retry does not send again; Resend's refusals are clear errors and keep nothing.
func TestEmailSendLive(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	expectError(t, e.call("POST", "/v1/emails", e.Live, map[string]any{"to": []string{"bob@example.com"}, "subject": "Hi", "text": "x"}),
		422, "integration_required", "")
	e.resend.AddDomain(fullKey, "mail.example.com", true)
	e.connect(e.Live, fullKey, "ada@mail.example.com").must(t, 200)
	body := map[string]any{"to": []string{"bob@example.com"}, "subject": "Hi", "text": "Hello", "reply_to": []string{"help@mail.example.com"}}
	r := e.call("POST", "/v1/emails", e.Live, body).must(t, 201).Body
	if r["status"] != "sent" || r["resend_id"] == nil {
		t.Fatalf("live send: %v", r)
	}
	if got := e.call("GET", "/v1/emails/"+r["id"].(string), e.Live, nil).must(t, 200).Body; got["status"] != "sent" {
		t.Fatalf("get: %v", got)
	}
	// The same request twice with one Idempotency-Key: one email.
	raw := []byte(`{"to":["carol@example.com"],"subject":"Once","text":"Only once"}`)
	first := e.do("POST", "/v1/emails", e.Live, raw, "Idempotency-Key", "send-1").must(t, 201)
	again := e.do("POST", "/v1/emails", e.Live, raw, "Idempotency-Key", "send-1").must(t, 201)
	if again.Header.Get("Idempotent-Replayed") != "true" || first.Body["id"] != again.Body["id"] {
		t.Fatalf("idempotent retry: %v", again.Header)
	}
	if n := len(e.resend.Sent()); n != 2 {
		t.Fatalf("Resend sent %d messages, want 2", n)
	}
	// Refusals.
	expectError(t, e.call("POST", "/v1/emails", e.Live, map[string]any{"to": []string{"bob@example.com"}, "subject": "Hi", "text": "x",
		"from": "eve@unverified.example"}), 422, "email_rejected", "")
	expectError(t, e.call("POST", "/v1/emails", e.Live, map[string]any{"to": []string{"bob@example.com"}, "subject": "Hi"}), 422, "validation_failed", "html")
	expectError(t, e.call("POST", "/v1/emails", e.Live, map[string]any{"to": []string{"bob@example.com", "not an address"}, "subject": "Hi", "text": "x"}), 422, "validation_failed", "to.1")
	if n := len(e.call("GET", "/v1/emails", e.Live, nil).must(t, 200).Body["data"].([]any)); n != 2 {
		t.Fatalf("%d emails kept, want the 2 sent", n)
	}
	e.assertKeyNowhere(t, fullKey)
}

// TestEmailRetriedInBackground: when Resend answers 429, the send is queued and retried in
// the background with the same Idempotency-Key; Resend sends it once.
func TestEmailRetriedInBackground(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	e.resend.AddDomain(fullKey, "mail.example.com", true)
	e.connect(e.Live, fullKey, "ada@mail.example.com").must(t, 200)
	e.resend.FailNext(1, http.StatusTooManyRequests)
	r := e.call("POST", "/v1/emails", e.Live, map[string]any{"to": []string{"bob@example.com"}, "subject": "Later", "text": "x"}).must(t, 201).Body
	if r["status"] != "queued" {
		t.Fatalf("after a 429: %v", r)
	}
	var got map[string]any
	eventually(func() bool {
		got = e.call("GET", "/v1/emails/"+r["id"].(string), e.Live, nil).must(t, 200).Body
		return got["status"] == "sent"
	})
	if got["status"] != "sent" || got["resend_id"] == nil {
		t.Fatalf("after the retry: %v", got)
	}
	if n := len(e.resend.Sent()); n != 1 {
		t.Fatalf("Resend sent it %d times", n)
	}
}

// TestEmailDomains: add, get, verify and list a sending domain; the DMARC recommendation is
// added to Resend's records.
func TestEmailDomains(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	e.connect(e.Live, fullKey, "ada@mail.example.com").must(t, 200)
	d := e.call("POST", "/v1/email/domains", e.Live, map[string]any{"name": "mail.example.com"}).must(t, 201).Body
	records := toJSON(d["records"])
	if d["name"] != "mail.example.com" || !strings.Contains(records, "SPF") || !strings.Contains(records, "DKIM") || !strings.Contains(records, "v=DMARC1") {
		t.Fatalf("added domain: %v", d)
	}
	id := d["id"].(string)
	e.call("GET", "/v1/email/domains/"+id, e.Live, nil).must(t, 200)
	e.call("POST", "/v1/email/domains/"+id+"/verify", e.Live, nil).must(t, 200)
	if l := e.call("GET", "/v1/email/domains", e.Live, nil).must(t, 200).Body["data"].([]any); len(l) != 1 {
		t.Fatalf("domains: %v", l)
	}
	expectError(t, e.call("GET", "/v1/email/domains/nope", e.Live, nil), 404, "not_found", "id")
	expectError(t, e.call("GET", "/v1/email/domains/4dd369bc-aa82-4ff3-97de-514ae3000ee0", e.Live, nil), 404, "not_found", "id")
	e.assertKeyNowhere(t, fullKey)
}

// TestEmailKeyBoundToWorkspace: a sealed key copied into another workspace's row does not
// open there.
func TestEmailKeyBoundToWorkspace(t *testing.T) {
	t.Parallel()
	e := setupEmail(t)
	e.resend.AddDomain(fullKey, "mail.example.com", true)
	e.connect(e.Live, fullKey, "ada@mail.example.com").must(t, 200)
	e.connect(e.Other, sendingKey, "eve@mail.example.com").must(t, 200)
	e.exec(`UPDATE email_integrations SET api_key_sealed = (SELECT api_key_sealed FROM email_integrations WHERE workspace_id = $1 AND mode = 'live')
		WHERE workspace_id = $2`, e.workspaceID("acme"), e.workspaceID("globex"))
	expectError(t, e.call("POST", "/v1/emails", e.Other, map[string]any{"to": []string{"bob@example.com"}, "subject": "Hi", "text": "x"}),
		422, "integration_required", "")
	if n := len(e.resend.Sent()); n != 0 {
		t.Fatalf("a copied key sent %d messages", n)
	}
}

// assertKeyNowhere checks that no row of any table, in any schema Relm uses, holds the
// keys in plain text (sealed values, logs, events, stored responses, jobs), and that no
// log line does.
func (e *emailEnv) assertKeyNowhere(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(e.logs.String(), k) {
			t.Errorf("the server logged the Resend key")
		}
	}
	ctx := context.Background()
	conn := testkit.Conn(t, e.DB)
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_schema IN ('public', 'river') AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return pgx.Identifier{schema, name}.Sanitize(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		for _, k := range keys {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table+` t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'`, k).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				t.Errorf("%s holds the Resend key in plain text (%d rows)", table, n)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
