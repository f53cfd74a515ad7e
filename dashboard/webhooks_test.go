package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var whsecRE = regexp.MustCompile(`whsec_[A-Za-z0-9_\-]+`)

// TestWebhookEndpoints: an endpoint made on the page shows its signing secret once (a
// reload does not); it can be disabled, enabled, given a new secret and deleted.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("ada@example.com", "Acme")
	must(t, b.get("/webhooks"), http.StatusOK, "No webhook endpoints yet.", "No deliveries", `aria-current="page">Webhooks`)
	p := b.post("/webhooks", url.Values{"url": {"http://127.0.0.1:9/hooks"}, "events": {"contact.created, deal.stage_changed"}})
	must(t, p, http.StatusOK, "Copy it now", "http://127.0.0.1:9/hooks", "<code>contact.created</code>, <code>deal.stage_changed</code>")
	secret := whsecRE.FindString(p.Body)
	if secret == "" || !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("no secret, or a cacheable page (%q):\n%s", p.Header.Get("Cache-Control"), p.Body)
	}
	p = b.get("/webhooks")
	must(t, p, http.StatusOK, "http://127.0.0.1:9/hooks", "enabled")
	if strings.Contains(p.Body, "whsec_") {
		t.Fatalf("a reload shows the secret again:\n%s", p.Body)
	}
	id := regexp.MustCompile(`name="id" value="(whep_[a-z2-7]+)"`).FindStringSubmatch(p.Body)[1]

	p = b.post("/actions/update_webhook", url.Values{"id": {id}, "enabled": {"false"}, "back": {"/webhooks"}, "_done": {"Endpoint disabled."}})
	must(t, p, http.StatusOK, "Endpoint disabled.", ">disabled<", "Enable")
	p = b.post("/webhooks/rotate", url.Values{"id": {id}})
	must(t, p, http.StatusOK, "The new signing secret of http://127.0.0.1:9/hooks")
	if again := whsecRE.FindString(p.Body); again == "" || again == secret {
		t.Fatalf("rotating showed %q (the old was %q)", again, secret)
	}
	must(t, b.post("/webhooks", url.Values{"url": {"ftp://nowhere"}, "events": {"*"}}), http.StatusOK, `class="flash flash-error"`)
	p = b.post("/actions/delete_webhook", url.Values{"id": {id}, "back": {"/webhooks"}, "_done": {"Endpoint deleted."}})
	must(t, p, http.StatusOK, "Endpoint deleted.", "No webhook endpoints yet.")
}

// TestWebhookDeliveriesLive: a contact made on the dashboard is delivered to an endpoint;
// the deliveries table says it is pending (and refreshes) while the receiver holds the
// request, then shows it succeeded; its page shows the attempt, and Replay makes another.
func TestWebhookDeliveriesLive(t *testing.T) {
	t.Parallel()
	e := setupWork(t)
	hold := make(chan struct{})
	rc := newReceiver(t, nil, hold)
	b := e.owner("ada@example.com", "Acme")
	must(t, b.post("/webhooks", url.Values{"url": {rc.URL + "/in"}, "events": {"contact.created"}}), http.StatusOK, "whsec_")
	must(t, b.post("/actions/create_contact", url.Values{"email": {"bob@example.com"}, "back": {"/contacts"}}), http.StatusOK, "bob@example.com")

	p := b.await("/webhooks", "contact.created", `id="deliveries" data-live data-pending="true"`)
	must(t, p, http.StatusOK, rc.URL+"/in")
	if !strings.Contains(p.Body, ">pending<") {
		t.Fatalf("a held delivery is not pending:\n%s", p.Body)
	}
	close(hold)
	p = b.await("/webhooks", `data-pending="false"`, `class="status-succeeded">succeeded<`)
	links := hrefs(p.Body, "/webhooks/deliveries/")
	if len(links) != 1 {
		t.Fatalf("delivery links %q", links)
	}
	must(t, b.get(links[0]), http.StatusOK, `data-testid="delivery-status">succeeded<`, "ok from receiver", "<td>200</td>", "Replay")
	// The link works without the endpoint too.
	must(t, b.get(strings.Split(links[0], "?")[0]), http.StatusOK, "ok from receiver", `aria-current="page">Webhooks`)

	id := regexp.MustCompile(`/webhooks/deliveries/(whdl_[a-z2-7]+)\?endpoint=(whep_[a-z2-7]+)`).FindStringSubmatch(links[0])
	back := strings.ReplaceAll(regexp.MustCompile(`name="back" value="(/webhooks/deliveries/[^"]+)"`).FindStringSubmatch(b.get(links[0]).Body)[1], "&amp;", "&")
	if back != links[0]+"&awaiting=2" {
		t.Fatalf("the replay form goes back to %s", back)
	}
	p = b.post("/actions/replay_webhook_delivery", url.Values{"id": {id[2]}, "delivery_id": {id[1]}, "back": {back}, "_done": {"Replay sent."}})
	must(t, p, http.StatusOK, "Replay sent.")
	if p.URL != "/webhooks/deliveries/"+id[1] {
		t.Fatalf("replay went back to %s", p.URL)
	}
	// The page awaits the replayed attempt, refreshing until it shows.
	must(t, b.get(links[0]+"&awaiting=9"), http.StatusOK, `id="delivery-attempts" data-live data-pending="true"`)
	b.await(back, "<td>2</td>", "after 2 attempt(s)", `data-pending="false"`)
	if rc.count() != 2 {
		t.Fatalf("receiver got %d requests, want 2", rc.count())
	}
	must(t, b.get("/webhooks?status=failed"), http.StatusOK, "No deliveries match these filters.")
	must(t, b.get("/webhooks?endpoint="+id[2]+"&event_type=contact.created"), http.StatusOK, links[0][:40], `selected>`+rc.URL+"/in<")
	must(t, b.get("/webhooks?endpoint="+id[2]+"&event_type=deal.created"), http.StatusOK, "No deliveries match these filters.")
	must(t, b.get("/webhooks?status=lost"), http.StatusOK, `class="flash flash-error"`, "No deliveries match")
	must(t, b.get("/webhooks/deliveries/whdl_aaaaaaaaaaaaaaaaaaaaaaaaaa"), http.StatusNotFound, "There is no delivery")
}

// TestWebhookRetryingShowsNextAttempt: a failing receiver leaves the delivery retrying,
// with its next attempt's time and the failed attempt's status code.
func TestWebhookRetryingShowsNextAttempt(t *testing.T) {
	t.Parallel()
	e := setupWork(t)
	rc := newReceiver(t, func(int) int { return http.StatusInternalServerError }, nil)
	b := e.owner("ada@example.com", "Acme")
	must(t, b.post("/webhooks", url.Values{"url": {rc.URL}, "events": {"*"}}), http.StatusOK, "whsec_")
	must(t, b.post("/actions/create_contact", url.Values{"email": {"bob@example.com"}, "back": {"/contacts"}}), http.StatusOK)
	p := b.await("/webhooks", `class="status-retrying">retrying<`, `data-pending="true"`)
	if strings.Contains(p.Body, "<td>none</td>") {
		t.Fatalf("a retrying delivery shows no next retry:\n%s", p.Body)
	}
	must(t, b.get(hrefs(p.Body, "/webhooks/deliveries/")[0]), http.StatusOK, "<td>500</td>", "ok from receiver")
}

// TestWebhooksRefusedToMember: a member sees the webhooks but may not change them; the
// flash says why.
func TestWebhooksRefusedToMember(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("ada@example.com", "Acme")
	must(t, owner.post("/webhooks", url.Values{"url": {"http://127.0.0.1:9/hooks"}, "events": {"*"}}), http.StatusOK, "whsec_")
	member := joinAsMember(t, e, owner, "bob@example.com")
	p := member.get("/webhooks")
	must(t, p, http.StatusOK, "http://127.0.0.1:9/hooks", "Only owners and admins add and change webhook endpoints.")
	if strings.Contains(p.Body, "Rotate secret") {
		t.Fatalf("a member is offered management:\n%s", p.Body)
	}
	id := regexp.MustCompile(`value="(whep_[a-z2-7]+)"`).FindStringSubmatch(p.Body)[1]
	want := "Your role in this workspace (member) lets you read everything and change records, but not this."
	must(t, member.post("/webhooks", url.Values{"url": {"http://127.0.0.1:9/other"}, "events": {"*"}}), http.StatusOK, want)
	must(t, member.post("/actions/delete_webhook", url.Values{"id": {id}, "back": {"/webhooks"}}), http.StatusOK, want)
	must(t, member.post("/webhooks/rotate", url.Values{"id": {id}}), http.StatusOK, want)
	if p := owner.get("/webhooks"); strings.Contains(p.Body, "/other") || !strings.Contains(p.Body, "/hooks") {
		t.Fatalf("a member changed the endpoints:\n%s", p.Body)
	}
	// Automations and email are shown to members without their forms, and refused the same way.
	must(t, member.get("/automations"), http.StatusOK, "Only owners and admins create and change automations.")
	must(t, member.post("/automations", url.Values{
		"_json": {`{"name": "x", "trigger_event": "*", "actions": [{"type": "set_metadata", "key": "k", "value": 1}]}`}}),
		http.StatusForbidden, want, "No automations yet.")
	p = member.get("/email")
	must(t, p, http.StatusOK, "Not connected.")
	if strings.Contains(p.Body, "set_email_integration") {
		t.Fatalf("a member is offered the email integration:\n%s", p.Body)
	}
}

// joinAsMember invites address as a member of owner's workspace and signs them in there.
func joinAsMember(t *testing.T, e *env, owner *browser, address string) *browser {
	t.Helper()
	must(t, owner.post("/members/invite", url.Values{"email": {address}, "role": {"member"}}), http.StatusOK, "Invitation sent")
	link := linkIn(t, e, e.mailTo(address))
	b := e.signIn(address)
	u, _ := url.Parse(link)
	must(t, b.get(link), http.StatusOK)
	must(t, b.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusOK, "You joined the workspace.")
	return b
}
