package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPanicBecomes500WithRequestID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := stampHeaders(recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/anything", nil))
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	id := rec.Header().Get("Request-Id")
	if rec.Code != 500 || body.Error.Code != "internal_error" || id == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), id) || !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("request id or stack missing: body %s, log %s", rec.Body, logs.String())
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Fatal("panic value leaked to the client")
	}
}

// TestRequestIDsSortByArrival: request ids keep their shape (req_ and 26 characters of
// [a-z2-7]) and, made in later milliseconds, sort after earlier ones (docs/api.md).
func TestRequestIDsSortByArrival(t *testing.T) {
	shape := regexp.MustCompile(`^req_[a-z2-7]{26}$`)
	h := stampHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var last string
	for i := range 5 {
		if i > 0 {
			time.Sleep(2 * time.Millisecond)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/contacts", nil))
		id := rec.Header().Get("Request-Id")
		if !shape.MatchString(id) {
			t.Fatalf("request id %q", id)
		}
		if id <= last {
			t.Fatalf("request id %q made after %q sorts before it", id, last)
		}
		last = id
	}
}
