package dashboard_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestChatGPTLinksOpenRecordPages: the url of every ChatGPT search result (and of fetch) is
// the record's page on the server's public URL, and a member signed in to the workspace
// opens it.
func TestChatGPTLinksOpenRecordPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.owner("links@example.com", "Links")
	must(t, b.post("/actions/create_company", url.Values{"name": {"Lovelace Engines"}, "back": {"/companies"}}), http.StatusOK)
	cmp := idOf(t, b.get("/companies"), "cmp")
	must(t, b.post("/actions/create_contact", url.Values{"first_name": {"Ada"}, "last_name": {"Lovelace"}, "company_id": {cmp}, "back": {"/contacts"}}), http.StatusOK)
	must(t, b.post("/actions/create_deal", url.Values{"title": {"Lovelace pilot"}, "back": {"/deals"}}), http.StatusOK)
	must(t, b.post("/actions/log_activity", url.Values{"type": {"note"}, "subject": {"Lovelace call"}, "company_id": {cmp}, "back": {"/activities"}}), http.StatusOK)
	p := b.post("/api-keys", url.Values{"mode": {"test"}})
	m := regexp.MustCompile(`value="([^"]+)" data-testid="new-secret"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no new secret:\n%s", p.Body)
	}
	get := func(path string) map[string]any {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
		return body
	}
	results, _ := get("/v1/chatgpt/search?query=lovelace")["results"].([]any)
	if len(results) != 4 {
		t.Fatalf("search lovelace: %v", results)
	}
	for _, r := range results {
		r := r.(map[string]any)
		link, id, title := r["url"].(string), r["id"].(string), r["title"].(string)
		path, ok := strings.CutPrefix(link, e.URL)
		if !ok || !strings.HasSuffix(path, "/"+id) {
			t.Errorf("%s: url %s is not its page on %s", id, link, e.URL)
			continue
		}
		must(t, b.get(path), http.StatusOK, title)
		if doc := get("/v1/chatgpt/fetch/" + id); doc["url"] != link {
			t.Errorf("fetch %s: url %v, search %s", id, doc["url"], link)
		}
	}
}
