package server_test

import (
	"net/http"
	"reflect"
	"testing"
)

func TestDealPipelineAndStages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "Acme 50 seats", "value_cents": 1250000, "currency": "eur", "close_date": "2026-12-31"}).must(t, http.StatusCreated).Body
	if d["pipeline"] != "sales" || d["stage"] != "lead" || d["currency"] != "EUR" || d["close_date"] != "2026-12-31" || d["object"] != "deal" {
		t.Fatalf("defaults: %v", d)
	}
	id := d["id"].(string)

	r := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "stage": "negotiation"})
	if opts := expectError(t, r, 422, "validation_failed", "stage")["valid_options"]; !reflect.DeepEqual(strs(opts), []string{"lead", "qualified", "proposal", "won", "lost"}) {
		t.Fatalf("valid stages: %v", opts)
	}
	r = e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "x", "pipeline": "partners"})
	if opts := expectError(t, r, 422, "validation_failed", "pipeline")["valid_options"]; !reflect.DeepEqual(strs(opts), []string{"sales"}) {
		t.Fatalf("valid pipelines: %v", opts)
	}
	expectError(t, e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"stage": "nope"}), 422, "validation_failed", "stage")

	moved := e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"stage": "proposal"}).must(t, http.StatusOK).Body
	if moved["stage"] != "proposal" {
		t.Fatalf("move: %v", moved)
	}
	ev := e.lastEvent(e.Live, "deal.stage_changed")["data"].(map[string]any)
	if ev["old_stage"] != "lead" || ev["new_stage"] != "proposal" || ev["object"].(map[string]any)["stage"] != "proposal" ||
		ev["previous_attributes"].(map[string]any)["stage"] != "lead" {
		t.Fatalf("stage_changed data: %v", ev)
	}
	// update_deal changing the stage records it too.
	e.call("PATCH", "/v1/deals/"+id, e.Live, map[string]any{"stage": "won", "value_cents": 1300000}).must(t, http.StatusOK)
	if ev := e.lastEvent(e.Live, "deal.stage_changed")["data"].(map[string]any); ev["new_stage"] != "won" || ev["old_stage"] != "proposal" {
		t.Fatalf("update stage event: %v", ev)
	}
	// Moving to the stage it is in changes nothing and records nothing.
	before := len(e.events(e.Live))
	e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"stage": "won"}).must(t, http.StatusOK)
	if after := len(e.events(e.Live)); after != before {
		t.Fatalf("a no-op move recorded %d events", after-before)
	}
}

func TestDealValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	foreignCompany := e.create("companies", e.Other, map[string]any{"name": "Globex"})
	testCompany := e.create("companies", e.Test, map[string]any{"name": "Test Co"})
	for _, c := range []struct {
		body        map[string]any
		status      int
		code, param string
	}{
		{map[string]any{}, 422, "validation_failed", "title"},
		{map[string]any{"title": ""}, 422, "validation_failed", "title"},
		{map[string]any{"title": "x", "value_cents": -1}, 422, "validation_failed", "value_cents"},
		{map[string]any{"title": "x", "value_cents": 1.5}, 422, "validation_failed", "value_cents"},
		{map[string]any{"title": "x", "value_cents": "100"}, 422, "validation_failed", "value_cents"},
		{map[string]any{"title": "x", "value_cents": 1e30}, 422, "validation_failed", "value_cents"},
		{map[string]any{"title": "x", "currency": "XYZ"}, 422, "validation_failed", "currency"},
		{map[string]any{"title": "x", "currency": "dollars"}, 422, "validation_failed", "currency"},
		{map[string]any{"title": "x", "close_date": "31/12/2026"}, 422, "validation_failed", "close_date"},
		{map[string]any{"title": "x", "close_date": "2026-02-30"}, 422, "validation_failed", "close_date"},
		{map[string]any{"title": "x", "company_id": foreignCompany}, 422, "invalid_reference", "company_id"},
		{map[string]any{"title": "x", "company_id": testCompany}, 422, "invalid_reference", "company_id"},
		{map[string]any{"title": "x", "primary_contact_id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, 422, "invalid_reference", "primary_contact_id"},
	} {
		expectError(t, e.call("POST", "/v1/deals", e.Live, c.body), c.status, c.code, c.param)
	}
	if n := len(ids(e.call("GET", "/v1/deals", e.Live, nil))); n != 0 {
		t.Fatalf("%d deals written by bad requests", n)
	}
	if evs := e.events(e.Live); len(evs) != 0 {
		t.Fatalf("failed writes recorded events: %v", evs)
	}
	id := e.create("deals", e.Live, map[string]any{"title": "ok"})
	for _, body := range []map[string]any{{"title": nil}, {"currency": nil}, {"stage": nil}, {"company_id": foreignCompany}, {"value_cents": -5}} {
		if r := e.call("PATCH", "/v1/deals/"+id, e.Live, body); r.Status < 400 {
			t.Fatalf("PATCH %v accepted: %s", body, r.Raw)
		}
	}
	if evs := e.events(e.Live); len(evs) != 1 {
		t.Fatalf("failed updates recorded events: %v", evs)
	}
}
