package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/automations"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
)

// automate starts a job runner working e's automation runs (and deliveries), as relm serve does.
func (e *env) automate(t *testing.T) {
	t.Helper()
	box, err := secrets.NewBox(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	runner := &automations.Runner{Store: e.Store, Registry: e.Srv.Registry, Log: slog.New(slog.DiscardHandler)}
	engine, err := webhooks.Start(context.Background(), e.Store, webhooks.Options{Payload: tools.EventPayload, Open: tools.WebhookSecretOpener(box),
		Version: "test", Log: slog.New(slog.DiscardHandler), Others: []webhooks.Work{{Queue: "automations", Workers: 4, Add: runner.Register}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
}

// runs waits until rule has at least n runs and none is pending, and returns them, newest first.
func (e *env) runs(t *testing.T, key, rule string, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		out = out[:0]
		done := 0
		for _, r := range e.call("GET", "/v1/automations/"+rule+"/runs?limit=200", key, nil).must(t, 200).Body["data"].([]any) {
			run := r.(map[string]any)
			out = append(out, run)
			if run["status"] != "pending" {
				done++
			}
		}
		if done >= n && done == len(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("rule %s: %d of %d runs finished in 10 s: %v", rule, done, n, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAutomationReferenceExample: the reference's example body is accepted as written (once
// the stage it names exists) and moves the deal of an inbound email's activity, attributed
// to the rule.
func TestAutomationReferenceExample(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.automate(t)
	example := `{ "name": "Move to Replied on inbound email", "trigger_event": "activity.created", "enabled": true, "conditions": [{ "field": "type", "op": "eq", "value": "email" }], "actions": [{ "type": "move_deal_stage", "stage": "replied" }] }`
	expectError(t, e.do("POST", "/v1/automations", e.Test, []byte(example)), 422, "validation_failed", "actions.0.stage")
	e.call("POST", "/v1/pipelines/sales/stages", e.Test, map[string]any{"key": "replied", "label": "Replied"}).must(t, http.StatusCreated)
	rule := e.do("POST", "/v1/automations", e.Test, []byte(example)).must(t, http.StatusCreated).Body
	id := rule["id"].(string)
	if !strings.HasPrefix(id, "auto_") || rule["trigger_event"] != "activity.created" || rule["enabled"] != true {
		t.Fatalf("created: %v", rule)
	}
	deal := e.create("deals", e.Test, map[string]any{"title": "Pilot"})
	e.create("activities", e.Test, map[string]any{"type": "note", "deal_id": deal}) // conditions do not hold
	e.create("activities", e.Test, map[string]any{"type": "email", "deal_id": deal})
	runs := e.runs(t, e.Test, id, 2)
	if runs[0]["status"] != "success" || runs[1]["status"] != "skipped" || runs[1]["reason"] == nil {
		t.Fatalf("runs: %v", runs)
	}
	if got := e.call("GET", "/v1/deals/"+deal, e.Test, nil).must(t, 200).Body; got["stage"] != "replied" {
		t.Fatalf("deal: %v", got)
	}
	ev := e.lastEvent(e.Test, "deal.stage_changed")
	caused, _ := ev["caused_by"].(map[string]any)
	if caused["automation_id"] != id || caused["run_id"] != runs[0]["id"] || ev["depth"] != 1.0 {
		t.Fatalf("the stage change is not attributed to the rule: %v", ev)
	}
	results := runs[0]["results"].([]any)
	if len(results) != 1 || results[0].(map[string]any)["id"] != deal {
		t.Fatalf("results: %v", results)
	}
}

// TestAutomationValidation: rules that cannot work are refused precisely, and nothing is written.
func TestAutomationValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	base := func(mod func(map[string]any)) map[string]any {
		r := map[string]any{"name": "R", "trigger_event": "contact.created",
			"conditions": []any{map[string]any{"field": "email", "op": "eq", "value": "a@example.com"}},
			"actions":    []any{map[string]any{"type": "create_activity", "activity_type": "task"}}}
		mod(r)
		return r
	}
	cond := func(c map[string]any) func(map[string]any) {
		return func(r map[string]any) { r["conditions"] = []any{c} }
	}
	action := func(a map[string]any) func(map[string]any) {
		return func(r map[string]any) { r["actions"] = []any{a} }
	}
	for _, c := range []struct {
		name, param string
		mod         func(map[string]any)
		options     bool
	}{
		{"unknown trigger", "trigger_event", func(r map[string]any) { r["trigger_event"] = "contact.craeted" }, true},
		{"unknown op", "conditions.0.op", cond(map[string]any{"field": "email", "op": "like", "value": "x"}), true},
		{"field the record lacks", "conditions.0.field", cond(map[string]any{"field": "stage", "op": "eq", "value": "won"}), true},
		{"in without a list", "conditions.0.value", cond(map[string]any{"field": "email", "op": "in", "value": "a@example.com"}), false},
		{"no value", "conditions.0.value", cond(map[string]any{"field": "email", "op": "eq"}), false},
		{"unknown action", "actions.0.type", action(map[string]any{"type": "delete_deal"}), true},
		{"unknown activity type", "actions.0.activity_type", action(map[string]any{"type": "create_activity", "activity_type": "fax"}), true},
		{"no such stage", "actions.0.stage", action(map[string]any{"type": "move_deal_stage", "stage": "replied"}), true},
		{"no such pipeline", "actions.0.pipeline", action(map[string]any{"type": "move_deal_stage", "stage": "won", "pipeline": "nope"}), true},
		{"bad target", "actions.0.target", action(map[string]any{"type": "set_metadata", "target": "event", "key": "k", "value": 1}), true},
		{"email without body", "actions.0.html or text", action(map[string]any{"type": "send_email", "to": "a@example.com", "subject": "x"}), false},
	} {
		body := expectError(t, e.call("POST", "/v1/automations", e.Test, base(c.mod)), 422, "validation_failed", c.param)
		if c.options && body["valid_options"] == nil {
			t.Errorf("%s: no valid_options: %v", c.name, body)
		}
	}
	if n := len(e.call("GET", "/v1/automations", e.Test, nil).must(t, 200).Body["data"].([]any)); n != 0 {
		t.Fatalf("refused rules were written: %d", n)
	}
	// deal.stage_changed offers its data's fields and old values.
	e.call("POST", "/v1/automations", e.Test, map[string]any{"name": "Won", "trigger_event": "deal.stage_changed",
		"conditions": []any{map[string]any{"field": "new_stage", "op": "in", "value": []string{"won"}},
			map[string]any{"field": "previous_attributes.stage", "op": "exists"}},
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "task"}}}).must(t, http.StatusCreated)
}

// TestAutomationTriggersOperatorsActions: every trigger form, operator and action.
func TestAutomationTriggersOperatorsActions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.automate(t)
	rule := func(trigger string, conds []any, actions ...any) string {
		if conds == nil {
			conds = []any{}
		}
		return e.call("POST", "/v1/automations", e.Test, map[string]any{"name": trigger, "trigger_event": trigger,
			"conditions": conds, "actions": actions}).must(t, http.StatusCreated).Body["id"].(string)
	}
	c := func(field, op string, value any) map[string]any {
		m := map[string]any{"field": field, "op": op}
		if value != nil {
			m["value"] = value
		}
		return m
	}
	all := rule("*", []any{c("metadata.source", "eq", "web"), c("email", "contains", "EXAMPLE"), c("phone", "exists", false),
		c("first_name", "in", []any{"Ada", "Bob"}), c("last_name", "neq", "Smith")},
		map[string]any{"type": "set_metadata", "key": "tagged", "value": true})
	kind := rule("contact.*", []any{c("metadata.source", "eq", "web")},
		map[string]any{"type": "create_activity", "activity_type": "note", "subject": "From the web"})
	exact := rule("contact.created", nil, map[string]any{"type": "send_email", "to": "owner@example.com", "subject": "New contact",
		"text": "A contact was created.", "from": "crm@example.com"})
	contact := e.create("contacts", e.Test, map[string]any{"email": "ada@example.com", "first_name": "Ada", "metadata": map[string]any{"source": "web"}})
	e.runs(t, e.Test, all, 1)
	e.runs(t, e.Test, kind, 2) // contact.created, and the contact.updated the * rule's set_metadata records
	e.runs(t, e.Test, exact, 1)
	got := e.call("GET", "/v1/contacts/"+contact, e.Test, nil).must(t, 200).Body
	if got["metadata"].(map[string]any)["tagged"] != true || len(got["recent_activities"].([]any)) != 2 {
		t.Fatalf("contact after the rules: %v", got)
	}
	emails := e.call("GET", "/v1/emails", e.Test, nil).must(t, 200).Body["data"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["status"] != "simulated" {
		t.Fatalf("emails: %v", emails)
	}
	// A contact that breaks a condition of the * rule: skipped, saying which.
	e.create("contacts", e.Test, map[string]any{"email": "bob@example.com", "first_name": "Bob", "last_name": "Smith", "metadata": map[string]any{"source": "web"}})
	time.Sleep(300 * time.Millisecond)
	runs := e.runs(t, e.Test, all, 2)
	skipped := 0
	for _, r := range runs {
		if r["status"] == "skipped" && strings.Contains(r["reason"].(string), "last_name") {
			skipped++
		}
	}
	if skipped == 0 {
		t.Fatalf("runs of the * rule: %v", runs)
	}
}

// TestAutomationLoopGuard: two rules that would update each other's record forever stop at
// depth 2, recording skipped runs that name the loop guard.
func TestAutomationLoopGuard(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.automate(t)
	for _, flip := range [][2]string{{"a", "b"}, {"b", "a"}} { // each undoes what the other did
		e.call("POST", "/v1/automations", e.Test, map[string]any{"name": "to " + flip[1], "trigger_event": "contact.updated",
			"conditions": []any{map[string]any{"field": "metadata.state", "op": "eq", "value": flip[0]}},
			"actions":    []any{map[string]any{"type": "set_metadata", "key": "state", "value": flip[1]}}}).must(t, http.StatusCreated)
	}
	contact := e.create("contacts", e.Test, map[string]any{"email": "loop@example.com"})
	e.call("PATCH", "/v1/contacts/"+contact, e.Test, map[string]any{"metadata": map[string]any{"state": "a"}}).must(t, 200)
	time.Sleep(time.Second)
	rules := e.call("GET", "/v1/automations", e.Test, nil).must(t, 200).Body["data"].([]any)
	total, guarded := 0, 0
	for _, r := range rules {
		for _, run := range e.runs(t, e.Test, r.(map[string]any)["id"].(string), 3) {
			total++
			if run["status"] == "skipped" && strings.Contains(run["reason"].(string), "loop guard") {
				guarded++
			}
		}
	}
	// The API's update (depth 0) and the two automated ones (depths 1 and 2) each reach both
	// rules; at depth 2 both runs are stopped by the guard.
	if total != 6 || guarded != 2 {
		t.Fatalf("%d runs, %d stopped by the loop guard; want 6 and 2", total, guarded)
	}
	if ev := e.lastEvent(e.Test, "contact.updated"); ev["depth"] != 2.0 {
		t.Fatalf("the last update: %v", ev)
	}
}

// TestAutomationActionFailureRollsBack: a failing action records error with its index and
// reason, and the run's earlier changes are rolled back.
func TestAutomationActionFailureRollsBack(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.automate(t)
	id := e.call("POST", "/v1/automations", e.Test, map[string]any{"name": "Broken", "trigger_event": "contact.created",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "task", "subject": "First"},
			map[string]any{"type": "move_deal_stage", "stage": "won"}}}).must(t, http.StatusCreated).Body["id"].(string)
	contact := e.create("contacts", e.Test, map[string]any{"email": "fail@example.com"})
	run := e.runs(t, e.Test, id, 1)[0]
	if run["status"] != "error" || run["failed_action"] != 1.0 || !strings.Contains(run["reason"].(string), "no deal") {
		t.Fatalf("run: %v", run)
	}
	if acts := e.call("GET", "/v1/contacts/"+contact, e.Test, nil).must(t, 200).Body["recent_activities"].([]any); len(acts) != 0 {
		t.Fatalf("the first action's activity survived the failed run: %v", acts)
	}
	// A custom field the action breaks is a validation failure of the action.
	e.defineField(e.Test, map[string]any{"object_type": "contact", "key": "score", "label": "Score", "type": "number"})
	bad := e.call("POST", "/v1/automations", e.Test, map[string]any{"name": "Typed", "trigger_event": "contact.updated",
		"actions": []any{map[string]any{"type": "set_metadata", "key": "score", "value": "high"}}}).must(t, http.StatusCreated).Body["id"].(string)
	e.call("PATCH", "/v1/contacts/"+contact, e.Test, map[string]any{"first_name": "Typed"}).must(t, 200)
	if run := e.runs(t, e.Test, bad, 1)[0]; run["status"] != "error" || !strings.Contains(run["reason"].(string), "validation_failed") {
		t.Fatalf("custom-field run: %v", run)
	}
}

// TestAutomationExactlyOnce: with several runners working at once, each rule acts on each
// event once.
func TestAutomationExactlyOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.automate(t)
	e.automate(t) // a second process
	id := e.call("POST", "/v1/automations", e.Test, map[string]any{"name": "Note", "trigger_event": "contact.created",
		"actions": []any{map[string]any{"type": "create_activity", "activity_type": "note"}}}).must(t, http.StatusCreated).Body["id"].(string)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			e.create("contacts", e.Test, map[string]any{"email": "once" + string(rune('a'+i)) + "@example.com"})
		})
	}
	wg.Wait()
	runs := e.runs(t, e.Test, id, 20)
	if len(runs) != 20 {
		t.Fatalf("%d runs for 20 events", len(runs))
	}
	if n := len(e.call("GET", "/v1/activities?limit=200", e.Test, nil).must(t, 200).Body["data"].([]any)); n != 20 {
		t.Fatalf("%d activities for 20 events, want 20", n)
	}
}
