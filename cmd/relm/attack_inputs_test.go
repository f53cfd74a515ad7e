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
	crafted := []string{
		b64("contact|1|con_\x00"), b64("contact|1|\xff\xfe"), b64("contact|1|con_aaaaaaaaaaaaaaaaaaaaaaaaaa"),
		b64("contact|99999999999999999999|x"), "!!!", "====", strings.Repeat("A", 600), real[:len(real)-2], real + "A",
		real[:10] + strings.ToUpper(real[10:11]) + real[11:],
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
