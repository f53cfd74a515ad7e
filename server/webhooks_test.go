package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// receiver is a webhook endpoint under test: it records what it is sent and answers with
// the status answer gives (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) int // n counts requests from 1
	delay  time.Duration
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		time.Sleep(rc.delay)
		status := 200
		if rc.answer != nil {
			status = rc.answer(n)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "ok from receiver")
	}))
	t.Cleanup(rc.Close)
	return rc
}

// wait returns the first n requests, failing after 10 s.
func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]received(nil), rc.got...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d requests in 10 s, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventually polls done for up to 5 s; the caller then checks what it saw.
func eventually(done func() bool) {
	for range 100 {
		if done() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deliver starts the delivery engine for e, with retries at once (the queue only runs
// scheduled jobs every few seconds; the schedule itself is tested in package webhooks).
func (e *env) deliver(t *testing.T, opts webhooks.Options) {
	t.Helper()
	opts.Payload = tools.EventPayload
	box, err := secrets.NewBox(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	opts.Open = tools.WebhookSecretOpener(box)
	opts.Version = "test"
	opts.Log = slog.New(slog.DiscardHandler)
	if opts.Retry == nil {
		opts.Retry = func(attempt int, failedAt time.Time) (time.Time, bool) {
			return failedAt, attempt < webhooks.MaxAttempts
		}
	}
	engine, err := webhooks.Start(context.Background(), e.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
}

// webhook creates an endpoint for key and returns its id and secret.
func (e *env) webhook(key, url string, events ...string) (id, secret string) {
	e.t.Helper()
	if len(events) == 0 {
		events = []string{"*"}
	}
	b := e.call("POST", "/v1/webhooks", key, map[string]any{"url": url, "events": events}).must(e.t, http.StatusCreated).Body
	return b["id"].(string), b["secret"].(string)
}

func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.call("POST", "/v1/webhooks", e.Live, map[string]any{"url": "https://hooks.example.com/relm", "events": []string{"contact.created", "deal.stage_changed"},
		"description": "CRM sync"}).must(t, http.StatusCreated).Body
	id, secret := b["id"].(string), b["secret"].(string)
	if !strings.HasPrefix(id, "whep_") || !strings.HasPrefix(secret, "whsec_") || len(secret) < len("whsec_")+32 || b["enabled"] != true || b["mode"] != "live" {
		t.Fatalf("create: %v", b)
	}
	if n := e.exec(`UPDATE webhook_endpoints SET url = url WHERE secret LIKE '%' || $1 || '%' OR secret NOT LIKE 'v1.%'`, secret[len("whsec_"):]); n != 0 {
		t.Fatal("the signing secret is stored in plain text")
	}
	got := e.call("GET", "/v1/webhooks/"+id, e.Live, nil).must(t, 200)
	if strings.Contains(string(got.Raw), "whsec_") || got.Body["description"] != "CRM sync" {
		t.Fatalf("get shows the secret or lost a field: %s", got.Raw)
	}
	if l := e.call("GET", "/v1/webhooks", e.Live, nil).must(t, 200); strings.Contains(string(l.Raw), "whsec_") || len(l.Body["data"].([]any)) != 1 {
		t.Fatalf("list: %s", l.Raw)
	}
	up := e.call("PATCH", "/v1/webhooks/"+id, e.Live, map[string]any{"events": []string{"*"}, "enabled": false, "description": nil}).must(t, 200).Body
	if up["enabled"] != false || up["description"] != nil || up["events"].([]any)[0] != "*" {
		t.Fatalf("update: %v", up)
	}
	rot := e.call("POST", "/v1/webhooks/"+id+"/rotate_secret", e.Live, nil).must(t, 200).Body
	if s2, _ := rot["secret"].(string); !strings.HasPrefix(s2, "whsec_") || s2 == secret {
		t.Fatalf("rotate: %v", rot)
	}
	// Bad input: refused, nothing written.
	expectError(t, e.call("POST", "/v1/webhooks", e.Live, map[string]any{"url": "https://hooks.example.com", "events": []string{"contact.creatd"}}),
		422, "validation_failed", "events.0")
	expectError(t, e.call("POST", "/v1/webhooks", e.Live, map[string]any{"url": "http://hooks.example.com", "events": []string{"*"}}),
		422, "validation_failed", "")
	expectError(t, e.call("POST", "/v1/webhooks", e.Live, map[string]any{"url": "https://127.0.0.1/x", "events": []string{"*"}}),
		422, "validation_failed", "")
	expectError(t, e.call("PATCH", "/v1/webhooks/"+id, e.Live, map[string]any{"url": "https://10.0.0.1/x"}), 422, "validation_failed", "")
	expectError(t, e.call("GET", "/v1/webhooks/whep_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, nil), 404, "not_found", "id")
	if l := e.call("GET", "/v1/webhooks", e.Live, nil).must(t, 200); len(l.Body["data"].([]any)) != 1 {
		t.Fatalf("a refused create wrote: %s", l.Raw)
	}
	// Test mode may use http and loopback, for local development; not other private addresses.
	e.webhook(e.Test, "http://127.0.0.1:9/hook")
	expectError(t, e.call("POST", "/v1/webhooks", e.Test, map[string]any{"url": "http://169.254.169.254/latest", "events": []string{"*"}}),
		422, "validation_failed", "")
	e.call("DELETE", "/v1/webhooks/"+id, e.Live, nil).must(t, 200)
	expectError(t, e.call("GET", "/v1/webhooks/"+id, e.Live, nil), 404, "not_found", "id")
}

// TestWebhookDelivery: an event reaches a matching endpoint as GET /v1/events/{id} shows
// it, signed so that Verify accepts it, with its id and type in headers; other modes' and
// unsubscribed types' events do not.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, nil)
	other := newReceiver(t, nil)
	id, secret := e.webhook(e.Test, rc.URL+"/hook", "contact.created")
	e.webhook(e.Test, other.URL+"/hook", "deal.created")
	contact := e.create("contacts", e.Test, map[string]any{"email": "hook@example.com"})
	e.call("PATCH", "/v1/contacts/"+contact, e.Test, map[string]any{"first_name": "Hook"}).must(t, 200) // contact.updated: not subscribed
	e.create("contacts", e.Live, map[string]any{"email": "live@example.com"})                           // live mode: not delivered
	got := rc.wait(t, 1)
	time.Sleep(300 * time.Millisecond)
	if got = rc.wait(t, 1); len(got) != 1 {
		t.Fatalf("receiver got %d deliveries, want 1", len(got))
	}
	d := got[0]
	evID := d.header.Get("relm-event-id")
	ev := e.call("GET", "/v1/events/"+evID, e.Test, nil).must(t, 200)
	if string(d.body) != string(ev.Raw) || d.header.Get("relm-event-type") != "contact.created" ||
		d.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(d.header.Get("User-Agent"), "Relm-Webhooks/") {
		t.Fatalf("delivery %v %s, want the event %s", d.header, d.body, ev.Raw)
	}
	if err := webhooks.Verify(d.header.Get("relm-signature"), d.body, secret, webhooks.DefaultTolerance, time.Now()); err != nil {
		t.Fatalf("signature: %v (%s)", err, d.header.Get("relm-signature"))
	}
	if len(other.wait(t, 0)) != 0 {
		t.Fatal("an endpoint got an event type it did not subscribe to")
	}
	list := e.call("GET", "/v1/webhooks/"+id+"/deliveries", e.Test, nil).must(t, 200).Body["data"].([]any)
	dl := list[0].(map[string]any)
	attempts := dl["attempts"].([]any)
	if len(list) != 1 || dl["status"] != "succeeded" || dl["event_id"] != evID || dl["attempt_count"] != 1.0 || len(attempts) != 1 ||
		attempts[0].(map[string]any)["status_code"] != 200.0 || attempts[0].(map[string]any)["response_body"] != "ok from receiver" {
		t.Fatalf("deliveries: %v", list)
	}
	expectError(t, e.call("GET", "/v1/webhooks/"+id+"/deliveries?status=sent", e.Test, nil), 422, "validation_failed", "status")
	if l := e.call("GET", "/v1/webhooks/"+id+"/deliveries?status=failed", e.Test, nil).must(t, 200); len(l.Body["data"].([]any)) != 0 {
		t.Fatalf("status filter: %s", l.Raw)
	}
}

// TestWebhookEndpointsFoundAsTheyChange: an event goes to the endpoints its tenant has when
// its transaction begins, whatever its earlier events found: nothing before the first
// endpoint, every event after it, nothing while it is disabled, and again once it is
// enabled. A tenant without one has its events wait for COMMIT, with no deliveries asked
// for (RecordEvents); every change of endpoints must flip that for the next write.
func TestWebhookEndpointsFoundAsTheyChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, nil)
	create := func(email string) {
		e.create("contacts", e.Test, map[string]any{"email": email})
	}
	create("before@example.com")
	id, _ := e.webhook(e.Test, rc.URL+"/hook", "contact.created")
	create("first@example.com")
	create("second@example.com")
	rc.wait(t, 2)
	e.call("PATCH", "/v1/webhooks/"+id, e.Test, map[string]any{"enabled": false}).must(t, 200)
	create("disabled@example.com")
	create("still@example.com")
	e.call("PATCH", "/v1/webhooks/"+id, e.Test, map[string]any{"enabled": true}).must(t, 200)
	create("again@example.com")
	rc.wait(t, 3)
	time.Sleep(300 * time.Millisecond)
	var emails []string
	for _, d := range rc.wait(t, 3) {
		ev := e.call("GET", "/v1/events/"+d.header.Get("relm-event-id"), e.Test, nil).must(t, 200).Body
		emails = append(emails, ev["data"].(map[string]any)["object"].(map[string]any)["email"].(string))
	}
	slices.Sort(emails)
	if want := []string{"again@example.com", "first@example.com", "second@example.com"}; !slices.Equal(emails, want) {
		t.Fatalf("delivered the contact.created events of %v, want %v", emails, want)
	}
}

// TestWebhookRetriesThenFails: failures are retried until the 8th attempt,
// then the delivery is failed, and a replay sends it once more.
func TestWebhookRetriesThenFails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, func(int) int { return 503 })
	id, _ := e.webhook(e.Test, rc.URL, "contact.created")
	e.create("contacts", e.Test, map[string]any{"email": "retry@example.com"})
	got := rc.wait(t, webhooks.MaxAttempts)
	for i := 1; i < len(got); i++ {
		if got[i].header.Get("relm-event-id") != got[0].header.Get("relm-event-id") {
			t.Fatal("a retry changed the event id")
		}
	}
	var dl map[string]any
	eventually(func() bool {
		dl = e.call("GET", "/v1/webhooks/"+id+"/deliveries", e.Test, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)
		return dl["status"] == "failed"
	})
	if dl["status"] != "failed" || dl["attempt_count"] != float64(webhooks.MaxAttempts) || dl["next_attempt_at"] != nil {
		t.Fatalf("after %d failures: %v", webhooks.MaxAttempts, dl)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.wait(t, 0)); n != webhooks.MaxAttempts {
		t.Fatalf("%d attempts, want %d", n, webhooks.MaxAttempts)
	}
	rc.answer = func(int) int { return 204 }
	r := e.call("POST", "/v1/webhooks/"+id+"/replay/"+dl["id"].(string), e.Test, nil).must(t, http.StatusAccepted)
	if r.Body["id"] != dl["id"] {
		t.Fatalf("replay: %v", r.Body)
	}
	rc.wait(t, webhooks.MaxAttempts+1)
	eventually(func() bool {
		dl = e.call("GET", "/v1/webhooks/"+id+"/deliveries/"+dl["id"].(string), e.Test, nil).must(t, 200).Body
		return dl["status"] == "succeeded"
	})
	if dl["status"] != "succeeded" || dl["attempt_count"] != float64(webhooks.MaxAttempts+1) {
		t.Fatalf("after a replay: %v", dl)
	}
	expectError(t, e.call("POST", "/v1/webhooks/"+id+"/replay/whdl_aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Test, nil), 404, "not_found", "")
}

// TestWebhookGoneDisables: a 410 disables the endpoint; nothing more is sent until it is
// enabled again.
func TestWebhookGoneDisables(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, func(int) int { return 410 })
	id, _ := e.webhook(e.Test, rc.URL, "contact.created")
	e.create("contacts", e.Test, map[string]any{"email": "gone@example.com"})
	rc.wait(t, 1)
	var ep map[string]any
	eventually(func() bool {
		ep = e.call("GET", "/v1/webhooks/"+id, e.Test, nil).must(t, 200).Body
		return ep["enabled"] == false
	})
	if ep["enabled"] != false || ep["disabled_reason"] == nil {
		t.Fatalf("after 410: %v", ep)
	}
	e.create("contacts", e.Test, map[string]any{"email": "gone2@example.com"})
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.wait(t, 0)); n != 1 {
		t.Fatalf("%d requests to a disabled endpoint's URL", n)
	}
	if ep = e.call("PATCH", "/v1/webhooks/"+id, e.Test, map[string]any{"enabled": true}).must(t, 200).Body; ep["disabled_reason"] != nil {
		t.Fatalf("enabled again: %v", ep)
	}
}

// TestWebhookRotationOverlap: after a rotation deliveries carry two signatures, the new
// secret's first, and both secrets verify.
func TestWebhookRotationOverlap(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, nil)
	id, old := e.webhook(e.Test, rc.URL, "contact.created")
	fresh := e.call("POST", "/v1/webhooks/"+id+"/rotate_secret", e.Test, nil).must(t, 200).Body["secret"].(string)
	e.create("contacts", e.Test, map[string]any{"email": "rotate@example.com"})
	d := rc.wait(t, 1)[0]
	sig := d.header.Get("relm-signature")
	if strings.Count(sig, "v1=") != 2 {
		t.Fatalf("signature during the overlap: %s", sig)
	}
	for _, s := range []string{fresh, old} {
		if err := webhooks.Verify(sig, d.body, s, webhooks.DefaultTolerance, time.Now()); err != nil {
			t.Fatalf("secret %s…: %v", s[:10], err)
		}
	}
	if first := strings.Split(sig, ",")[1]; webhooks.Sign(d.body, time.Unix(0, 0), fresh) == "" || !strings.HasPrefix(first, "v1=") {
		t.Fatalf("first v1: %s", first)
	}
	// The first v1 is the new secret's: the reference's one-signature check passes with it.
	tsPart := strings.Split(sig, ",")[0]
	single := tsPart + "," + strings.Split(sig, ",")[1]
	if err := webhooks.Verify(single, d.body, fresh, webhooks.DefaultTolerance, time.Now()); err != nil {
		t.Fatalf("the first v1 is not the new secret's: %v", err)
	}
}

// TestWebhookSlowEndpointIsolated: an endpoint that answers slowly holds only its share of
// the workers; another endpoint's deliveries go out meanwhile.
func TestWebhookSlowEndpointIsolated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{Workers: 6, PerEndpoint: 2})
	slow := newReceiver(t, nil)
	slow.delay = 2 * time.Second
	fast := newReceiver(t, nil)
	e.webhook(e.Test, slow.URL, "contact.created")
	e.webhook(e.Test, fast.URL, "contact.created")
	start := time.Now()
	for i := range 8 {
		e.create("contacts", e.Test, map[string]any{"email": "iso" + string(rune('a'+i)) + "@example.com"})
	}
	fast.wait(t, 8)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the fast endpoint waited %v behind the slow one", took)
	}
	if n := len(slow.wait(t, 0)); n > 4 {
		t.Fatalf("the slow endpoint had %d attempts under way, more than its share", n)
	}
}

// TestWebhookModesApart: a test-mode endpoint never hears of live events, nor the reverse.
func TestWebhookModesApart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.deliver(t, webhooks.Options{})
	rc := newReceiver(t, nil)
	e.webhook(e.Test, rc.URL)
	e.create("contacts", e.Live, map[string]any{"email": "live@example.com"})
	e.create("contacts", e.key("globex", auth.Test), map[string]any{"email": "other@example.com"})
	e.create("contacts", e.Test, map[string]any{"email": "test@example.com"})
	got := rc.wait(t, 1)
	time.Sleep(300 * time.Millisecond)
	if got = rc.wait(t, 1); len(got) != 1 || !strings.Contains(string(got[0].body), "test@example.com") {
		t.Fatalf("deliveries: %d", len(got))
	}
}

// TestWebhookEndpointsCapped: a workspace has at most 20 endpoints per mode, exactly, also
// when they are created at once; the other mode has its own.
func TestWebhookEndpointsCapped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 25)
	for i := range 25 {
		wg.Go(func() {
			statuses <- e.call("POST", "/v1/webhooks", e.Test, map[string]any{"url": "http://127.0.0.1:9/h" + string(rune('a'+i)), "events": []string{"*"}}).Status
		})
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if created != 20 {
		t.Fatalf("%d endpoints created under a cap of 20", created)
	}
	expectError(t, e.call("POST", "/v1/webhooks", e.Test, map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"*"}}), 409, "limit_reached", "")
	e.webhook(e.Live, "https://hooks.example.com/live")
}

// TestEventTypesAreSubscribable: every event type a workload records is one an endpoint can
// subscribe to, and every subscribable type is recorded by some write.
func TestEventTypesAreSubscribable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setPlan("acme", "team")
	company := e.create("companies", e.Live, map[string]any{"name": "Types Co"})
	contact := e.create("contacts", e.Live, map[string]any{"first_name": "Types", "company_id": company})
	deal := e.create("deals", e.Live, map[string]any{"title": "Types deal"})
	activity := e.create("activities", e.Live, map[string]any{"type": "note", "contact_id": contact})
	association := e.link(e.Live, "contact", contact, "deal", deal)
	field := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "tier", "label": "Tier", "type": "text"})
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "types", "label": "Types",
		"stages": []any{map[string]any{"key": "one", "label": "One"}}}).must(t, http.StatusCreated)
	e.call("POST", "/v1/pipelines/types/stages", e.Live, map[string]any{"key": "two", "label": "Two"}).must(t, http.StatusCreated)
	e.call("PATCH", "/v1/pipelines/types/stages/two", e.Live, map[string]any{"label": "Second"}).must(t, 200)
	e.call("PATCH", "/v1/pipelines/types", e.Live, map[string]any{"label": "Kinds"}).must(t, 200)
	for _, kind := range []string{"contacts", "companies", "deals", "activities"} {
		id := map[string]string{"contacts": contact, "companies": company, "deals": deal, "activities": activity}[kind]
		field := map[string]string{"contacts": "first_name", "companies": "name", "deals": "title", "activities": "subject"}[kind]
		e.call("PATCH", "/v1/"+kind+"/"+id, e.Live, map[string]any{field: "Changed"}).must(t, 200)
	}
	e.call("POST", "/v1/deals/"+deal+"/move_stage", e.Live, map[string]any{"stage": "won"}).must(t, 200)
	e.call("POST", "/v1/deals/"+deal+"/move_stage", e.Live, map[string]any{"pipeline": "types", "stage": "one"}).must(t, 200)
	e.call("DELETE", "/v1/associations/"+association, e.Live, nil).must(t, 200)
	e.call("DELETE", "/v1/schema/fields/"+field, e.Live, nil).must(t, 200)
	for _, p := range []string{"/v1/activities/" + activity, "/v1/deals/" + deal, "/v1/contacts/" + contact, "/v1/companies/" + company,
		"/v1/pipelines/types/stages/two", "/v1/pipelines/types"} {
		e.call("DELETE", p, e.Live, nil).must(t, 200)
	}
	e.call("POST", "/v1/emails", e.Test, map[string]any{"to": []string{"a@example.com"}, "subject": "Hi", "text": "x", "from": "b@example.com"}).must(t, 201)
	for _, kind := range []string{"contacts", "companies"} {
		field := map[string]string{"contacts": "first_name", "companies": "name"}[kind]
		into, from := e.create(kind, e.Live, map[string]any{field: "Merge"}), e.create(kind, e.Live, map[string]any{field: "Merged"})
		e.call("POST", "/v1/"+kind+"/"+into+"/merge", e.Live, map[string]any{"from": []string{from}}).must(t, 200)
	}
	seen := map[string]bool{}
	for _, key := range []string{e.Live, e.Test} {
		cursor := ""
		for {
			page := e.call("GET", "/v1/events?limit=200&cursor="+cursor, key, nil).must(t, 200).Body
			for _, ev := range page["data"].([]any) {
				seen[ev.(map[string]any)["type"].(string)] = true
			}
			if page["has_more"] != true {
				break
			}
			cursor = page["next_cursor"].(string)
		}
	}
	for typ := range seen {
		if !slices.Contains(tools.EventTypes, typ) {
			t.Errorf("%s is recorded but not in tools.EventTypes, so no endpoint can subscribe to it", typ)
		}
	}
	for _, typ := range tools.EventTypes {
		if !seen[typ] {
			t.Errorf("%s is in tools.EventTypes but this workload never recorded it: extend the workload or drop the type", typ)
		}
	}
}
