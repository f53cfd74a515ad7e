package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBatchUpsert(t *testing.T) {
	t.Parallel()
	e := setup(t)
	existing := e.create("contacts", e.Live, map[string]any{"email": "Ada@Example.com", "first_name": "Ada", "metadata": map[string]any{"a": 1}})

	r := e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{
		"dedup_on": []string{"email"},
		"contacts": []map[string]any{
			{"email": "new1@example.com", "first_name": "New"},
			{"email": "ada@EXAMPLE.com", "last_name": "Lovelace", "metadata": map[string]any{"b": 2}},
			{"first_name": "NoEmail"},
			{"email": "NEW1@example.com", "phone": "+1"},
		},
	}).must(t, http.StatusOK).Body
	data := r["data"].([]any)
	status := func(i int) string { return data[i].(map[string]any)["status"].(string) }
	contact := func(i int) map[string]any { return data[i].(map[string]any)["contact"].(map[string]any) }
	if status(0) != "created" || status(1) != "updated" || status(2) != "created" || status(3) != "updated" {
		t.Fatalf("statuses: %v", data)
	}
	if contact(1)["id"] != existing || contact(1)["first_name"] != "Ada" || contact(1)["last_name"] != "Lovelace" {
		t.Fatalf("upsert kept or overwrote the wrong fields: %v", contact(1))
	}
	if md := contact(1)["metadata"].(map[string]any); md["a"] == nil || md["b"] == nil {
		t.Fatalf("metadata not merged: %v", md)
	}
	if contact(3)["id"] != contact(0)["id"] || contact(3)["phone"] != "+1" || contact(3)["first_name"] != "New" {
		t.Fatalf("rows repeating an email apply to one contact: %v %v", contact(0), contact(3))
	}
	if r["created"] != 2.0 || r["updated"] != 2.0 || r["errors"] != 0.0 {
		t.Fatalf("counts: %v", r)
	}
	if n := countContacts(e, e.Live); n != 3 {
		t.Fatalf("contacts = %d, want 3", n)
	}
	evs := e.events(e.Live)
	if want := []string{"contact.created", "contact.created", "contact.updated", "contact.created"}; !equal(evs, want) {
		t.Fatalf("events %v, want %v", evs, want)
	}

	// Without dedup_on, taken emails are reported per row and the other rows are written.
	r = e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": []map[string]any{
		{"email": "ADA@example.com"}, {"email": "fresh@example.com"}, {"email": "fresh@example.com"}, {"email": "ada@example.com"},
	}}).must(t, http.StatusOK).Body
	data = r["data"].([]any)
	rowErr := data[0].(map[string]any)["error"].(map[string]any)
	if status(0) != "error" || rowErr["code"] != "already_exists" || rowErr["existing_id"] != existing || status(1) != "created" || status(2) != "error" {
		t.Fatalf("no-dedup outcomes: %v", data)
	}
	if data[2].(map[string]any)["error"].(map[string]any)["existing_id"] != contact2id(data[1]) {
		t.Fatalf("in-batch duplicate should name the row's contact: %v", data[2])
	}
	if data[3].(map[string]any)["error"].(map[string]any)["existing_id"] != existing {
		t.Fatalf("a repeat of a taken email names the holder: %v", data[3])
	}
	upd := e.lastEvent(e.Live, "contact.updated")["data"].(map[string]any)
	if prev := upd["previous_attributes"].(map[string]any); prev["last_name"] != nil || len(prev) != 2 || prev["metadata"] == nil {
		t.Fatalf("import update previous_attributes: %v", upd)
	}
}

func contact2id(row any) any { return row.(map[string]any)["contact"].(map[string]any)["id"] }

func TestBatchRejectsInvalidRowsAtomically(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := []struct {
		name   string
		body   string
		status int
		code   string
		fields []string
	}{
		{"bad rows", `{"contacts":[{"email":"ok@x.com"},{"email":"nope"},{"first_name":5},{}]}`, 422, "validation_failed",
			[]string{"contacts.1.email", "contacts.2.first_name"}},
		{"empty row", `{"contacts":[{"email":"ok@x.com"},{}]}`, 422, "validation_failed", []string{"contacts.1"}},
		{"unknown company", `{"contacts":[{"email":"ok@x.com"},{"email":"b@x.com","company_id":"cmp_aaaaaaaaaaaaaaaaaaaaaaaaaa"}]}`, 422, "invalid_reference",
			[]string{"contacts.1.company_id"}},
		{"too many", `{"contacts":[` + strings.TrimSuffix(strings.Repeat(`{"first_name":"x"},`, 501), ",") + `]}`, 422, "validation_failed", []string{"contacts"}},
		{"no rows", `{"contacts":[]}`, 422, "validation_failed", []string{"contacts"}},
		{"bad dedup", `{"contacts":[{"email":"a@x.com"}],"dedup_on":["phone"]}`, 422, "validation_failed", []string{"dedup_on.0"}},
	}
	for _, c := range cases {
		r := e.do("POST", "/v1/contacts/batch", e.Live, []byte(c.body))
		eb := expectError(t, r, c.status, c.code, "")
		var fields []string
		for _, d := range eb["details"].([]any) {
			fields = append(fields, d.(map[string]any)["field"].(string))
		}
		for _, f := range c.fields {
			if !strings.Contains(strings.Join(fields, " "), f) {
				t.Fatalf("%s: details %v lack %s", c.name, fields, f)
			}
		}
	}
	if n := countContacts(e, e.Live); n != 0 {
		t.Fatalf("%d contacts written by rejected batches", n)
	}
	if evs := e.events(e.Live); len(evs) != 0 {
		t.Fatalf("events recorded by rejected batches: %v", evs)
	}
}

func TestBatchOf500(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rows := make([]map[string]any, 500)
	for i := range rows {
		rows[i] = map[string]any{"email": fmt.Sprintf("bulk%d@example.com", i), "first_name": fmt.Sprint(i)}
	}
	r := e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": rows, "dedup_on": []string{"email"}}).must(t, 200).Body
	if r["created"] != 500.0 {
		t.Fatalf("created %v", r["created"])
	}
	for i, d := range r["data"].([]any) {
		if d.(map[string]any)["contact"].(map[string]any)["first_name"] != fmt.Sprint(i) {
			t.Fatalf("row %d out of order", i)
		}
	}
	r = e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": rows, "dedup_on": []string{"email"}}).must(t, 200).Body
	if r["updated"] != 500.0 || countContacts(e, e.Live) != 500 {
		t.Fatalf("re-import: %v", r["updated"])
	}
}
