package evals

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestMatch(t *testing.T) {
	t.Parallel()
	v := vars{"contact_id": "con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "count": json.Number("2"), "obj": map[string]any{"a": json.Number("1")}}
	got := mustJSON(t, `{"id":"con_aaaaaaaaaaaaaaaaaaaaaaaaaa","n":2,"at":"2026-11-29T08:04:05.123456Z","day":"2026-11-29",
		"tags":["a","b","c"],"meta":{"a":1,"b":null},"note":"hello con_aaaaaaaaaaaaaaaaaaaaaaaaaa","big":9007199254740991}`)
	cases := []struct {
		pattern string
		path    string // "" when the pattern must match
	}{
		{`{}`, ""},
		{`{"id":"{{contact_id}}","n":2.0}`, ""},
		{`{"n":"{{count}}"}`, ""},
		{`{"n":{"$ref":"count"}}`, ""},
		{`{"meta":{"$ref":"obj"}}`, "/meta"}, // a reference compares exactly
		{`{"meta":{"a":1}}`, ""},
		{`{"meta":{"$literal":{"a":1}}}`, "/meta"},
		{`{"meta":{"b":null,"c":{"$match":"absent"}}}`, ""},
		{`{"meta":{"a":{"$match":"absent"}}}`, "/meta/a"},
		{`{"missing":{"$match":"any"}}`, "/missing"},
		{`{"id":{"$match":"id","prefix":"con_"},"at":{"$match":"timestamp"},"day":{"$match":"date"}}`, ""},
		{`{"id":{"$match":"id","prefix":"cmp_"}}`, "/id"},
		{`{"day":{"$match":"timestamp"}}`, "/day"},
		{`{"note":{"$match":"string","contains":"{{contact_id}}","pattern":"^hello "}}`, ""},
		{`{"note":{"$match":"string","pattern":"^bye"}}`, "/note"},
		{`{"n":{"$match":"number","min":2,"max":2}}`, ""},
		{`{"big":{"$match":"number","max":9007199254740990}}`, "/big"},
		{`{"tags":["a","b","c"]}`, ""},
		{`{"tags":["a","b"]}`, "/tags"},
		{`{"tags":["a","x","c"]}`, "/tags/1"},
		{`{"tags":{"$match":"array","len":3,"contains":["c","a"],"each":{"$match":"string"}}}`, ""},
		{`{"tags":{"$match":"array","min_len":4}}`, "/tags"},
		{`{"tags":{"$match":"array","contains":"z"}}`, "/tags"},
		{`{"tags":{"$match":"array","each":{"$match":"number"}}}`, "/tags/0"},
		{`{"n":"2"}`, "/n"},
		{`[1]`, ""},
	}
	for _, c := range cases {
		pat, err := v.compilePattern(mustJSON(t, c.pattern))
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		mm := match(pat, got, "")
		switch {
		case c.pattern == `[1]`:
			if mm == nil || !strings.Contains(mm.Message, "expected a list") {
				t.Errorf("a list pattern against an object: %+v", mm)
			}
		case c.path == "" && mm != nil:
			t.Errorf("%s should match: %+v", c.pattern, mm)
		case c.path != "" && (mm == nil || mm.Path != c.path):
			t.Errorf("%s should fail at %s: %+v", c.pattern, c.path, mm)
		}
	}
}

func TestInterpolate(t *testing.T) {
	t.Parallel()
	v := vars{"id": "con_x", "n": json.Number("3")}
	args, err := v.arguments(mustJSON(t, `{"a":"{{id}}","b":"x-{{ id }}-{{n}}","c":"{{n}}","d":{"$ref":"n"},"e":{"$literal":"{{id}}"},"f":[{"g":"{{id}}"}]}`).(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"con_x","b":"x-con_x-3","c":3,"d":3,"e":"{{id}}","f":[{"g":"con_x"}]}`
	if b, _ := json.Marshal(args); string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	if _, err := v.arguments(map[string]any{"a": "{{nope}}"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown names must fail: %v", err)
	}
	if _, err := v.arguments(map[string]any{"a": map[string]any{"$match": "any"}}); err == nil {
		t.Fatal("matchers are not arguments")
	}
}

func TestResolvePath(t *testing.T) {
	t.Parallel()
	doc := mustJSON(t, `{"data":[{"id":"a","email":"x@y.z","n":1},{"id":"b","email":"ada@example.com","n":2}],"a/b":{"~":true},"next_cursor":null}`)
	for path, want := range map[string]any{
		"":                                "object",
		"/data/1/id":                      "b",
		"/data[email=ada@example.com]/id": "b",
		"/data/[n=1]/id":                  "a",
		"/a~1b/~0":                        true,
		"/next_cursor":                    nil,
	} {
		got, err := resolvePath(doc, path)
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		if path == "" {
			got = "object"
		}
		if got != want {
			t.Errorf("%q: got %v, want %v", path, got, want)
		}
	}
	for _, bad := range []string{"/data/2", "/data[email=none]/id", "/nope", "/data/0/id/x", "data"} {
		if _, err := resolvePath(doc, bad); err == nil {
			t.Errorf("%q should not resolve", bad)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]string{
		`{"name":"x","description":"d","steps":[]}`:                                                                                   "minItems",
		`{"name":"Bad Name","description":"d","steps":[{"tool":"t"}]}`:                                                                "/name",
		`{"name":"x","description":"d","steps":[{"tool":"t","expect":{"result":{"a":{"$match":"uuid"}}}}]}`:                           "/steps/0/expect/result/a/$match",
		`{"name":"x","description":"d","steps":[{"tool":"t","arguments":{"id":{"$match":"id"}}}]}`:                                    "belong in expectations",
		`{"name":"x","description":"d","steps":[{"tool":"t","expect":{"result":{},"error":"x"}}]}`:                                    "/steps/0/expect",
		`{"name":"x","description":"d","steps":[{"tool":"t","arguments":{"id":"{{later}}"}},{"tool":"t","capture":{"later":"/id"}}]}`: `step 1 (t): arguments: nothing was captured as "later"`,
		`{"name":"x","description":"d","steps":[{"tool":"t","expect":{"result":{"a":{"$match":"string","pattern":"("}}}}]}`:           "not a valid regular expression",
		`{"name":"x","description":"d","steps":[{"tool":"t","capture":{"id":"data/0"}}]}`:                                             "/steps/0/capture/id",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"extra":1}`:                                                             "extra",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"toolsets":[1]}`:                                                        "/toolsets/0",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"toolsets":[]}`:                                                         "/toolsets",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"toolsets":"contacts"}`:                                                 "/toolsets",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"toolsets":["Contacts,deals"]}`:                                         "/toolsets/0",
		`{"name":"x","description":"d","steps":[{"tool":"t"}],"read_only":"yes"}`:                                                     "/read_only",
	} {
		_, err := Parse("t.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error mentioning %q", doc, err, want)
		}
	}
}

// TestTranscribe checks what the recorder writes: captures and references for ids made in
// the session, matchers for timestamps the server chose, agent-given values as they were,
// no API key, and literal wrapping for text that looks like a reference.
func TestTranscribe(t *testing.T) {
	t.Parallel()
	secret := "sk_test_" + strings.Repeat("A", 32)
	calls := []Call{
		{Tool: "create_contact", Arguments: json.RawMessage(`{"email":"a@b.c","metadata":{"note":"{{not a ref}}"}}`),
			Result: json.RawMessage(`{"id":"con_aaaaaaaaaaaaaaaaaaaaaaaaaa","object":"contact","created_at":"2026-11-29T08:00:00.5Z","metadata":{"note":"{{not a ref}}"}}`)},
		{Tool: "log_activity", Arguments: json.RawMessage(`{"type":"call","contact_id":"con_aaaaaaaaaaaaaaaaaaaaaaaaaa","occurred_at":"2026-01-01T10:00:00Z","body":"key ` + secret + `"}`),
			Result: json.RawMessage(`{"id":"act_aaaaaaaaaaaaaaaaaaaaaaaaaa","object":"activity","contact_id":"con_aaaaaaaaaaaaaaaaaaaaaaaaaa","occurred_at":"2026-01-01T10:00:00Z","body":"key ` + secret + `"}`)},
		{Tool: "create_api_key", Result: json.RawMessage(`{"id":"key_aaaaaaaaaaaaaaaaaaaaaaaaaa","secret":"` + secret + `","last4":"AAAA"}`)},
		{Tool: "get_contact", Arguments: json.RawMessage(`{"id":"con_bbbbbbbbbbbbbbbbbbbbbbbbbb"}`), IsError: true,
			Result: json.RawMessage(`{"error":{"code":"not_found","message":"No contact con_bbbbbbbbbbbbbbbbbbbbbbbbbb","param":"id","request_id":"req_x"}}`)},
	}
	tr := Transcribe("rec", "d", "test", calls, Catalog{ReadOnly: map[string]bool{"get_contact": true}})
	out := string(Encode(tr))
	if strings.Contains(out, secret) {
		t.Fatalf("the API key was written:\n%s", out)
	}
	if _, err := Parse("rec.json", []byte(out)); err != nil {
		t.Fatalf("the transcript does not load: %v\n%s", err, out)
	}
	for _, want := range []string{
		`"capture": {"contact_id": "/id"}`,
		`"contact_id": "{{contact_id}}"`,
		`"created_at": {"$match": "timestamp"}`,
		`"occurred_at": "2026-01-01T10:00:00Z"`,
		`"note": {"$literal": "{{not a ref}}"}`,
		`"secret": {"$match": "string", "pattern": "^sk_(live|test)_[0-9A-Za-z]{32}$"}`,
		`"body": "key [redacted API key]"`,
		`"expect": {"error": {"code": "not_found", "param": "id"}}`,
		`"arguments": {"id": "con_bbbbbbbbbbbbbbbbbbbbbbbbbb"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "last4") || strings.Contains(out, "req_x") || strings.Contains(out, "activity_id") {
		t.Errorf("volatile fields and unused ids should be left out:\n%s", out)
	}
}

// TestEncodeRoundTrip: every suite transcript survives Encode unchanged in meaning.
func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	ts, err := Suite()
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		again, err := Parse(tr.Path, Encode(tr))
		if err != nil {
			t.Fatalf("%s: %v", tr.Path, err)
		}
		a, _ := json.Marshal(tr)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("%s changed when written back:\n%s\n%s", tr.Path, a, b)
		}
	}
}
