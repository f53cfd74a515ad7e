package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
)

var (
	_ = page("GET /automations", (*Dashboard).automationsPage)
	_ = page("POST /automations", (*Dashboard).createAutomation)
	_ = page("GET /automations/{id}", (*Dashboard).automationPage)
)

// automationExample is the create form's placeholder, from docs/automations.md.
const automationExample = `{"name": "Move to Replied on inbound email", "trigger_event": "activity.created", "enabled": true,
  "conditions": [{"field": "type", "op": "eq", "value": "email"}],
  "actions": [{"type": "move_deal_stage", "stage": "replied"}]}`

// automationsPage lists the rules, newest first, a page at a time, with a form making one.
func (d *Dashboard) automationsPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d.showAutomations(w, r, v, http.StatusOK, "", "")
}

// createAutomation makes a rule from the form's JSON and shows it; a refused rule comes back
// in the form with the reason, so that nothing typed is lost.
func (d *Dashboard) createAutomation(w http.ResponseWriter, r *http.Request, v *visit) {
	e, _ := d.reg.Lookup("create_automation")
	args, ferr := formArgs(e, r)
	if ferr != nil {
		d.showAutomations(w, r, v, http.StatusUnprocessableEntity, r.PostFormValue("_json"), ferr.Error())
		return
	}
	rule, err := d.call(r, v, "create_automation", args)
	if err != nil {
		d.showAutomations(w, r, v, errStatus(err), r.PostFormValue("_json"), errorText(err))
		return
	}
	d.redirect(w, r, "/automations/"+url.PathEscape(str(rule["id"])), flash{Text: "Automation created: it acts on events from now on."})
}

// showAutomations renders the rules with draft in the create form and problem, why it was refused.
func (d *Dashboard) showAutomations(w http.ResponseWriter, r *http.Request, v *visit, status int, draft, problem string) {
	args := map[string]any{"limit": json.Number("50")}
	if c := r.URL.Query().Get("cursor"); c != "" {
		args["cursor"] = c
	}
	list, err := d.call(r, v, "list_automations", args)
	data := map[string]any{"List": list, "Example": automationExample, "Manage": v.canManage(), "Draft": draft, "Problem": problem}
	if err != nil {
		data["Error"] = errorText(err)
	}
	d.renderStatus(w, r, v, status, "automations", "Automations", data)
}

// automationPage shows one rule with its runs, newest first; the runs refresh themselves
// while any is pending.
func (d *Dashboard) automationPage(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PathValue("id")
	rule, err := d.call(r, v, "get_automation", map[string]any{"id": id})
	if err != nil {
		d.renderStatus(w, r, v, errStatus(err), "automations", "Automation", map[string]any{"Detail": true, "Error": errorText(err)})
		return
	}
	q := r.URL.Query()
	args := map[string]any{"id": id, "limit": json.Number("50")}
	if s := q.Get("status"); s != "" {
		args["status"] = s
	}
	if c := q.Get("cursor"); c != "" {
		args["cursor"] = c
	}
	data := map[string]any{"Detail": true, "Rule": rule, "Status": q.Get("status"), "Manage": v.canManage()}
	runs, rerr := d.call(r, v, "list_automation_runs", args)
	if rerr != nil {
		data["Error"] = errorText(rerr)
	}
	pending := false
	for _, run := range listData(runs) {
		pending = pending || str(run["status"]) == "pending"
	}
	data["Runs"], data["Pending"] = runs, pending
	d.render(w, r, v, "automations", str(rule["name"]), data)
}
