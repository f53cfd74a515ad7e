package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestEmailPage: without an integration the page says so plainly; sends in test mode are
// listed as simulated; in live mode a Resend key (checked with the fake Resend) connects
// the account, a domain is added with its DNS records and verified, and disconnecting
// erases the key.
func TestEmailPage(t *testing.T) {
	t.Parallel()
	e := setupWork(t)
	b := e.owner("ada@example.com", "Acme")
	p := b.get("/email")
	must(t, p, http.StatusOK, "Not connected.", "switch to live mode", "No emails.", `aria-current="page">Email`)
	if strings.Contains(p.Body, "flash-error") {
		t.Fatalf("no integration shows as an error:\n%s", p.Body)
	}
	must(t, b.post("/actions/send_email", url.Values{"to": {"bob@example.com"}, "subject": {"Hello Bob"}, "text": {"Hi"},
		"from": {"ada@example.com"}, "back": {"/email"}}), http.StatusOK, "Hello Bob", `class="email-simulated">simulated<`)

	must(t, b.post("/workspaces/switch", url.Values{"mode": {"live"}, "back": {"/email"}}), http.StatusOK, "live mode", "Not connected.",
		"Connect a full-access Resend key", "No emails.")
	set := func(key string) page {
		return b.post("/actions/set_email_integration", url.Values{"api_key": {key}, "from_email": {"ada@mail.example.com"}, "back": {"/email"}})
	}
	must(t, set("re_NotAKeyResendKnows0000"), http.StatusOK, `class="flash flash-error"`, "Not connected.")
	p = set(resendKey)
	must(t, p, http.StatusOK, "Resend connected.", "re_…6789", "full access", "ada@mail.example.com", "not verified", "No sending domains yet.")
	if strings.Contains(p.Body, resendKey) {
		t.Fatalf("the page shows the key:\n%s", p.Body)
	}

	p = b.post("/actions/add_email_domain", url.Values{"name": {"mail.example.com"}, "region": {"eu-west-1"}, "back": {"/email"}})
	must(t, p, http.StatusOK, "Domain added", "mail.example.com", "DNS records to publish", "DKIM", "SPF", "DMARC", "Region eu-west-1", "Verify")
	id := regexp.MustCompile(`action="/actions/verify_email_domain">\s*<input type="hidden" name="back" value="/email"><input type="hidden" name="id" value="([^"]+)"`).
		FindStringSubmatch(p.Body)
	if id == nil {
		t.Fatalf("no verify form:\n%s", p.Body)
	}
	p = b.post("/actions/verify_email_domain", url.Values{"id": {id[1]}, "back": {"/email"}})
	must(t, p, http.StatusOK, "Done.", `class="domain-verified">verified<`, "<dd>verified</dd>")

	p = b.post("/actions/delete_email_integration", url.Values{"back": {"/email"}, "_done": {"Disconnected."}})
	must(t, p, http.StatusOK, "Disconnected.", "Not connected.")
}
