package resendtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/email/resendtest"
)

const key = "re_Test1Ab2Cd3Ef4"

// exchange makes one raw request to srv with key (if not empty) and a User-Agent (if ua),
// and returns the status, headers and body.
func exchange(t *testing.T, srv *resendtest.Server, method, path, key, body string, ua bool, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header["User-Agent"] = []string{""}
	if ua {
		req.Header.Set("User-Agent", "resendtest-test")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// wantError checks Resend's error envelope.
func wantError(t *testing.T, status int, body string, wantStatus int, wantName string) {
	t.Helper()
	var e struct {
		StatusCode int    `json:"statusCode"`
		Name       string `json:"name"`
		Message    string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || status != wantStatus ||
		e.StatusCode != wantStatus || e.Name != wantName || e.Message == "" {
		t.Errorf("got %d %s, want %d with name %s", status, body, wantStatus, wantName)
	}
}

func server(t *testing.T) *resendtest.Server {
	t.Helper()
	srv := resendtest.NewServer(t)
	srv.AddKey(key, true)
	return srv
}

func TestRefusesMissingUserAgent(t *testing.T) {
	t.Parallel()
	srv := server(t)
	srv.FailNext(1, 500)
	status, _, body := exchange(t, srv, "GET", "/domains", key, "", false)
	if status != http.StatusForbidden || body != "error code: 1010" {
		t.Errorf("without User-Agent: %d %q, want 403 error code: 1010", status, body)
	}
	// The refusal happens before the API: the injected failure is still pending.
	status, _, _ = exchange(t, srv, "GET", "/domains", key, "", true)
	if status != http.StatusInternalServerError || srv.Requests() != 2 {
		t.Errorf("next request: %d after %d requests, want the injected 500 after 2", status, srv.Requests())
	}
}

func TestHeadersAndRouting(t *testing.T) {
	t.Parallel()
	srv := server(t)
	status, h, _ := exchange(t, srv, "GET", "/domains", key, "", true)
	if status != 200 || h.Get("ratelimit-limit") != "10" || h.Get("ratelimit-remaining") == "" || h.Get("ratelimit-reset") != "1" {
		t.Errorf("%d with headers %v, want 200 with rate-limit headers", status, h)
	}
	status, _, body := exchange(t, srv, "GET", "/nowhere", key, "", true)
	wantError(t, status, body, 404, "not_found")

	srv.FailNext(2, 429)
	for range 2 {
		status, h, body = exchange(t, srv, "POST", "/emails", key, "{}", true)
		wantError(t, status, body, 429, "rate_limit_exceeded")
		if h.Get("retry-after") != "1" || h.Get("ratelimit-remaining") != "0" {
			t.Errorf("429 headers %v", h)
		}
	}
	status, _, body = exchange(t, srv, "POST", "/emails", key, "{}", true)
	wantError(t, status, body, 422, "missing_required_field")
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	srv := server(t)
	srv.AddKey("re_sending", false)
	cases := []struct {
		method, path, key string
		status            int
		name              string
	}{
		{"GET", "/domains", "", 401, "missing_api_key"},
		{"POST", "/emails", "", 401, "missing_api_key"},
		{"GET", "/domains", "re_nope", 400, "validation_error"},
		{"POST", "/emails", "re_nope", 401, "validation_error"},
		{"GET", "/domains", "re_sending", 401, "restricted_api_key"},
		{"POST", "/domains", "re_sending", 401, "restricted_api_key"},
		{"POST", "/emails", "re_sending", 422, "missing_required_field"}, // accepted, then validated
	}
	for _, c := range cases {
		status, _, body := exchange(t, srv, c.method, c.path, c.key, "{}", true)
		wantError(t, status, body, c.status, c.name)
	}
}

func TestSendShapes(t *testing.T) {
	t.Parallel()
	srv := server(t)
	srv.AddDomain(key, "acme.dev", true)
	srv.SetDailyQuota(key, 5)
	// to and reply_to may be a string or a list, as in Resend's API.
	body := `{"from":"Acme <hi@ACME.dev>","to":"ada@x.dev","subject":"s","text":"t","reply_to":["a@acme.dev"]}`
	status, h, resp := exchange(t, srv, "POST", "/emails", key, body, true, "Idempotency-Key", "k")
	var out struct{ ID string }
	if json.Unmarshal([]byte(resp), &out) != nil || status != 200 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(out.ID) {
		t.Fatalf("%d %s", status, resp)
	}
	if h.Get("x-resend-daily-quota") != "1" {
		t.Errorf("x-resend-daily-quota %q, want 1", h.Get("x-resend-daily-quota"))
	}
	sent := srv.Sent()
	if len(sent) != 1 || sent[0].To[0] != "ada@x.dev" || sent[0].ReplyTo[0] != "a@acme.dev" || sent[0].IdempotencyKey != "k" {
		t.Errorf("recorded %+v", sent)
	}

	// The same body with its keys in another order is the same request.
	reordered := `{"to":"ada@x.dev","text":"t","subject":"s","reply_to":["a@acme.dev"],"from":"Acme <hi@ACME.dev>"}`
	status, _, again := exchange(t, srv, "POST", "/emails", key, reordered, true, "Idempotency-Key", "k")
	if status != 200 || again != resp {
		t.Errorf("replay: %d %s, want %s", status, again, resp)
	}

	for _, c := range []struct {
		body, idem string
		status     int
		name       string
	}{
		{`not json`, "", 400, "validation_error"},
		{`[1]`, "", 422, "validation_error"},
		{`{"from":1}`, "", 422, "validation_error"},
		{`{"from":"hi@acme.dev","to":"a@x.dev","subject":"s"}`, "", 422, "missing_required_field"},
		{body, "", 200, ""},
		{body, strings.Repeat("x", 257), 400, "invalid_idempotency_key"},
	} {
		extra := []string{}
		if c.idem != "" {
			extra = []string{"Idempotency-Key", c.idem}
		}
		status, _, resp := exchange(t, srv, "POST", "/emails", key, c.body, true, extra...)
		if c.status == 200 {
			if status != 200 {
				t.Errorf("%s: %d %s", c.body, status, resp)
			}
			continue
		}
		wantError(t, status, resp, c.status, c.name)
	}
}

func TestDomainShapes(t *testing.T) {
	t.Parallel()
	srv := server(t)
	var ids []string
	for _, name := range []string{"a.dev", "b.dev", "c.dev"} {
		status, _, body := exchange(t, srv, "POST", "/domains", key, `{"name":"`+name+`"}`, true)
		var d struct {
			ID        string `json:"id"`
			CreatedAt string `json:"created_at"`
			Records   []map[string]any
		}
		if json.Unmarshal([]byte(body), &d) != nil || status != 200 || len(d.Records) != 3 {
			t.Fatalf("create %s: %d %s", name, status, body)
		}
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00$`).MatchString(d.CreatedAt) {
			t.Errorf("created_at %q is not in Resend's form", d.CreatedAt)
		}
		ids = append(ids, d.ID)
	}

	_, _, body := exchange(t, srv, "GET", "/domains?limit=2", key, "", true)
	var page struct {
		HasMore bool `json:"has_more"`
		Data    []struct{ ID string }
	}
	if json.Unmarshal([]byte(body), &page) != nil || !page.HasMore || len(page.Data) != 2 || page.Data[0].ID != ids[2] {
		t.Errorf("first page %s", body)
	}
	_, _, body = exchange(t, srv, "GET", "/domains?limit=2&after="+page.Data[1].ID, key, "", true)
	page.Data = nil
	if json.Unmarshal([]byte(body), &page) != nil || page.HasMore || len(page.Data) != 1 || page.Data[0].ID != ids[0] {
		t.Errorf("second page %s", body)
	}
	status, _, body := exchange(t, srv, "GET", "/domains?limit=0", key, "", true)
	wantError(t, status, body, 422, "validation_error")

	status, _, body = exchange(t, srv, "POST", "/domains/"+ids[0]+"/verify", key, "", true)
	if status != 200 || body != `{"id":"`+ids[0]+`","object":"domain"}`+"\n" {
		t.Errorf("verify: %d %s", status, body)
	}
	status, _, body = exchange(t, srv, "POST", "/domains", key, `{"name":"not a domain"}`, true)
	wantError(t, status, body, 422, "validation_error")
}
