package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/server"
)

// sandbox creates a sandbox with key and returns its id and its key's secret.
func (e *env) sandbox(key string, body map[string]any) (id, secret string) {
	e.t.Helper()
	r := e.call("POST", "/v1/sandboxes", key, body).must(e.t, http.StatusCreated)
	k := r.Body["api_key"].(map[string]any)
	return r.Body["id"].(string), k["secret"].(string)
}

// TestSandboxStartsWithTheSchemaAndNoRecords: a sandbox has its parent's pipelines and
// custom fields of the creating key's mode, none of its records, and a test key that
// reaches only the sandbox.
func TestSandboxStartsWithTheSchemaAndNoRecords(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.call("POST", "/v1/pipelines", e.Live, map[string]any{"key": "renewals", "label": "Renewals",
		"stages": []any{map[string]any{"key": "due", "label": "Due"}, map[string]any{"key": "renewed", "label": "Renewed", "is_won": true}}}).must(t, http.StatusCreated)
	field := e.defineField(e.Live, map[string]any{"object_type": "contact", "key": "tier", "label": "Tier", "type": "select", "options": []string{"gold", "silver"}})
	parentContact := e.create("contacts", e.Live, map[string]any{"email": "ada@example.com", "metadata": map[string]any{"tier": "gold"}})
	e.defineField(e.Test, map[string]any{"object_type": "deal", "key": "test_only", "label": "Test only", "type": "text"})

	r := e.call("POST", "/v1/sandboxes", e.Live, map[string]any{"name": "CI run 42", "ttl_seconds": 3600}).must(t, http.StatusCreated)
	b := r.Body
	if !regexp.MustCompile(`^sbx_[a-z2-7]{26}$`).MatchString(b["id"].(string)) || b["object"] != "sandbox" || b["name"] != "CI run 42" ||
		b["plan"] != "free" || b["mode"] != "test" {
		t.Fatalf("sandbox: %s", r.Raw)
	}
	created, _ := time.Parse(time.RFC3339, b["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339, b["expires_at"].(string))
	if d := expires.Sub(created); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Fatalf("ttl: %v", d)
	}
	key := b["api_key"].(map[string]any)
	secret := key["secret"].(string)
	if !strings.HasPrefix(secret, "sk_test_") || key["mode"] != "test" || key["object"] != "api_key" || key["last4"] != secret[len(secret)-4:] {
		t.Fatalf("key: %v", key)
	}

	// The schema came along: the same pipelines and stages, the live fields (not the test
	// ones), which get ids of their own like everything made in the sandbox.
	if got, want := e.call("GET", "/v1/pipelines", secret, nil).must(t, 200).Body["data"], e.call("GET", "/v1/pipelines", e.Live, nil).must(t, 200).Body["data"]; toJSON(schemaOf(got)) != toJSON(schemaOf(want)) {
		t.Fatalf("pipelines:\nsandbox %s\nparent  %s", toJSON(got), toJSON(want))
	}
	fields := e.call("GET", "/v1/schema/fields", secret, nil).must(t, 200).Body["data"].([]any)
	if f := fields[0].(map[string]any); len(fields) != 1 || f["key"] != "tier" || f["id"] == field || toJSON(f["options"]) != `["gold","silver"]` {
		t.Fatalf("fields: %v", fields)
	}
	// No records, and none of the parent's reachable; the schema works for new ones.
	if n := len(e.call("GET", "/v1/contacts", secret, nil).must(t, 200).Body["data"].([]any)); n != 0 {
		t.Fatalf("a new sandbox holds %d contacts", n)
	}
	expectError(t, e.call("GET", "/v1/contacts/"+parentContact, secret, nil), 404, "not_found", "id")
	mine := e.create("contacts", secret, map[string]any{"email": "ada@example.com", "metadata": map[string]any{"tier": "silver"}})
	expectError(t, e.call("POST", "/v1/contacts", secret, map[string]any{"metadata": map[string]any{"tier": "bronze"}}), 422, "validation_failed", "")
	e.call("POST", "/v1/deals", secret, map[string]any{"title": "Renewal", "pipeline": "renewals", "stage": "due"}).must(t, http.StatusCreated)
	// The parent's keys, of either mode, do not see into it.
	for _, k := range []string{e.Live, e.Test} {
		expectError(t, e.call("GET", "/v1/contacts/"+mine, k, nil), 404, "not_found", "id")
	}
	if got := e.call("GET", "/v1/contacts/"+parentContact, e.Live, nil).must(t, 200).Body["metadata"].(map[string]any)["tier"]; got != "gold" {
		t.Fatalf("the parent's contact changed: %v", got)
	}
}

// schemaOf is v without what differs between a workspace's schema objects and their copies
// in a sandbox: timestamps and mode.
func schemaOf(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if k != "created_at" && k != "updated_at" && k != "mode" {
				out[k] = schemaOf(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = schemaOf(val)
		}
		return out
	}
	return v
}

// TestSandboxLifecycle: list, get and delete by the workspace and mode that made it;
// deleting removes its data and its keys stop working at once.
func TestSandboxLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	first, _ := e.sandbox(e.Live, nil)
	second, secret := e.sandbox(e.Live, map[string]any{"name": "second"})
	testMade, _ := e.sandbox(e.Test, nil)
	contact := e.create("contacts", secret, map[string]any{"email": "x@example.com"})

	list := e.call("GET", "/v1/sandboxes", e.Live, nil).must(t, 200).Body
	data := list["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["id"] != second || data[1].(map[string]any)["id"] != first || list["has_more"] != false {
		t.Fatalf("list: %v", list)
	}
	if d := e.call("GET", "/v1/sandboxes", e.Test, nil).must(t, 200).Body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != testMade {
		t.Fatalf("the test key's list: %v", d)
	}
	if got := e.call("GET", "/v1/sandboxes/"+second, e.Live, nil).must(t, 200).Body; got["name"] != "second" || got["api_key"] != nil {
		t.Fatalf("get: %v", got)
	}
	// Another workspace, the other mode and the sandbox itself cannot reach it.
	for _, k := range []string{e.Other, e.Test, secret} {
		expectError(t, e.call("GET", "/v1/sandboxes/"+second, k, nil), 404, "not_found", "id")
		expectError(t, e.call("DELETE", "/v1/sandboxes/"+second, k, nil), 404, "not_found", "id")
	}
	expectError(t, e.call("GET", "/v1/sandboxes/not-an-id", e.Live, nil), 404, "not_found", "id")

	del := e.call("DELETE", "/v1/sandboxes/"+second, e.Live, nil).must(t, 200).Body
	if del["id"] != second || del["object"] != "sandbox" || del["deleted"] != true {
		t.Fatalf("delete: %v", del)
	}
	expectError(t, e.call("GET", "/v1/contacts/"+contact, secret, nil), 401, "unauthorized", "")
	expectError(t, e.call("GET", "/v1/sandboxes/"+second, e.Live, nil), 404, "not_found", "id")
	expectError(t, e.call("DELETE", "/v1/sandboxes/"+second, e.Live, nil), 404, "not_found", "id")
	if n := e.exec(`DELETE FROM contacts WHERE workspace_id = $1`, second); n != 0 {
		t.Fatalf("%d contacts outlived their sandbox", n)
	}
	if d := e.call("GET", "/v1/sandboxes", e.Live, nil).must(t, 200).Body["data"].([]any); len(d) != 1 {
		t.Fatalf("list after delete: %v", d)
	}
}

// TestSandboxRefusals: bad input, a plan above the parent's, a sandbox making sandboxes
// and the cap each get a clear error and make nothing.
func TestSandboxRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{map[string]any{"ttl_seconds": 59}, "ttl_seconds"},
		{map[string]any{"ttl_seconds": 604801}, "ttl_seconds"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": strings.Repeat("x", 101)}, "name"},
		{map[string]any{"plan": "enterprise"}, "plan"},
		{map[string]any{"mode": "live"}, "mode"},
	} {
		expectError(t, e.call("POST", "/v1/sandboxes", e.Live, c.body), 422, "validation_failed", c.param)
	}
	plan := expectError(t, e.call("POST", "/v1/sandboxes", e.Live, map[string]any{"plan": "team"}), 403, "plan_required", "plan")
	if toJSON(plan["valid_options"]) != `["free"]` || !strings.Contains(plan["message"].(string), "free plan") {
		t.Fatalf("plan refusal: %v", plan)
	}
	if n := e.exec(`UPDATE workspaces SET name = name WHERE parent_id IS NOT NULL`); n != 0 {
		t.Fatalf("refused requests made %d sandboxes", n)
	}

	// On Team, a sandbox may be on Team or Free, and takes Team by default.
	e.setPlan("acme", "team")
	if _, s := e.sandbox(e.Live, nil); e.call("GET", "/v1/usage", s, nil).must(t, 200).Body["plan"] != "team" {
		t.Fatal("a Team workspace's sandbox is not on Team")
	}
	id, secret := e.sandbox(e.Live, map[string]any{"plan": "free"})
	if got := e.call("GET", "/v1/sandboxes/"+id, e.Live, nil).must(t, 200).Body["plan"]; got != "free" {
		t.Fatalf("plan %v", got)
	}
	// A sandbox's key cannot make sandboxes, on either surface.
	expectError(t, e.call("POST", "/v1/sandboxes", secret, nil), 403, "forbidden", "")
	expectToolError(t, e.rpc(secret, toolCall("create_sandbox", `{}`)), "forbidden")
	if d := e.call("GET", "/v1/sandboxes", secret, nil).must(t, 200).Body["data"].([]any); len(d) != 0 {
		t.Fatalf("a sandbox lists sandboxes: %v", d)
	}

	// At most 50 at once per workspace, both modes together, exactly under concurrent
	// creations (two exist); expired ones do not count.
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			key := e.Live
			if i%2 == 1 {
				key = e.Test
			}
			r := e.call("POST", "/v1/sandboxes", key, nil)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			if r.Status == 409 && !strings.Contains(string(r.Raw), "50 sandboxes") {
				t.Errorf("limit: %s", r.Raw)
			}
		})
	}
	wg.Wait()
	if statuses[201] != 48 || statuses[409] != 12 {
		t.Fatalf("60 concurrent creations with 2 sandboxes made: %v", statuses)
	}
	expectError(t, e.call("POST", "/v1/sandboxes", e.Live, nil), 409, "limit_reached", "")
	e.exec(`UPDATE workspaces SET expires_at = now() - interval '1 second' WHERE id = $1`, id)
	e.sandbox(e.Live, nil)
}

// TestSandboxExpiry: an expired sandbox's key stops working and the purge deletes it with
// its data.
func TestSandboxExpiry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id, secret := e.sandbox(e.Live, map[string]any{"ttl_seconds": 60})
	keep, keepSecret := e.sandbox(e.Live, nil)
	e.exec(`UPDATE workspaces SET expires_at = now() - interval '1 second' WHERE id = $1`, id)
	expectError(t, e.call("GET", "/v1/contacts", secret, nil), 401, "unauthorized", "")
	expectError(t, e.call("GET", "/v1/sandboxes/"+id, e.Live, nil), 404, "not_found", "id")
	n, err := e.Store.PurgeSandboxes(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("purged %d: %v", n, err)
	}
	if left := e.exec(`UPDATE workspaces SET name = name WHERE id IN ($1, $2)`, id, keep); left != 1 {
		t.Fatalf("%d of the two sandboxes left", left)
	}
	e.call("GET", "/v1/contacts", keepSecret, nil).must(t, 200)
}

// TestSandboxSharesItsParentsRateLimit: a sandbox's requests count toward its parent's
// test-mode workspace window, not toward the live quota.
func TestSandboxSharesItsParentsRateLimit(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 100, WorkspaceRateLimit: 6, RateWindow: longWindow}))
	_, secret := e.sandbox(e.Test, nil) // 1 of the test window
	for range 4 {
		e.call("GET", "/v1/contacts", secret, nil).must(t, 200)
	}
	e.call("GET", "/v1/contacts", e.Test, nil).must(t, 200) // 6 of 6
	res := e.call("GET", "/v1/contacts", secret, nil)
	if body := expectError(t, res, 429, "rate_limited", ""); !strings.Contains(body["message"].(string), "workspace's test keys") {
		t.Fatalf("refusal: %v", body)
	}
	expectError(t, e.call("GET", "/v1/contacts", e.Test, nil), 429, "rate_limited", "")
	e.call("GET", "/v1/contacts", e.Live, nil).must(t, 200) // live has its own window
	e.flush()
	if n := e.exec(`UPDATE workspace_rate_windows SET count = count WHERE workspace_id = $1 AND mode = 'test' AND count = 6`, e.workspaceID("acme")); n != 1 {
		t.Fatal("the parent's test window did not count the sandbox's requests")
	}
	if n := e.exec(`UPDATE usage_counters SET count = count WHERE workspace_id = $1 AND count > 1`, e.workspaceID("acme")); n != 0 {
		t.Fatal("sandbox requests counted toward the live quota")
	}
}

// TestSandboxNamesAreSafe: a name is stored and returned as given, whatever it holds.
func TestSandboxNamesAreSafe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i, name := range []string{`'; DROP TABLE workspaces; --`, "Ünïcode ✓", fmt.Sprint("run ", 7)} {
		id, _ := e.sandbox(e.Live, map[string]any{"name": name})
		if got := e.call("GET", "/v1/sandboxes/"+id, e.Live, nil).must(t, 200).Body["name"]; got != name {
			t.Fatalf("%d: name %q", i, got)
		}
	}
}
