package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
)

// secondInstance starts another server process's worth of Relm (its own pool and caches)
// on e's database, and returns an env that talks to it with e's keys.
func (e *env) secondInstance() *env {
	e.t.Helper()
	s, err := store.Open(context.Background(), e.DB)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	srv, err := server.New(server.Config{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: e.Secret})
	if err != nil {
		e.t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	e.t.Cleanup(hs.Close)
	other := *e
	other.URL, other.Store, other.Srv = hs.URL, s, srv
	return &other
}

func TestCustomFieldSchemaCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seats := map[string]any{"object_type": "contact", "key": "seats", "label": "Seats", "type": "number"}
	bad := map[string]any{"first_name": "X", "metadata": map[string]any{"seats": "many"}}
	good := map[string]any{"first_name": "X", "metadata": map[string]any{"seats": 3}}

	// One process: define, then a bad value is refused; delete, then it is accepted.
	e.create("contacts", e.Live, bad)
	fld := e.defineField(e.Live, seats)
	expectError(t, e.call("POST", "/v1/contacts", e.Live, bad), http.StatusUnprocessableEntity, "validation_failed", "metadata.seats")
	e.call("DELETE", "/v1/schema/fields/"+fld, e.Live, nil).must(t, http.StatusOK)
	e.create("contacts", e.Live, bad)

	// Two processes on one database: B has compiled and cached the schema when A changes it.
	b := e.secondInstance()
	fld = e.defineField(e.Live, seats)
	b.create("contacts", b.Live, good) // B compiles and caches this version
	expectError(t, b.call("POST", "/v1/contacts", b.Live, bad), http.StatusUnprocessableEntity, "validation_failed", "metadata.seats")
	e.call("DELETE", "/v1/schema/fields/"+fld, e.Live, nil).must(t, http.StatusOK)
	b.create("contacts", b.Live, bad)
	seats["type"] = "text"
	e.defineField(e.Live, seats) // the same key, now text
	expectError(t, b.call("POST", "/v1/contacts", b.Live, good), http.StatusUnprocessableEntity, "validation_failed", "metadata.seats")
	b.create("contacts", b.Live, bad)
	// And the reverse direction, through batch import and filters.
	c := b.call("POST", "/v1/schema/fields", b.Live, map[string]any{"object_type": "contact", "key": "renewal", "label": "Renewal", "type": "date"}).must(t, http.StatusCreated)
	r := e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": []any{map[string]any{"first_name": "Y", "metadata": map[string]any{"renewal": "soon"}}}})
	expectError(t, r, http.StatusUnprocessableEntity, "validation_failed", "contacts.0.metadata.renewal")
	expectError(t, e.call("GET", "/v1/contacts?"+escapeQuery("filter[metadata->>renewal][lt]=soon"), e.Live, nil),
		http.StatusBadRequest, "invalid_filter", "filter[metadata->>renewal][lt]")
	b.call("DELETE", "/v1/schema/fields/"+c.Body["id"].(string), b.Live, nil).must(t, http.StatusOK)
	e.call("POST", "/v1/contacts/batch", e.Live, map[string]any{"contacts": []any{map[string]any{"first_name": "Y", "metadata": map[string]any{"renewal": "soon"}}}}).must(t, http.StatusOK)
}

// TestDefinitionChangeWaitsForMetadataWrites holds a write transaction that validated
// metadata and checks that a definition change cannot commit before it ends: a value is
// never written against definitions that changed under it.
func TestDefinitionChangeWaitsForMetadataWrites(t *testing.T) {
	t.Parallel()
	e := setup(t)
	caller := auth.Caller{WorkspaceID: e.workspaceID("acme"), Mode: auth.Live}
	body, _ := json.Marshal(map[string]any{"object_type": "contact", "key": "seats", "label": "Seats", "type": "number"})
	done := make(chan int, 1)
	err := e.Store.InTx(t.Context(), caller, func(tx *store.Tx) error {
		if _, err := e.Store.MetadataSchema(t.Context(), tx, "contact", true); err != nil {
			return err
		}
		go func() { done <- post(e.URL+"/v1/schema/fields", e.Live, body) }()
		select {
		case status := <-done:
			t.Fatalf("the definition changed (%d) while a metadata write was in flight", status)
		case <-time.After(300 * time.Millisecond):
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != http.StatusCreated {
		t.Fatalf("definition after the write: %d", status)
	}
	// Another mode's writes do not hold this tenant's definitions.
	err = e.Store.InTx(t.Context(), auth.Caller{WorkspaceID: caller.WorkspaceID, Mode: auth.Test}, func(tx *store.Tx) error {
		if _, err := e.Store.MetadataSchema(t.Context(), tx, "contact", true); err != nil {
			return err
		}
		if status := post(e.URL+"/v1/schema/fields", e.Live, bytes.ReplaceAll(body, []byte(`"seats"`), []byte(`"seats2"`))); status != http.StatusCreated {
			t.Errorf("definition: %d", status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// post sends a JSON body with key and returns the status; safe to call from any goroutine.
func post(url, key string, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}
