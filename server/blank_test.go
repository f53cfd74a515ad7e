package server_test

import (
	"net/http"
	"testing"
)

// TestBlankValuesDoNotCount refuses, on both surfaces, every required or identifying
// string given as "" or only whitespace (or invisible characters): a contact's
// identifying fields, names, titles, labels, stage keys, select options and the search
// query. Each answer is 422 validation_failed naming the field, and nothing is written.
func TestBlankValuesDoNotCount(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	solo := e.create("contacts", e.Live, map[string]any{"first_name": "Solo"})
	company := e.create("companies", e.Live, map[string]any{"name": "Acme"})
	deal := e.create("deals", e.Live, map[string]any{"title": "Deal"})
	both := func(name, tool, args, method, path, body, param string) refusal {
		if body == "" && method != http.MethodGet {
			body = args
		}
		return refusal{name: name, tool: tool, args: args, method: method, path: path, body: body,
			status: http.StatusUnprocessableEntity, code: "validation_failed", param: param}
	}
	e.refuse(t, cs, e.Live, []refusal{
		both("contact with a blank name", "create_contact", `{"first_name":"   "}`, "POST", "/v1/contacts", "", "first_name"),
		both("contact with empty and blank names", "create_contact", `{"first_name":"","last_name":" \t"}`, "POST", "/v1/contacts", "", "first_name"),
		both("contact with an invisible phone", "create_contact", `{"phone":"\u200b\u00a0"}`, "POST", "/v1/contacts", "", "phone"),
		both("contact with nothing", "create_contact", `{"metadata":{"a":1}}`, "POST", "/v1/contacts", "", ""),
		both("update blanking the last name left", "update_contact", `{"id":"`+solo+`","first_name":" "}`, "PATCH", "/v1/contacts/"+solo, `{"first_name":" "}`, "first_name"),
		both("update clearing the last name left", "update_contact", `{"id":"`+solo+`","first_name":null,"phone":""}`, "PATCH", "/v1/contacts/"+solo, `{"first_name":null,"phone":""}`, "first_name"),
		both("batch row", "batch_upsert_contacts", `{"contacts":[{"email":"b@x.com"},{"last_name":" "}]}`, "POST", "/v1/contacts/batch", "", "contacts.1.last_name"),
		both("empty batch row", "batch_upsert_contacts", `{"contacts":[{"email":"b@x.com"},{}]}`, "POST", "/v1/contacts/batch", "", "contacts.1"),
		both("company name", "create_company", `{"name":"  "}`, "POST", "/v1/companies", "", "name"),
		both("company rename", "update_company", `{"id":"`+company+`","name":"\t\n"}`, "PATCH", "/v1/companies/"+company, `{"name":"\t\n"}`, "name"),
		both("deal title", "create_deal", `{"title":" "}`, "POST", "/v1/deals", "", "title"),
		both("deal retitle", "update_deal", `{"id":"`+deal+`","title":"\u3000"}`, "PATCH", "/v1/deals/"+deal, `{"title":"\u3000"}`, "title"),
		both("deal stage", "move_deal_stage", `{"id":"`+deal+`","stage":" "}`, "POST", "/v1/deals/"+deal+"/move_stage", `{"stage":" "}`, "stage"),
		both("pipeline label", "create_pipeline", `{"key":"p2","label":" "}`, "POST", "/v1/pipelines", "", "label"),
		both("pipeline stage label", "create_pipeline", `{"key":"p2","label":"P2","stages":[{"key":"a","label":"A"},{"key":"b","label":"  "}]}`, "POST", "/v1/pipelines", "", "stages.1.label"),
		both("pipeline relabel", "update_pipeline", `{"pipeline":"sales","label":" "}`, "PATCH", "/v1/pipelines/sales", `{"label":" "}`, "label"),
		both("stage label", "create_pipeline_stage", `{"pipeline":"sales","key":"s9","label":" "}`, "POST", "/v1/pipelines/sales/stages", `{"key":"s9","label":" "}`, "label"),
		both("stage relabel", "update_pipeline_stage", `{"pipeline":"sales","stage":"lead","label":""}`, "PATCH", "/v1/pipelines/sales/stages/lead", `{"label":""}`, "label"),
		both("custom field label", "create_custom_field", `{"object_type":"contact","key":"tier","label":" ","type":"text"}`, "POST", "/v1/schema/fields", "", "label"),
		both("custom field option", "create_custom_field", `{"object_type":"contact","key":"tier","label":"Tier","type":"select","options":["pro","  "]}`, "POST", "/v1/schema/fields", "", "options.1"),
		both("association label", "create_association", `{"from_type":"contact","from_id":"`+solo+`","to_type":"deal","to_id":"`+deal+`","label":" "}`, "POST", "/v1/associations", "", "label"),
		both("search query", "search", `{"q":"   "}`, "GET", "/v1/search?q=%20%20", "", "q"),
	})
	// A blank name beside a real identifier is kept as sent: it identifies nothing, and
	// takes nothing away.
	r := e.do("POST", "/v1/contacts", e.Live, []byte(`{"email":"rest@x.com","first_name":" "}`)).must(t, http.StatusCreated)
	res := rawTool(t, cs, "create_contact", `{"email":"mcp@x.com","first_name":" "}`)
	if res.IsError || r.Body["first_name"] != " " {
		t.Fatalf("blank name beside an email: REST %s, MCP %s", r.Raw, text(t, res))
	}
	e.call("PATCH", "/v1/contacts/"+solo, e.Live, map[string]any{"phone": "+1 555", "first_name": nil}).must(t, http.StatusOK)
}
