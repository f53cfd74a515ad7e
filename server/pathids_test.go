package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/tools"
)

// wellFormed stands in for the isolation samples' placeholders: ids and keys of the right
// shape that name nothing.
var wellFormed = map[string]string{
	"{contact}": "con_" + strings.Repeat("a", 26), "{company}": "cmp_" + strings.Repeat("a", 26),
	"{deal}": "deal_" + strings.Repeat("a", 26), "{activity}": "act_" + strings.Repeat("a", 26),
	"{association}": "asc_" + strings.Repeat("a", 26), "{event}": "evt_" + strings.Repeat("a", 26),
	"{field}": "fld_" + strings.Repeat("a", 26), "{apikey}": "key_" + strings.Repeat("a", 26),
	"{webhook}": "whep_" + strings.Repeat("a", 26), "{delivery}": "whdl_" + strings.Repeat("a", 26),
	"{email}": "eml_" + strings.Repeat("a", 26), "{automation}": "auto_" + strings.Repeat("a", 26),
	"{sandbox}": "sbx_" + strings.Repeat("a", 26), "{pipeline}": "sales", "{stage}": "lead",
}

// impossible are path parameter values that no id or key can be.
var impossible = []string{"nonsense!", "con_123", "Sales", "x-y", strings.Repeat("a", 60), "a\x00b", "con_" + strings.Repeat("A", 26)}

var restParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestImpossiblePathIDsAreNotFound walks every REST route (aliases too) with a path
// parameter and gives each parameter, in turn, a value that cannot name anything: the URL
// names nothing, so the answer is 404 not_found naming the parameter, whatever the method,
// query or body. The same value as an MCP argument stays 422 validation_failed on it.
func TestImpossiblePathIDsAreNotFound(t *testing.T) {
	t.Parallel()
	e := setupWith(t, limits(server.Limits{RateLimit: 10_000})) // several requests per route
	sessions := e.entrySessions(e.Live, "")
	before := e.written(e.Live)
	checked := 0
	for _, entry := range e.Srv.Registry.Entries() {
		if entry.REST == nil {
			continue
		}
		sample, ok := isolationSamples[entry.Name]
		if !ok {
			t.Errorf("%s has no isolation sample", entry.Name)
			continue
		}
		for k, v := range wellFormed {
			sample = strings.ReplaceAll(sample, k, v)
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(sample), &args); err != nil {
			t.Fatal(err)
		}
		for _, rt := range append([]tools.Route{*entry.REST}, entry.Aliases...) {
			method, path := rt.Method, rt.Path
			for _, m := range restParam.FindAllStringSubmatch(path, -1) {
				param := m[1]
				for _, bad := range impossible {
					if okValue(param, bad) {
						continue
					}
					checked++
					p := path
					for _, o := range restParam.FindAllStringSubmatch(path, -1) {
						v, _ := args[o[1]].(string)
						if o[1] == param {
							v = bad
						}
						p = strings.ReplaceAll(p, o[0], url.PathEscape(v))
					}
					var body []byte
					if method != http.MethodGet && method != http.MethodDelete {
						body = []byte(`{}`)
					}
					r := e.do(method, p, e.Live, body)
					if got := errOf(r); r.Status != http.StatusNotFound || got == nil || got["code"] != "not_found" || paramOf(got) != param {
						t.Errorf("%s %s: want 404 not_found on %s, got %d %s", method, p, param, r.Status, r.Raw)
					}
				}
			}
		}
		// The same values as MCP arguments: validation_failed on the argument, and only on it.
		for _, m := range restParam.FindAllStringSubmatch(entry.REST.Path, -1) {
			param := m[1]
			for _, bad := range impossible {
				if okValue(param, bad) {
					continue
				}
				a := map[string]any{}
				for k, v := range args {
					a[k] = v
				}
				a[param] = bad
				raw, _ := json.Marshal(a)
				cs, name := sessions.of(entry)
				res := rawTool(t, cs, name, string(raw))
				got, _ := decode(t, text(t, res))["error"].(map[string]any)
				if !res.IsError || got == nil || got["code"] != "validation_failed" || paramOf(got) != param {
					t.Errorf("MCP %s %s: want validation_failed on %s, got %s", entry.Name, raw, param, text(t, res))
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d impossible paths checked", checked)
	}
	if after := e.written(e.Live); after != before {
		t.Fatalf("a refused request wrote something:\nbefore %s\nafter  %s", before, after)
	}
	// A path id that is not UTF-8 is malformed rather than unknown: bad_request, as anywhere.
	expectError(t, e.do("GET", "/v1/contacts/con_%ff", e.Live, nil), http.StatusBadRequest, "bad_request", "id")
}

// okValue reports whether an impossible value happens to fit param after all (a lowercase
// word is a well-formed pipeline or stage key).
func okValue(param, v string) bool {
	return (param == "pipeline" || param == "stage") && regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`).MatchString(v)
}
