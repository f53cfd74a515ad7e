package email_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/email"
)

// hello is a message from a domain that setup's tests verify first.
func hello() email.Message {
	return email.Message{
		From:    "Acme <team@acme.dev>",
		To:      []string{"ada@lovelace.dev"},
		Subject: "Hello",
		HTML:    "<p>Hello</p>",
		Text:    "Hello",
		ReplyTo: []string{"support@acme.dev"},
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	ctx := context.Background()

	for _, key := range []string{fullKey, sendKey} {
		id, err := f.client.Send(ctx, key, hello(), "")
		if err != nil || id == "" {
			t.Fatalf("send with %s: id %q, %v", key[:7], id, err)
		}
	}
	sent := f.srv.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d emails, want 2", len(sent))
	}
	got, want := sent[1], hello()
	if got.APIKey != sendKey || got.From != want.From || !slices.Equal(got.To, want.To) ||
		got.Subject != want.Subject || got.HTML != want.HTML || got.Text != want.Text ||
		!slices.Equal(got.ReplyTo, want.ReplyTo) || got.IdempotencyKey != "" {
		t.Errorf("recorded %+v, want the message sent with the sending-only key", got)
	}
}

func TestSendTestingDomain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	msg := email.Message{From: "onboarding@resend.dev", To: []string{"delivered@resend.dev"}, Subject: "Hi", Text: "Hi"}
	if _, err := f.client.Send(ctx, fullKey, msg, ""); err != nil {
		t.Fatalf("resend.dev to Resend's test address: %v", err)
	}
	msg.To = []string{"ada@lovelace.dev"}
	_, err := f.client.Send(ctx, fullKey, msg, "")
	if e := wantKind(t, err, email.DomainNotVerified); e.Status != http.StatusForbidden {
		t.Errorf("status %d, want 403", e.Status)
	}
}

func TestSendUnverifiedDomain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "pending.dev", false)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	ctx := context.Background()
	for _, from := range []string{
		"team@unknown.dev",      // not in the account
		"team@pending.dev",      // added, not verified
		"team@mail.acme.dev",    // a subdomain of a verified domain is another domain
		"Team <team@other.dev>", // named sender
	} {
		msg := hello()
		msg.From = from
		_, err := f.client.Send(ctx, fullKey, msg, "")
		e := wantKind(t, err, email.DomainNotVerified)
		if e.Status != http.StatusForbidden || e.Name != "validation_error" || e.Retryable() {
			t.Errorf("from %s: %+v, want a final 403 validation_error", from, e)
		}
	}
	if n := len(f.srv.Sent()); n != 0 {
		t.Errorf("%d emails sent from unverified domains", n)
	}
}

func TestSendValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	cases := []struct {
		name  string
		edit  func(*email.Message)
		kind  email.Kind
		field string
	}{
		{"no from", func(m *email.Message) { m.From = "" }, email.Validation, "from"},
		{"no to", func(m *email.Message) { m.To = nil }, email.Validation, "to"},
		{"no subject", func(m *email.Message) { m.Subject = "" }, email.Validation, "subject"},
		{"no body", func(m *email.Message) { m.HTML, m.Text = "", "" }, email.Validation, "html"},
		{"bad to", func(m *email.Message) { m.To = []string{"not an address"} }, email.Validation, "to"},
		{"bad reply-to", func(m *email.Message) { m.ReplyTo = []string{"nope"} }, email.Validation, "reply_to"},
		{"too many", func(m *email.Message) { m.To = slices.Repeat([]string{"a@b.dev"}, 51) }, email.Validation, "to"},
		{"bad from", func(m *email.Message) { m.From = "Acme team@acme.dev" }, email.InvalidFrom, "from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg := hello()
			c.edit(&msg)
			_, err := f.client.Send(context.Background(), fullKey, msg, "")
			e := wantKind(t, err, c.kind)
			if e.Field() != c.field || e.Status != http.StatusUnprocessableEntity || e.Retryable() {
				t.Errorf("field %q, status %d, retryable %v; want field %q, 422, final (%v)", e.Field(), e.Status, e.Retryable(), c.field, err)
			}
		})
	}
}

func TestSendIdempotent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	ctx := context.Background()

	first, err := f.client.Send(ctx, fullKey, hello(), "welcome/42")
	if err != nil {
		t.Fatal(err)
	}
	// A retry, with the team's other key: same account, same idempotency key.
	again, err := f.client.Send(ctx, sendKey, hello(), "welcome/42")
	if err != nil || again != first {
		t.Fatalf("retry: id %q, %v; want the first id %q", again, err, first)
	}
	if n := len(f.srv.Sent()); n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
	if n := f.srv.Requests(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	other := hello()
	other.Subject = "Something else"
	_, err = f.client.Send(ctx, fullKey, other, "welcome/42")
	e := wantKind(t, err, email.Conflict)
	if e.Status != http.StatusConflict || e.Name != "invalid_idempotent_request" || e.Retryable() {
		t.Errorf("same key, other body: %+v, want a final 409 invalid_idempotent_request", e)
	}

	_, err = f.client.Send(ctx, fullKey, hello(), strings.Repeat("k", 257))
	if e := wantKind(t, err, email.Validation); e.Name != "invalid_idempotency_key" {
		t.Errorf("a 257-byte key: %v", err)
	}
	if n := len(f.srv.Sent()); n != 1 {
		t.Errorf("sent %d emails, want 1", n)
	}
}

func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	f.srv.FailNext(1, http.StatusTooManyRequests)
	ctx := context.Background()

	_, err := f.client.Send(ctx, fullKey, hello(), "k1")
	e := wantKind(t, err, email.RateLimited)
	if !e.Retryable() || e.RetryAfter != time.Second || e.Name != "rate_limit_exceeded" {
		t.Fatalf("%+v: want retryable after 1s", e)
	}
	if _, err := f.client.Send(ctx, fullKey, hello(), "k1"); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(f.srv.Sent()); n != 1 {
		t.Errorf("sent %d emails, want 1", n)
	}
}

func TestSendServerErrorThenIdempotentRetry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	ctx := context.Background()

	f.srv.FailNext(1, http.StatusInternalServerError)
	_, err := f.client.Send(ctx, fullKey, hello(), "invoice/7")
	if e := wantKind(t, err, email.ServerError); !e.Retryable() || e.Name != "application_error" {
		t.Fatalf("%+v: want a retryable application_error", e)
	}
	// A caller that retries every retryable error with the same key sends exactly once.
	var ids []string
	for range 3 {
		id, err := f.client.Send(ctx, fullKey, hello(), "invoice/7")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(slices.Compact(ids)) != 1 || len(f.srv.Sent()) != 1 {
		t.Errorf("ids %v, %d sent; want one id, one email", ids, len(f.srv.Sent()))
	}
}

func TestSendQuotaExceeded(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddDomain(fullKey, "acme.dev", true)
	f.srv.SetDailyQuota(sendKey, 1)
	ctx := context.Background()
	if _, err := f.client.Send(ctx, fullKey, hello(), ""); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.Send(ctx, sendKey, hello(), "")
	e := wantKind(t, err, email.QuotaExceeded)
	if e.Status != http.StatusTooManyRequests || e.Retryable() || e.RetryAfter != 0 {
		t.Errorf("%+v: want a final 429 without RetryAfter", e)
	}
}
