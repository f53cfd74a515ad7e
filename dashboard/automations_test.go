package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAutomations: a rule written as JSON on the page is listed; bad JSON and a rule the
// capability refuses come back as a flash, writing nothing; a contact made on the
// dashboard runs the rule, whose page shows the run; pausing and deleting work.
func TestAutomations(t *testing.T) {
	t.Parallel()
	e := setupWork(t)
	b := e.owner("ada@example.com", "Acme")
	p := b.get("/automations")
	must(t, p, http.StatusOK, "No automations yet.", "Move to Replied on inbound email", `aria-current="page">Automations`)

	create := func(rule string) page { return b.post("/automations", url.Values{"_json": {rule}}) }
	p = create(`{"name": "broken"`)
	must(t, p, http.StatusUnprocessableEntity, "The JSON field is not a JSON object", "No automations yet.", `aria-invalid="true">{&#34;name&#34;: &#34;broken&#34;</textarea>`)
	must(t, create(`{"name": "Bad trigger", "trigger_event": "contact.exploded", "actions": [{"type": "set_metadata", "key": "k", "value": 1}]}`),
		http.StatusUnprocessableEntity, `class="flash flash-error"`, "No automations yet.", `&#34;Bad trigger&#34;`)
	p = create(`{"name": "Tag new contacts", "trigger_event": "contact.created",
		"actions": [{"type": "set_metadata", "key": "source", "value": "dashboard"}]}`)
	must(t, p, http.StatusOK, "Automation created", "<h1>Tag new contacts</h1>", "<code>contact.created</code>", "<dd>enabled</dd>")
	link, id := p.URL, strings.TrimPrefix(p.URL, "/automations/")
	must(t, b.get("/automations"), http.StatusOK, `<a href="`+link+`">Tag new contacts</a>`, "<td>enabled</td>")
	must(t, b.get(link), http.StatusOK, "No runs yet", `&#34;key&#34;: &#34;source&#34;`, `aria-current="page">Automations`)

	must(t, b.post("/actions/create_contact", url.Values{"email": {"bob@example.com"}, "back": {"/contacts"}}), http.StatusOK)
	p = b.await(link, `class="run-success">success<`, `data-pending="false"`)
	if !regexp.MustCompile(`set_metadata: contact <code>con_`).MatchString(p.Body) {
		t.Fatalf("the run does not show what it changed:\n%s", p.Body)
	}

	p = b.post("/actions/update_automation", url.Values{"id": {id}, "enabled": {"false"}, "back": {link}, "_done": {"Paused."}})
	must(t, p, http.StatusOK, "Paused.", "<dd>paused</dd>", "Enable")
	must(t, b.get("/automations"), http.StatusOK, "<td>paused</td>")
	p = b.post("/actions/delete_automation", url.Values{"id": {id}, "back": {"/automations"}, "_done": {"Deleted."}})
	must(t, p, http.StatusOK, "Deleted.", "No automations yet.")
	must(t, b.get(link), http.StatusNotFound)
}
