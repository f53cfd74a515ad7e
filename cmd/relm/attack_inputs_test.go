package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/relmcrm/relm/auth"
)

// TestAttackCursors: crafted, forged and foreign cursors are 400 invalid_cursor on every
// list, never a 500 and never a page.
func TestAttackCursors(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	key, other := tg.key("acme", auth.Test), tg.key("globex", auth.Test)
	c := client("")
	for i := range 3 {
		tg.send(c, "POST", "/v1/contacts", key, `{"email":"c`+string(rune('a'+i))+`@example.com"}`)
		tg.send(c, "POST", "/v1/contacts", other, `{"email":"c`+string(rune('a'+i))+`@example.com"}`)
	}
	page := tg.send(c, "GET", "/v1/contacts?limit=1", key, "")
	real := strings.Split(strings.Split(string(page.Body), `"next_cursor":"`)[1], `"`)[0]
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flip := func(c byte) string { // another base64url character
		if c == 'A' {
			return "B"
		}
		return "A"
	}
	crafted := []string{
		b64("contact|1|con_\x00"), b64("contact|1|\xff\xfe"), b64("contact|1|con_aaaaaaaaaaaaaaaaaaaaaaaaaa"),
		b64("contact|99999999999999999999|x"), "!!!", "====", strings.Repeat("A", 600), real[:len(real)-2], real + "A",
		real[:10] + flip(real[10]) + real[11:],
	}
	for _, path := range []string{"/v1/contacts", "/v1/companies", "/v1/events", "/v1/search?q=c"} {
		for _, cur := range crafted {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := tg.send(c, "GET", path+sep+"cursor="+url.QueryEscape(cur), key, "")
			if r.Status != 400 || (r.errorCode() != "invalid_cursor" && r.errorCode() != "bad_request") {
				t.Errorf("%s with cursor %q: %d %s", path, cur, r.Status, r.Body)
			}
		}
	}
	// A real cursor continues only its own list, workspace and filters.
	for _, probe := range []struct{ path, key string }{
		{"/v1/contacts?cursor=" + real, other},
		{"/v1/companies?cursor=" + real, key},
		{"/v1/contacts?email=ca@example.com&cursor=" + real, key},
	} {
		if r := tg.send(c, "GET", probe.path, probe.key, ""); r.Status != 400 || r.errorCode() != "invalid_cursor" {
			t.Errorf("%s: %d %s", probe.path, r.Status, r.Body)
		}
	}
	if r := tg.send(c, "GET", "/v1/contacts?limit=1&cursor="+real, key, ""); r.Status != 200 {
		t.Fatalf("the real cursor: %d %s", r.Status, r.Body)
	}
}

// TestAttackHostileJSON: big numbers come back exactly; NULs, lone surrogates and duplicate
// keys are refused with a 4xx naming the field, never a 500 or a silent change.
func TestAttackHostileJSON(t *testing.T) {
	t.Parallel()
	tg := startTarget(t)
	key := tg.key("acme", auth.Test)
	c := client("")
	numbers := `{"id64":9007199254740993,"u64":18446744073709551615,"big":12345678901234567890,"dec":0.1000000000000000055511151231257827}`
	created := tg.send(c, "POST", "/v1/contacts", key, `{"email":"n@example.com","metadata":`+numbers+`}`)
	if created.Status != 201 {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	id := strings.Split(strings.Split(string(created.Body), `"id":"`)[1], `"`)[0]
	mcpGot := tg.mcp(c, key, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_contact","arguments":{"id":"`+id+`"}}}`,
		"Mcp-Protocol-Version", "2025-06-18")
	for _, body := range [][]byte{created.Body, tg.send(c, "GET", "/v1/contacts/"+id, key, "").Body, mcpGot.Body} {
		for _, n := range []string{"9007199254740993", "18446744073709551615", "12345678901234567890", "0.1000000000000000055511151231257827"} {
			if !strings.Contains(string(body), n) {
				t.Fatalf("%s did not come back exactly: %s", n, body)
			}
		}
	}
	for _, probe := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"NUL in a field", "POST", "/v1/contacts", `{"email":"a@example.com","first_name":"a\u0000b"}`, 422},
		{"NUL in a metadata key", "POST", "/v1/contacts", `{"email":"a@example.com","metadata":{"k\u0000":1}}`, 422},
		{"NUL in search", "GET", "/v1/search?q=a%00b", "", 422},
		{"NUL in a filter", "GET", "/v1/contacts?filter[first_name]=a%00", "", 422},
		{"NUL in an id", "GET", "/v1/contacts/con_%00", "", 404},
		{"lone surrogate", "POST", "/v1/contacts", `{"email":"a@example.com","first_name":"\ud800"}`, 400},
		{"duplicate key", "POST", "/v1/contacts", `{"email":"a@example.com","email":"b@example.com"}`, 400},
		{"unrepresentable number", "POST", "/v1/contacts", `{"email":"a@example.com","metadata":{"x":1e1000000}}`, 422},
	} {
		r := tg.send(c, probe.method, probe.path, key, probe.body)
		if r.Status != probe.status || r.errorCode() == "" {
			t.Errorf("%s: %d %s", probe.name, r.Status, r.Body)
		}
	}
	if r := tg.send(c, "GET", "/v1/contacts", key, ""); strings.Count(string(r.Body), `"object":"contact"`) != 1 {
		t.Fatalf("refused requests wrote: %s", r.Body)
	}
}
