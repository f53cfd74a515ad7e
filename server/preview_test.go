package server_test

import (
	"net/http"
	"slices"
	"testing"
)

// preview_change runs a write for real and rolls it back: it answers the tool's result, the
// events it would record and what they would trigger, and nothing is kept, delivered or run.
func TestPreviewChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "p@x.com", "first_name": "Ada"})
	webhook, _ := e.webhook(e.Live, "https://hooks.example.com/preview", "contact.updated")
	e.webhook(e.Live, "https://hooks.example.com/other", "deal.created")
	automation := e.call("POST", "/v1/automations", e.Live, map[string]any{"name": "P", "trigger_event": "contact.updated",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}).must(t, http.StatusCreated).Body["id"].(string)
	before := e.written(e.Live)
	events := e.count("events", e.Live)
	runs := e.call("GET", "/v1/automations/"+automation+"/runs", e.Live, nil).must(t, 200).Raw

	r := e.call("POST", "/v1/previews", e.Live, map[string]any{"tool": "update_contact", "arguments": map[string]any{"id": con, "first_name": "Grace"}}).must(t, 200)
	res := r.Body["result"].(map[string]any)
	if r.Body["object"] != "preview" || res["first_name"] != "Grace" || res["version"] != float64(2) {
		t.Fatalf("preview: %s", r.Raw)
	}
	evs := r.Body["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["type"] != "contact.updated" {
		t.Fatalf("events: %v", evs)
	}
	if !slices.Equal(strs(r.Body["webhook_endpoint_ids"]), []string{webhook}) || !slices.Equal(strs(r.Body["automation_ids"]), []string{automation}) {
		t.Fatalf("triggers: %s", r.Raw)
	}
	m := e.rpc(e.Live, toolCall("preview_change", `{"tool":"create_contact","arguments":{"email":"new@x.com"}}`))
	if m.Status != 200 || m.Body["result"].(map[string]any)["isError"] == true {
		t.Fatalf("preview over MCP: %s", m.Raw)
	}
	if after := e.written(e.Live); after != before {
		t.Fatalf("a preview wrote:\nbefore %s\nafter  %s", before, after)
	}
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("a preview recorded %d events", n-events)
	}
	if got := e.call("GET", "/v1/automations/"+automation+"/runs", e.Live, nil).must(t, 200).Raw; string(got) != string(runs) {
		t.Fatalf("a preview started runs: %s", got)
	}
	if d := e.call("GET", "/v1/webhooks/"+webhook+"/deliveries", e.Live, nil).must(t, 200).Body["data"].([]any); len(d) != 0 {
		t.Fatalf("a preview queued deliveries: %v", d)
	}
}

// A preview the tool would refuse fails as the tool would; tools that cannot be previewed
// are named; an idempotency key is refused. Nothing is written.
func TestPreviewRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "r@x.com"})
	before := e.written(e.Live)
	events := e.count("events", e.Live)
	preview := func(tool string, args map[string]any) resp {
		return e.call("POST", "/v1/previews", e.Live, map[string]any{"tool": tool, "arguments": args})
	}
	expectError(t, preview("update_contact", map[string]any{"id": con, "email": "not an email"}), http.StatusUnprocessableEntity, "validation_failed", "email")
	expectError(t, preview("update_contact", map[string]any{"id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "first_name": "X"}), http.StatusNotFound, "not_found", "id")
	for _, tool := range []string{"send_email", "get_contact", "create_custom_field", "create_api_key", "preview_change", "update_contct"} {
		expectError(t, preview(tool, map[string]any{}), http.StatusUnprocessableEntity, "validation_failed", "tool")
	}
	if e := expectError(t, preview("update_contct", map[string]any{}), http.StatusUnprocessableEntity, "validation_failed", "tool"); e["suggestion"] != "update_contact" {
		t.Fatalf("suggestion: %v", e)
	}
	expectToolError(t, e.rpc(e.Live, toolCall("preview_change", `{"tool":"send_email","arguments":{}}`)), "validation_failed")
	r := e.do("POST", "/v1/previews", e.Live, []byte(`{"tool":"create_contact","arguments":{"email":"k@x.com"}}`), "Idempotency-Key", "k1")
	expectError(t, r, http.StatusBadRequest, "bad_request", "Idempotency-Key")
	if after := e.written(e.Live); after != before {
		t.Fatalf("a refused preview wrote:\nbefore %s\nafter  %s", before, after)
	}
	if n := e.count("events", e.Live); n != events {
		t.Fatalf("a refused preview recorded %d events", n-events)
	}
}
