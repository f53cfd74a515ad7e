package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// schemaAct posts a /schema form to /actions/tool; fields are name, value pairs.
func schemaAct(b *browser, tool string, fields ...string) page {
	b.e.t.Helper()
	form := url.Values{"back": {"/schema"}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Add(fields[i], fields[i+1])
	}
	return b.post("/actions/"+tool, form)
}

// flashOK fails unless p landed on /schema with the notice text.
func flashOK(t *testing.T, p page, text string) {
	t.Helper()
	must(t, p, http.StatusOK, `<p class="flash" role="status">`+text+`</p>`)
}

// flashError fails unless p shows an error notice containing text.
func flashError(t *testing.T, p page, text string) {
	t.Helper()
	must(t, p, http.StatusOK, `<p class="flash flash-error" role="alert">`)
	if !strings.Contains(html.UnescapeString(p.Body), text) {
		t.Fatalf("the error lacks %q:\n%s", text, p.Body)
	}
}

// testids are the captures of data-testid="prefix(key)" in body, in order.
func testids(body, prefix string) []string {
	var keys []string
	for _, m := range regexp.MustCompile(`data-testid="`+regexp.QuoteMeta(prefix)+`([a-z0-9_-]+)"`).FindAllStringSubmatch(body, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// outcome is a stage's won/lost/open cell.
func outcome(t *testing.T, body, pipeline, stage string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="outcome-` + pipeline + `-` + stage + `">(\w+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no stage %s/%s:\n%s", pipeline, stage, body)
	}
	return m[1]
}

// button is the name and value of the submit button labelled aria.
func button(t *testing.T, body, aria string) (string, string) {
	t.Helper()
	m := regexp.MustCompile(`name="([^"]+)" value=(?:"([^"]*)"|'([^']*)') aria-label="` + regexp.QuoteMeta(aria) + `"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no button %q:\n%s", aria, body)
	}
	return m[1], html.UnescapeString(m[2] + m[3])
}

// click posts the form of stage's button labelled aria on /schema.
func clickStage(t *testing.T, b *browser, pipeline, stage, aria string) page {
	t.Helper()
	name, value := button(t, b.get("/schema").Body, aria)
	return schemaAct(b, "update_pipeline_stage", "pipeline", pipeline, "stage", stage, name, value, "_done", "Stage updated.")
}

func TestSchemaFields(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("fields@example.com", "Fields")
	p := b.get("/schema")
	must(t, p, http.StatusOK, `aria-current="page">Schema`, "No custom fields on contact records.", "No custom fields on activity records.")

	flashOK(t, schemaAct(b, "create_custom_field", "_done", "Custom field created.", "object_type", "contact", "key", "nickname",
		"label", "Nickname", "type", "text", "description", "What friends call them"), "Custom field created.")
	p = schemaAct(b, "create_custom_field", "_done", "Custom field created.", "object_type", "contact", "key", "plan",
		"label", "Plan", "type", "select", "options", "free, pro")
	flashOK(t, p, "Custom field created.")
	must(t, p, http.StatusOK, `data-testid="field-contact-nickname"`, "What friends call them", `data-testid="field-contact-plan"`, "<td>free, pro</td>")
	if got := testids(p.Body, "field-contact-"); !slices.Equal(got, []string{"nickname", "plan"}) {
		t.Fatalf("contact fields %v", got)
	}

	// The field is in force: a contact's plan must be one of its options.
	flashError(t, b.post("/actions/create_contact", url.Values{"back": {"/contacts"}, "email": {"x@example.com"}, "metadata": {`{"plan":"gold"}`}}), "plan")
	flashOK(t, b.post("/actions/create_contact", url.Values{"back": {"/contacts"}, "_done": {"Contact created."}, "email": {"x@example.com"},
		"metadata": {`{"plan":"pro"}`}}), "Contact created.")

	// Refused fields show the capability's error and write nothing.
	flashError(t, schemaAct(b, "create_custom_field", "object_type", "contact", "key", "Bad Key", "label", "Bad", "type", "text"), "key")
	flashError(t, schemaAct(b, "create_custom_field", "object_type", "contact", "key", "nickname", "label", "Again", "type", "text"), "nickname")
	flashError(t, schemaAct(b, "create_custom_field", "object_type", "deal", "key", "tier", "label", "Tier", "type", "select"), "options")
	p = b.get("/schema")
	if got := testids(p.Body, "field-"); !slices.Equal(got, []string{"contact-nickname", "contact-plan"}) {
		t.Fatalf("fields after refusals %v", got)
	}
	// The same key on another kind of record is another field.
	flashOK(t, schemaAct(b, "create_custom_field", "_done", "Custom field created.", "object_type", "deal", "key", "nickname",
		"label", "Deal nickname", "type", "text"), "Custom field created.")

	m := regexp.MustCompile(`(?s)data-testid="field-contact-nickname".*?name="id" value="(fld_[a-z2-7]+)"`).FindStringSubmatch(b.get("/schema").Body)
	if m == nil {
		t.Fatal("no delete form for the nickname field")
	}
	p = schemaAct(b, "delete_custom_field", "_done", "Custom field deleted.", "id", m[1])
	flashOK(t, p, "Custom field deleted.")
	if got := testids(p.Body, "field-"); !slices.Equal(got, []string{"contact-plan", "deal-nickname"}) {
		t.Fatalf("fields after delete %v", got)
	}
}

func TestSchemaPipelines(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("pipes@example.com", "Pipes")
	p := b.get("/schema")
	must(t, p, http.StatusOK, `data-testid="pipeline-sales"`, `<h3 id="pipe-sales">Sales <code>sales</code> <span class="badge" data-testid="default-pipeline">`)
	if got := testids(p.Body, "pipeline-"); !slices.Equal(got, []string{"sales"}) {
		t.Fatalf("pipelines %v", got)
	}

	flashOK(t, schemaAct(b, "create_pipeline", "_done", "Pipeline created.", "key", "partners", "label", "Partners"), "Pipeline created.")
	p = b.get("/schema")
	must(t, p, http.StatusOK, "No stages yet")
	if got := testids(p.Body, "pipeline-"); !slices.Equal(got, []string{"sales", "partners"}) {
		t.Fatalf("pipelines %v", got)
	}
	flashError(t, schemaAct(b, "create_pipeline", "key", "partners", "label", "Again"), "partners")
	flashError(t, schemaAct(b, "create_pipeline", "key", "Bad", "label", "Bad"), "key")

	flashOK(t, schemaAct(b, "update_pipeline", "_done", "Pipeline renamed.", "pipeline", "partners", "label", "Partner deals"), "Pipeline renamed.")
	name, value := button(t, b.get("/schema").Body, "Move up the pipeline partners")
	p = schemaAct(b, "update_pipeline", "pipeline", "partners", name, value)
	if got := testids(p.Body, "pipeline-"); !slices.Equal(got, []string{"partners", "sales"}) {
		t.Fatalf("pipelines after moving up %v", got)
	}
	must(t, p, http.StatusOK, `<h3 id="pipe-partners">Partner deals <code>partners</code></h3>`)

	p = schemaAct(b, "update_pipeline", "_done", "Default pipeline changed.", "pipeline", "partners", "is_default", "true")
	must(t, p, http.StatusOK, "Default pipeline changed.", `<h3 id="pipe-partners">Partner deals <code>partners</code> <span class="badge" data-testid="default-pipeline">`,
		`<h3 id="pipe-sales">Sales <code>sales</code></h3>`, `aria-label="Delete the pipeline sales"`)
	if strings.Contains(p.Body, `aria-label="Delete the pipeline partners"`) {
		t.Fatal("the default pipeline offers to delete it")
	}
	flashError(t, schemaAct(b, "delete_pipeline", "pipeline", "partners"), "default")

	flashOK(t, schemaAct(b, "update_pipeline", "_done", "Default pipeline changed.", "pipeline", "sales", "is_default", "true"), "Default pipeline changed.")
	p = schemaAct(b, "delete_pipeline", "_done", "Pipeline deleted.", "pipeline", "partners")
	flashOK(t, p, "Pipeline deleted.")
	if got := testids(p.Body, "pipeline-"); !slices.Equal(got, []string{"sales"}) {
		t.Fatalf("pipelines after delete %v", got)
	}
}

func TestSchemaStages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("stages@example.com", "Stages")
	order := func(p page, want ...string) {
		t.Helper()
		if got := testids(p.Body, "stage-sales-"); !slices.Equal(got, want) {
			t.Fatalf("stages %v, want %v", got, want)
		}
	}
	p := b.get("/schema")
	order(p, "lead", "qualified", "proposal", "won", "lost")
	for stage, want := range map[string]string{"lead": "open", "qualified": "open", "proposal": "open", "won": "won", "lost": "lost"} {
		if got := outcome(t, p.Body, "sales", stage); got != want {
			t.Errorf("stage %s is %s, want %s", stage, got, want)
		}
	}
	if strings.Contains(p.Body, `aria-label="Move up the stage lead"`) || strings.Contains(p.Body, `aria-label="Move down the stage lost"`) {
		t.Fatal("the first stage moves up or the last down")
	}

	order(clickStage(t, b, "sales", "proposal", "Move up the stage proposal"), "lead", "proposal", "qualified", "won", "lost")
	order(clickStage(t, b, "sales", "lead", "Move down the stage lead"), "proposal", "lead", "qualified", "won", "lost")

	p = schemaAct(b, "update_pipeline_stage", "_done", "Stage renamed.", "pipeline", "sales", "stage", "qualified", "label", "Qualified lead")
	flashOK(t, p, "Stage renamed.")
	must(t, p, http.StatusOK, `<td>Qualified lead</td><td><code>qualified</code></td>`)

	p = clickStage(t, b, "sales", "qualified", "Mark won: the stage qualified")
	if got := outcome(t, p.Body, "sales", "qualified"); got != "won" {
		t.Fatalf("qualified is %s after marking it won", got)
	}
	p = clickStage(t, b, "sales", "won", "Mark lost: the stage won")
	if got := outcome(t, p.Body, "sales", "won"); got != "lost" {
		t.Fatalf("won is %s after marking it lost", got)
	}
	p = clickStage(t, b, "sales", "lost", "Mark open (neither won nor lost): the stage lost")
	if got := outcome(t, p.Body, "sales", "lost"); got != "open" {
		t.Fatalf("lost is %s after marking it open", got)
	}

	flashOK(t, schemaAct(b, "create_pipeline_stage", "_done", "Stage created.", "pipeline", "sales", "key", "demo", "label", "Demo", "_json", ""), "Stage created.")
	p = schemaAct(b, "create_pipeline_stage", "_done", "Stage created.", "pipeline", "sales", "key", "churned", "label", "Churned", "_json", `{"is_lost":true}`)
	order(p, "proposal", "lead", "qualified", "won", "lost", "demo", "churned")
	if outcome(t, p.Body, "sales", "demo") != "open" || outcome(t, p.Body, "sales", "churned") != "lost" {
		t.Fatalf("new stages' outcomes:\n%s", p.Body)
	}
	flashError(t, schemaAct(b, "create_pipeline_stage", "pipeline", "sales", "key", "demo", "label", "Again"), "demo")
	flashError(t, schemaAct(b, "update_pipeline_stage", "pipeline", "sales", "stage", "demo", "_json", `{"is_won":true,"is_lost":true}`), "not both")
	order(b.get("/schema"), "proposal", "lead", "qualified", "won", "lost", "demo", "churned")

	p = schemaAct(b, "delete_pipeline_stage", "_done", "Stage deleted.", "pipeline", "sales", "stage", "demo")
	flashOK(t, p, "Stage deleted.")
	order(p, "proposal", "lead", "qualified", "won", "lost", "churned")
}

// TestSchemaReadOnlyForMembers: a member sees the schema without its forms, and a change
// posted anyway is refused by the capability.
func TestSchemaReadOnlyForMembers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.owner("boss@example.com", "Ranks")
	must(t, owner.post("/members/invite", url.Values{"email": {"staff@example.com"}, "role": {"member"}}), http.StatusOK, "Invitation sent")
	u, _ := url.Parse(linkIn(t, e, e.mailTo("staff@example.com")))
	staff := e.signIn("staff@example.com")
	must(t, staff.post("/invitations/accept", url.Values{"token": {u.Query().Get("token")}}), http.StatusOK, "You joined the workspace.")
	p := staff.get("/schema")
	must(t, p, http.StatusOK, `data-testid="stage-sales-lead"`)
	for _, form := range []string{"/actions/create_custom_field", "/actions/create_pipeline", "/actions/update_pipeline_stage", "/actions/delete_pipeline_stage"} {
		if strings.Contains(p.Body, form) {
			t.Errorf("a member's /schema has a form posting to %s", form)
		}
	}
	flashError(t, schemaAct(staff, "create_pipeline", "key", "mine", "label", "Mine"), "Ask an owner or admin")
	if got := testids(staff.get("/schema").Body, "pipeline-"); !slices.Equal(got, []string{"sales"}) {
		t.Fatalf("pipelines after a member's refused create %v", got)
	}
}
