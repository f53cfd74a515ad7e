package transfer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/transfer"
)

// scripted answers each request with the next of its answers (status, Retry-After, body)
// and keeps the Idempotency-Key of each; past the script it answers the last one.
type scripted struct {
	mu      sync.Mutex
	answers []answer
	keys    []string
}

type answer struct {
	status     int
	retryAfter string
	body       string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	a := s.answers[min(len(s.keys), len(s.answers))-1]
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	w.Write([]byte(a.body))
}

// TestClientRetries: 429 (rate and concurrency limits) and 409 idempotency_in_progress are
// waited out for Retry-After, 5xx retried with backoff, all with the same Idempotency-Key;
// an exhausted quota and a 4xx are not retried; repeated 5xx give up after Attempts.
func TestClientRetries(t *testing.T) {
	t.Parallel()
	ok := `{"object":"batch_result","data":[{"index":0,"status":"created"}],"created":1}`
	s := &scripted{answers: []answer{
		{429, "3", `{"error":{"code":"rate_limited","message":"slow down"}}`},
		{429, "1", `{"error":{"code":"concurrency_limited","message":"one at a time"}}`},
		{409, "2", `{"error":{"code":"idempotency_in_progress","message":"still running"}}`},
		{503, "3", `{"error":{"code":"service_unavailable","message":"database down"}}`},
		{502, "", `<html>bad gateway</html>`},
		{200, "", ok},
	}}
	hs := httptest.NewServer(s)
	defer hs.Close()
	var waits []time.Duration
	c := &transfer.Client{URL: hs.URL, Key: "sk_test_x", Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	var bar strings.Builder
	res, err := c.ImportContacts(t.Context(), []byte("email\nada@example.com\n"), transfer.ImportOptions{Progress: &transfer.Progress{W: &bar, Bar: true}})
	if err != nil || res.Created != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if want := "\r[..............................] 0/1 rows: 0 created, 0 updated, 0 failed" +
		"\r[##############################] 1/1 rows: 1 created, 0 updated, 0 failed\n"; bar.String() != want {
		t.Fatalf("progress bar %q, want %q", bar.String(), want)
	}
	if len(s.keys) != 6 || strings.Count(strings.Join(s.keys, " "), s.keys[0]) != 6 || !strings.HasPrefix(s.keys[0], "relm-import-") {
		t.Fatalf("every try carries the batch's key: %q", s.keys)
	}
	if want := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 3 * time.Second, time.Second}; len(waits) != 5 || waits[0] != want[0] ||
		waits[1] != want[1] || waits[2] != want[2] || waits[3] != want[3] || waits[4] != want[4] || c.RateLimited() != 3 {
		t.Fatalf("waits %v (want %v), rate limited %d", waits, want, c.RateLimited())
	}

	for name, a := range map[string]answer{
		"quota":      {429, "864000", `{"error":{"code":"quota_exceeded","message":"monthly quota"}}`},
		"bad key":    {401, "", `{"error":{"code":"unauthorized","message":"bad key"}}`},
		"always 5xx": {500, "", `{"error":{"code":"internal_error","message":"oops"}}`},
	} {
		s := &scripted{answers: []answer{a}}
		hs := httptest.NewServer(s)
		c := &transfer.Client{URL: hs.URL, Key: "sk_test_x", Sleep: func(context.Context, time.Duration) error { return nil }}
		res, err := c.ImportContacts(t.Context(), []byte("email\nada@example.com\n"), transfer.ImportOptions{})
		hs.Close()
		var ae *transfer.APIError
		if !errors.As(err, &ae) || res == nil || len(res.Failed) != 1 || !strings.HasPrefix(res.Failed[0].Error, "not_sent:") {
			t.Errorf("%s: %v %+v", name, err, res)
		}
		if tries := map[string]int{"quota": 1, "bad key": 1, "always 5xx": 5}[name]; len(s.keys) != tries {
			t.Errorf("%s: %d tries, want %d", name, len(s.keys), tries)
		}
	}
}
