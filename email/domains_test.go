package email_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/email"
)

func TestCreateDomain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	d, err := f.client.CreateDomain(ctx, fullKey, "Acme.dev", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.Name != "acme.dev" || d.Status != "not_started" || d.Region != "us-east-1" {
		t.Errorf("created %+v", d)
	}
	if time.Since(d.CreatedAt) > time.Minute || d.CreatedAt.After(time.Now()) {
		t.Errorf("created_at parsed as %v", d.CreatedAt)
	}
	var kinds []string
	for _, r := range d.Records {
		kinds = append(kinds, r.Record+" "+r.Type)
		if r.Status != "not_started" || r.TTL != "Auto" || r.Value == "" {
			t.Errorf("record %+v", r)
		}
		if (r.Type == "MX") != (r.Priority != nil) {
			t.Errorf("record %+v: priority on MX records only", r)
		}
	}
	if got := strings.Join(kinds, ", "); got != "DKIM TXT, SPF MX, SPF TXT" {
		t.Errorf("records %s, want DKIM TXT, SPF MX, SPF TXT", got)
	}

	eu, err := f.client.CreateDomain(ctx, fullKey, "eu.acme.dev", "eu-west-1")
	if err != nil || eu.Region != "eu-west-1" || !strings.Contains(eu.Records[1].Value, "eu-west-1") {
		t.Errorf("eu domain %+v, %v", eu, err)
	}
}

func TestCreateDomainRefused(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.client.CreateDomain(ctx, fullKey, "acme.dev", ""); err != nil {
		t.Fatal(err)
	}
	other := "re_OtherAccount1"
	f.srv.AddKey(other, true)

	cases := []struct {
		name, key, domain, region string
		kind                      email.Kind
		status                    int
	}{
		{"sending-only key", sendKey, "new.dev", "", email.RestrictedKey, 401},
		{"unknown key", "re_nope", "new.dev", "", email.InvalidKey, 400},
		{"bad region", fullKey, "new.dev", "mars-1", email.Validation, 422},
		{"no name", fullKey, "", "", email.Validation, 422},
		{"taken here", fullKey, "acme.dev", "", email.Validation, 403},
		{"taken by another account", other, "acme.dev", "", email.Validation, 403},
	}
	for _, c := range cases {
		_, err := f.client.CreateDomain(ctx, c.key, c.domain, c.region)
		if e := wantKind(t, err, c.kind); e.Status != c.status {
			t.Errorf("%s: status %d, want %d (%v)", c.name, e.Status, c.status, err)
		}
	}
}

func TestGetListVerifyDomain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	a, err := f.client.CreateDomain(ctx, fullKey, "a.dev", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.client.CreateDomain(ctx, fullKey, "b.dev", "")
	if err != nil {
		t.Fatal(err)
	}

	list, err := f.client.ListDomains(ctx, fullKey)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("list %+v, %v; want b.dev then a.dev", list, err)
	}
	if list[0].Name != "b.dev" || list[0].Status != "not_started" || list[0].CreatedAt.IsZero() {
		t.Errorf("listed %+v", list[0])
	}

	got, err := f.client.GetDomain(ctx, fullKey, a.ID)
	if err != nil || got.Name != "a.dev" || len(got.Records) != 3 || got.Records[0].Value != a.Records[0].Value {
		t.Fatalf("get %+v, %v", got, err)
	}

	v, err := f.client.VerifyDomain(ctx, fullKey, a.ID)
	if err != nil || v.Status != "verified" {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	for _, r := range v.Records {
		if r.Status != "verified" {
			t.Errorf("record %s %s is %s after verification", r.Record, r.Type, r.Status)
		}
	}

	f.srv.SetDNSPublished("b.dev", false)
	v, err = f.client.VerifyDomain(ctx, fullKey, b.ID)
	if err != nil || v.Status != "failed" {
		t.Errorf("verify without DNS records: %+v, %v; want failed", v, err)
	}

	// Now a.dev can send and b.dev cannot.
	msg := email.Message{From: "hi@a.dev", To: []string{"x@y.dev"}, Subject: "s", Text: "t"}
	if _, err := f.client.Send(ctx, sendKey, msg, ""); err != nil {
		t.Errorf("send from the verified domain: %v", err)
	}
	msg.From = "hi@b.dev"
	_, err = f.client.Send(ctx, sendKey, msg, "")
	wantKind(t, err, email.DomainNotVerified)
}

func TestDomainNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	other := "re_OtherAccount2"
	f.srv.AddKey(other, true)
	theirs := f.srv.AddDomain(other, "theirs.dev", true)

	for name, id := range map[string]string{
		"another account's domain": theirs,
		"no such domain":           "0b9f6d1e-3c0a-4f4e-9a56-7f1c2d3e4a5b",
	} {
		_, err := f.client.GetDomain(ctx, fullKey, id)
		if e := wantKind(t, err, email.NotFound); e.Status != 404 {
			t.Errorf("get %s: %v", name, err)
		}
		_, err = f.client.VerifyDomain(ctx, fullKey, id)
		wantKind(t, err, email.NotFound)
	}
	_, err := f.client.GetDomain(ctx, fullKey, "not-a-uuid")
	if e := wantKind(t, err, email.Validation); e.Name != "invalid_parameter" || e.Field() != "id" {
		t.Errorf("a malformed id: %v", err)
	}
	_, err = f.client.ListDomains(ctx, sendKey)
	wantKind(t, err, email.RestrictedKey)
	_, err = f.client.GetDomain(ctx, sendKey, theirs)
	wantKind(t, err, email.RestrictedKey)
}

// TestListDomainsPages follows has_more, as Resend answers when there are more domains
// than one page holds (the fake returns them all at once, as Resend does by default).
func TestListDomainsPages(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		queries []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		switch r.URL.Query().Get("after") {
		case "":
			io.WriteString(w, `{"object":"list","has_more":true,"data":[{"id":"d1","name":"one.dev"},{"id":"d2","name":"two.dev"}]}`)
		case "d2":
			io.WriteString(w, `{"object":"list","has_more":false,"data":[{"id":"d3","name":"three.dev"}]}`)
		default:
			http.Error(w, "unexpected", 500)
		}
	}))
	t.Cleanup(srv.Close)
	list, err := email.NewClient(srv.URL, "", nil).ListDomains(context.Background(), fullKey)
	if err != nil || len(list) != 3 || list[2].Name != "three.dev" {
		t.Fatalf("list %+v, %v", list, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(queries); got != "[ limit=100&after=d2]" {
		t.Errorf("queries %s", got)
	}
}

// TestDomainRecordShapes decodes a domain as Resend's documentation shows it, with the
// forms its fields have been seen in: ttl as text or a number, priority as a number or
// text, created_at in PostgreSQL's text form.
func TestDomainRecordShapes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{
		  "object": "domain", "id": "d91cd9bd-1176-453e-8fc1-35364d380206", "name": "example.com",
		  "status": "partially_verified", "created_at": "2026-04-26 20:21:26.347412+00", "region": "sa-east-1",
		  "records": [
		    {"record": "SPF", "name": "send", "type": "MX", "ttl": "Auto", "status": "verified",
		     "value": "feedback-smtp.sa-east-1.amazonses.com", "priority": 10},
		    {"record": "SPF", "name": "send", "value": "\"v=spf1 include:amazonses.com ~all\"", "type": "TXT", "ttl": 3600, "status": "verified"},
		    {"record": "DKIM", "name": "resend._domainkey", "value": "p=MIGf", "type": "TXT", "status": "pending", "ttl": "Auto", "priority": "5"}
		  ]
		}`)
	}))
	t.Cleanup(srv.Close)
	d, err := email.NewClient(srv.URL, "", nil).GetDomain(context.Background(), fullKey, "d91cd9bd-1176-453e-8fc1-35364d380206")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 4, 26, 20, 21, 26, 347412000, time.UTC)
	if !d.CreatedAt.Equal(want) || d.Status != "partially_verified" || d.Region != "sa-east-1" {
		t.Errorf("domain %+v", d)
	}
	r := d.Records
	if len(r) != 3 || r[0].Priority == nil || *r[0].Priority != 10 || r[1].TTL != "3600" ||
		r[1].Priority != nil || r[1].Value != `"v=spf1 include:amazonses.com ~all"` ||
		r[2].Priority == nil || *r[2].Priority != 5 || r[2].Status != "pending" {
		t.Errorf("records %+v", r)
	}
}

func TestDMARCRecord(t *testing.T) {
	t.Parallel()
	got := email.DMARCRecord(" Mail.Acme.dev. ")
	want := email.DNSRecord{Record: "DMARC", Name: "_dmarc.mail.acme.dev", Type: "TXT", TTL: "Auto", Value: "v=DMARC1; p=none;"}
	if got.Record != want.Record || got.Name != want.Name || got.Type != want.Type ||
		got.TTL != want.TTL || got.Value != want.Value || got.Priority != nil || got.Status != "" {
		t.Errorf("DMARCRecord = %+v, want %+v", got, want)
	}
}
