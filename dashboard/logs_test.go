package dashboard_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiGet calls the REST API with an API key and returns the status.
func apiGet(t *testing.T, e *env, secret, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// logStatuses are the statuses of the request log rows on a /logs page, newest first.
func logStatuses(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-testid="log-(\d+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLogsShowKeyRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("logs@example.com", "Logs")
	p := b.get("/logs")
	must(t, p, http.StatusOK, `aria-current="page">Request logs`, `data-testid="usage"`, "test mode is not metered", "requests per minute per API key", "No requests.",
		"<dd>"+time.Now().UTC().Format("2006-01")+"-01 00:00 UTC to ")

	p = b.post("/api-keys", url.Values{"mode": {"test"}})
	m := regexp.MustCompile(`value="([^"]+)" data-testid="new-secret"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no new secret:\n%s", p.Body)
	}
	secret := m[1]
	if s := apiGet(t, e, secret, "/v1/contacts"); s != http.StatusOK {
		t.Fatalf("GET /v1/contacts: %d", s)
	}
	failed := apiGet(t, e, secret, "/v1/contacts/con_xxx")
	if failed < 400 || failed >= 500 {
		t.Fatalf("GET /v1/contacts/con_xxx: %d", failed)
	}
	code := strconv.Itoa(failed)

	deadline := time.Now().Add(10 * time.Second)
	for {
		p = b.get("/logs")
		if len(logStatuses(p.Body)) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the requests were not logged within 10s:\n%s", p.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	must(t, p, http.StatusOK, "<code>GET /v1/contacts</code>", "<code>GET /v1/contacts/{id}</code>", "<td>list_contacts</td>", "<td>get_contact</td>", "<code>req_")
	if got := logStatuses(p.Body); strings.Join(got, ",") != code+",200" {
		t.Fatalf("log statuses %v, want %s,200 (newest first)", got, code)
	}
	if strings.Contains(p.Body, secret) {
		t.Fatal("the log page shows the key's secret")
	}
	all := p.Body

	for q, want := range map[string]string{"status=errors": code, "status=ok": "200", "status=200": "200", "status=4xx": code,
		"status=5xx": "", "tool=list_contacts": "200", "surface=mcp": "", "surface=rest&status=" + code: code} {
		p = b.get("/logs?" + q)
		must(t, p, http.StatusOK)
		if got := strings.Join(logStatuses(p.Body), ","); got != want {
			t.Errorf("/logs?%s: statuses %q, want %q", q, got, want)
		}
		if want == "" {
			must(t, p, http.StatusOK, "No requests match these filters.")
		}
	}
	errCode := regexp.MustCompile(`status-failed">\d+</td><td>([a-z_]+)</td>`).FindStringSubmatch(all)
	keyLink := regexp.MustCompile(`<a href="(/logs\?key_id=key_[^"]+)"`).FindStringSubmatch(all)
	if errCode == nil || keyLink == nil {
		t.Fatalf("no error code or key link:\n%s", all)
	}
	if got := strings.Join(logStatuses(b.get("/logs?error_code="+errCode[1]).Body), ","); got != code {
		t.Errorf("/logs?error_code=%s: %q", errCode[1], got)
	}
	if got := strings.Join(logStatuses(b.get(keyLink[1]).Body), ","); got != code+",200" {
		t.Errorf("%s: %q", keyLink[1], got)
	}
	must(t, b.get("/logs?status=teapot"), http.StatusOK, "Status must be a code such as 404")
	if got := logStatuses(b.get("/logs?since=2999-01-01").Body); len(got) != 0 {
		t.Errorf("logs since 2999: %v", got)
	}

	// 51 successes are two pages of 50; the next page keeps the filter.
	for range 50 {
		if s := apiGet(t, e, secret, "/v1/contacts"); s != http.StatusOK {
			t.Fatalf("GET /v1/contacts: %d", s)
		}
	}
	next := regexp.MustCompile(`<a href="(/logs\?[^"]+)">Next page</a>`)
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		p = b.get("/logs?status=ok")
		if m := next.FindStringSubmatch(p.Body); m != nil {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			if !strings.Contains(link, "status=ok") {
				t.Fatalf("the next page drops the filter: %s", link)
			}
			if got := logStatuses(b.get(link).Body); len(got) == 1 && got[0] == "200" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second page of 1 success within 10s:\n%s", p.Body)
		}
	}
	if got := logStatuses(p.Body); len(got) != 50 {
		t.Fatalf("first page has %d rows, want 50", len(got))
	}

	// Live mode has no requests, and its usage counts toward the quota.
	p = b.post("/workspaces/switch", url.Values{"workspace_id": {workspaceOf(t, b)}, "mode": {"live"}, "back": {"/logs"}})
	must(t, p, http.StatusOK, "No requests.", " live requests")
}

// workspaceOf is the id of the workspace the browser's session is in.
func workspaceOf(t *testing.T, b *browser) string {
	t.Helper()
	m := regexp.MustCompile(`<option value="([^"]+)" selected>`).FindStringSubmatch(b.get("/logs").Body)
	if m == nil {
		t.Fatal("no selected workspace")
	}
	return m[1]
}
