package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// version returns a record body's version.
func version(t *testing.T, r resp) int64 {
	t.Helper()
	v, ok := r.Body["version"].(float64)
	if !ok {
		t.Fatalf("no version in %s", r.Raw)
	}
	return int64(v)
}

// expectVersion asserts a record response's version and its ETag.
func expectVersion(t *testing.T, r resp, want int64) {
	t.Helper()
	if got := version(t, r); got != want {
		t.Fatalf("version %d, want %d: %s", got, want, r.Raw)
	}
	if got, tag := r.Header.Get("ETag"), fmt.Sprintf(`"%d"`, want); got != tag {
		t.Fatalf("ETag %q, want %q", got, tag)
	}
}

// expectStale asserts a 412 precondition_failed naming the current version and the fields
// changed since the expected one.
func expectStale(t *testing.T, r resp, current int64, changed ...string) {
	t.Helper()
	e := expectError(t, r, http.StatusPreconditionFailed, "precondition_failed", "expected_version")
	checkStale(t, e, current, changed)
}

func checkStale(t *testing.T, e map[string]any, current int64, changed []string) {
	t.Helper()
	if e["current_version"] != float64(current) {
		t.Fatalf("current_version %v, want %d: %v", e["current_version"], current, e)
	}
	var got []string
	if e["changed_fields"] != nil {
		got = strs(e["changed_fields"])
	}
	if !slices.Equal(got, changed) {
		t.Fatalf("changed_fields %v, want %v", got, changed)
	}
}

// Every change of a record moves its version, whatever makes it, and REST answers holding a
// record carry it as the ETag.
func TestVersionCountsEveryChange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": "v@x.com"}).must(t, http.StatusCreated)
	expectVersion(t, r, 1)
	con := r.Body["id"].(string)
	expectVersion(t, e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"first_name": "Ada"}).must(t, 200), 2)
	expectVersion(t, e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"metadata": map[string]any{"plan": "pro"}}).must(t, 200), 3)
	expectVersion(t, e.call("GET", "/v1/contacts/"+con, e.Live, nil).must(t, 200), 3)
	// An update with no fields, or only with the values the contact has, changes nothing:
	// the version and updated_at stay.
	before := e.call("GET", "/v1/contacts/"+con, e.Live, nil).Body["updated_at"]
	expectVersion(t, e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{}).must(t, 200), 3)
	same := e.call("PATCH", "/v1/contacts/"+con, e.Live, map[string]any{"first_name": "Ada", "metadata": map[string]any{"plan": "pro"}}).must(t, 200)
	if expectVersion(t, same, 3); same.Body["updated_at"] != before {
		t.Fatalf("a change of nothing moved updated_at from %v: %s", before, same.Raw)
	}
	// The event's previous_attributes name what changed, never the version.
	ev := e.lastEvent(e.Live, "contact.updated")
	prev := ev["data"].(map[string]any)["previous_attributes"].(map[string]any)
	if _, ok := prev["version"]; ok || prev["metadata"] == nil {
		t.Fatalf("previous_attributes: %v", prev)
	}

	deal := e.call("POST", "/v1/deals", e.Live, map[string]any{"title": "D", "primary_contact_id": con}).must(t, http.StatusCreated)
	id := deal.Body["id"].(string)
	expectVersion(t, deal, 1)
	expectVersion(t, e.call("POST", "/v1/deals/"+id+"/move_stage", e.Live, map[string]any{"stage": "won"}).must(t, 200), 2)
	// Deleting the contact clears the deal's reference: a change of the deal too.
	e.call("DELETE", "/v1/contacts/"+con, e.Live, nil).must(t, 200)
	expectVersion(t, e.call("GET", "/v1/deals/"+id, e.Live, nil).must(t, 200), 3)
	expectStale(t, e.do("PATCH", "/v1/deals/"+id, e.Live, []byte(`{"title":"E"}`), "If-Match", `"1"`), 3, "primary_contact_id", "stage")
	expectStale(t, e.do("PATCH", "/v1/deals/"+id, e.Live, []byte(`{"title":"E"}`), "If-Match", `"2"`), 3, "primary_contact_id")

	// A batch upsert that updates a contact moves its version too.
	c2 := e.create("contacts", e.Live, map[string]any{"email": "b@x.com"})
	e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": []any{map[string]any{"email": "b@x.com", "phone": "+1"}},
		"dedup_on": []string{"email"}}).must(t, 200)
	expectVersion(t, e.call("GET", "/v1/contacts/"+c2, e.Live, nil).must(t, 200), 2)
}

// If-Match on REST: a match writes, a stale tag is 412 with nothing written, * matches any
// version, a malformed tag is 400.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "m@x.com"})
	path := "/v1/contacts/" + con
	patch := func(body string, header ...string) resp { return e.do("PATCH", path, e.Live, []byte(body), header...) }

	expectVersion(t, patch(`{"first_name":"A"}`, "If-Match", `"1"`).must(t, 200), 2)
	events := len(e.events(e.Live))
	expectStale(t, patch(`{"last_name":"B"}`, "If-Match", `"1"`), 2, "first_name")
	expectStale(t, patch(`{"last_name":"B","expected_version":1}`), 2, "first_name")
	expectStale(t, patch(`{"last_name":"B"}`, "If-Match", `"9"`), 2) // a version it never had: no field to name
	got := e.call("GET", path, e.Live, nil).must(t, 200)
	if expectVersion(t, got, 2); got.Body["last_name"] != nil || len(e.events(e.Live)) != events {
		t.Fatalf("a refused write changed something: %s", got.Raw)
	}
	expectVersion(t, patch(`{"last_name":"B"}`, "If-Match", `*`).must(t, 200), 3)
	expectVersion(t, patch(`{"last_name":"C","expected_version":3}`, "If-Match", `"3"`).must(t, 200), 4)

	for _, tag := range []string{`4`, `W/"4"`, `"4", "5"`, `"four"`, `"0"`, `""`, `"99999999999999999999"`} {
		expectError(t, patch(`{"last_name":"D"}`, "If-Match", tag), http.StatusBadRequest, "bad_request", "If-Match")
	}
	expectError(t, patch(`{"last_name":"D","expected_version":3}`, "If-Match", `"4"`), http.StatusBadRequest, "bad_request", "expected_version")
	expectError(t, patch(`{"last_name":"D","expected_version":0}`), http.StatusUnprocessableEntity, "validation_failed", "expected_version")
	expectError(t, e.do("GET", "/v1/contacts", e.Live, nil, "If-Match", `"1"`), http.StatusBadRequest, "bad_request", "If-Match")
	expectError(t, e.do("PATCH", "/v1/contacts/con_"+"aaaaaaaaaaaaaaaaaaaaaaaaaa", e.Live, []byte(`{"last_name":"D"}`), "If-Match", `"1"`),
		http.StatusNotFound, "not_found", "id")

	// DELETE: a stale tag deletes nothing; the query's expected_version works the same.
	expectStale(t, e.do("DELETE", path, e.Live, nil, "If-Match", `"3"`), 4, "last_name")
	expectStale(t, e.do("DELETE", path+"?expected_version=2", e.Live, nil), 4, "last_name")
	e.call("GET", path, e.Live, nil).must(t, 200)
	e.do("DELETE", path, e.Live, nil, "If-Match", `"4"`).must(t, 200)
	e.call("GET", path, e.Live, nil).must(t, http.StatusNotFound)

	// move_stage is a POST: a 412 is stored under an Idempotency-Key like any 4xx.
	deal := e.create("deals", e.Live, map[string]any{"title": "D"})
	e.call("PATCH", "/v1/deals/"+deal, e.Live, map[string]any{"value_cents": 5}).must(t, 200)
	move := func() resp {
		return e.do("POST", "/v1/deals/"+deal+"/move_stage", e.Live, []byte(`{"stage":"won"}`), "If-Match", `"1"`, "Idempotency-Key", "k1")
	}
	expectStale(t, move(), 2, "value_cents")
	if r := move(); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the 412 was not replayed: %d %v", r.Status, r.Header)
	} else {
		expectStale(t, r, 2, "value_cents")
	}
	// A created record's ETag is replayed with its response.
	for range 2 {
		r := e.do("POST", "/v1/companies", e.Live, []byte(`{"name":"Acme"}`), "Idempotency-Key", "k2").must(t, http.StatusCreated)
		expectVersion(t, r, 1)
	}
}

// expected_version on MCP answers exactly as If-Match on REST.
func TestExpectedVersionMCP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cs := e.mcpSession(e.Live, "")
	deal := e.create("deals", e.Live, map[string]any{"title": "D"})
	e.call("PATCH", "/v1/deals/"+deal, e.Live, map[string]any{"title": "E"}).must(t, 200)

	stale := func(name string, args map[string]any, current int64, changed ...string) {
		t.Helper()
		res := tool(t, cs, name, args)
		if !res.IsError || res.StructuredContent != nil {
			t.Fatalf("%s: want isError without structuredContent, got %+v", name, res)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(text(t, res)), &body); err != nil {
			t.Fatal(err)
		}
		er := body["error"].(map[string]any)
		if er["code"] != "precondition_failed" {
			t.Fatalf("%s: %v", name, er)
		}
		checkStale(t, er, current, changed)
	}
	stale("update_deal", map[string]any{"id": deal, "value_cents": 1, "expected_version": 1}, 2, "title")
	stale("move_deal_stage", map[string]any{"id": deal, "stage": "won", "expected_version": 1}, 2, "title")
	stale("delete_deal", map[string]any{"id": deal, "expected_version": 1}, 2, "title")
	res := tool(t, cs, "move_deal_stage", map[string]any{"id": deal, "stage": "won", "expected_version": 2})
	if res.IsError || decode(t, text(t, res))["version"] != float64(3) {
		t.Fatalf("move with the current version: %s", text(t, res))
	}
	if res := tool(t, cs, "update_deal", map[string]any{"id": deal, "title": "F", "expected_version": 0}); !res.IsError ||
		!bytes.Contains([]byte(text(t, res)), []byte("validation_failed")) {
		t.Fatalf("expected_version 0: %s", text(t, res))
	}
	if res := tool(t, cs, "delete_deal", map[string]any{"id": deal, "expected_version": 3}); res.IsError {
		t.Fatalf("delete with the current version: %s", text(t, res))
	}
	for _, kind := range []struct{ create, update, del, body string }{
		{"companies", "update_company", "delete_company", `{"name":"Acme"}`},
		{"contacts", "update_contact", "delete_contact", `{"email":"q@x.com"}`},
	} {
		id := e.do("POST", "/v1/"+kind.create, e.Live, []byte(kind.body)).must(t, http.StatusCreated).Body["id"].(string)
		e.call("PATCH", "/v1/"+kind.create+"/"+id, e.Live, map[string]any{"metadata": map[string]any{"a": 1}}).must(t, 200)
		stale(kind.update, map[string]any{"id": id, "metadata": map[string]any{"b": 2}, "expected_version": 1}, 2, "metadata")
		stale(kind.del, map[string]any{"id": id, "expected_version": 1}, 2, "metadata")
		e.call("GET", "/v1/"+kind.create+"/"+id, e.Live, nil).must(t, 200)
	}
	act := e.create("activities", e.Live, map[string]any{"type": "note", "deal_id": e.create("deals", e.Live, map[string]any{"title": "G"})})
	e.call("PATCH", "/v1/activities/"+act, e.Live, map[string]any{"subject": "s"}).must(t, 200)
	stale("update_activity", map[string]any{"id": act, "body": "b", "expected_version": 1}, 2, "subject")
	stale("delete_activity", map[string]any{"id": act, "expected_version": 1}, 2, "subject")
}

// Concurrent writers expecting the same version: exactly one wins, every other gets 412,
// and nothing of the losers is written.
func TestConcurrentWritersSameVersion(t *testing.T) {
	t.Parallel()
	e := setup(t)
	con := e.create("contacts", e.Live, map[string]any{"email": "race@x.com"})
	const writers = 8
	statuses := make([]int, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			body := fmt.Sprintf(`{"first_name":"W%d","metadata":{"w%d":true}}`, i, i)
			req, err := http.NewRequest("PATCH", e.URL+"/v1/contacts/"+con, bytes.NewReader([]byte(body)))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+e.Live)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("If-Match", `"1"`)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			statuses[i] = res.StatusCode
			_ = res.Body.Close()
		})
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch s {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Fatalf("writer %d: status %d", i, s)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want exactly 1: %v", won, statuses)
	}
	got := e.call("GET", "/v1/contacts/"+con, e.Live, nil).must(t, 200)
	expectVersion(t, got, 2)
	if md := got.Body["metadata"].(map[string]any); len(md) != 1 {
		t.Fatalf("metadata of more than one writer: %v", md)
	}
	updates := 0
	for _, typ := range e.events(e.Live) {
		if typ == "contact.updated" {
			updates++
		}
	}
	if updates != 1 {
		t.Fatalf("%d contact.updated events, want 1", updates)
	}
}
