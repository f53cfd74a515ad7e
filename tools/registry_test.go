package tools_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/tools"
)

// TestInventoryRules checks every capability, so a new one cannot ship without the parts
// both surfaces and models rely on.
// maxDescription bounds a tool's description, which every tools/list carries.
const maxDescription = 1000

func TestInventoryRules(t *testing.T) {
	reg, err := tools.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), tools.All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Entries()) == 0 {
		t.Fatal("no capabilities registered")
	}
	name := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	routes := map[string]string{}
	for _, e := range reg.Entries() {
		if !name.MatchString(e.Name) {
			t.Errorf("%s: tool names are snake_case", e.Name)
		}
		if e.Title == "" || e.Toolset == "" {
			t.Errorf("%s: needs a title and a toolset", e.Name)
		}
		if len(e.Description) < 60 || !strings.Contains(strings.ToLower(e.Description), "return") {
			t.Errorf("%s: the description must tell a model what the tool does and what it returns", e.Name)
		}
		if len(e.Description) > maxDescription {
			t.Errorf("%s: the description has %d bytes; say it in at most %d", e.Name, len(e.Description), maxDescription)
		}
		required, _ := e.InputSchema["required"].([]any)
		for _, arg := range required { // a model reads the description first: it names what the call needs
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(arg.(string)) + `\b`).MatchString(e.Description) {
				t.Errorf("%s: the description does not name the required argument %s", e.Name, arg)
			}
		}
		for which, s := range map[string]map[string]any{"input": e.InputSchema, "output": e.OutputSchema} {
			if s["type"] != "object" {
				t.Errorf("%s: %s schema must be an object schema", e.Name, which)
			}
			if strings.Contains(string(tools.Encode(s)), "$ref") {
				t.Errorf("%s: %s schema must be inlined for MCP clients", e.Name, which)
			}
		}
		// Every list pages alike, so one paginating client works on all of them.
		outProps, _ := e.OutputSchema["properties"].(map[string]any)
		inProps, _ := e.InputSchema["properties"].(map[string]any)
		obj, _ := outProps["object"].(map[string]any)
		isList := fmt.Sprint(obj["enum"]) == "[list]"
		for _, p := range []string{"has_more", "next_cursor"} {
			if _, ok := outProps[p]; isList && !ok {
				t.Errorf("%s: a list returns %s", e.Name, p)
			}
		}
		for _, p := range []string{"limit", "cursor"} {
			if _, ok := inProps[p]; isList && !ok {
				t.Errorf("%s: a list takes %s", e.Name, p)
			}
		}
		if e.Annotations.ReadOnly && e.Annotations.Destructive {
			t.Errorf("%s: cannot be both read-only and destructive", e.Name)
		}
		if strings.HasPrefix(e.Name, "delete_") && !e.Annotations.Destructive {
			t.Errorf("%s: deleting is destructive", e.Name)
		}
		if r := e.REST; r != nil {
			if !strings.HasPrefix(r.Path, "/v1/") || r.Status < 200 || r.Status > 299 {
				t.Errorf("%s: REST route %s %s %d", e.Name, r.Method, r.Path, r.Status)
			}
			if (r.Method == http.MethodGet) != e.Annotations.ReadOnly {
				t.Errorf("%s: GET routes and only GET routes are read-only", e.Name)
			}
			key := r.Method + " " + r.Path
			if other, dup := routes[key]; dup {
				t.Errorf("%s and %s share %s", e.Name, other, key)
			}
			routes[key] = e.Name
			checkAliases(t, e, routes)
		} else {
			t.Errorf("%s: every capability has a REST route", e.Name)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// checkAliases checks a capability's alias routes: each is the canonical route's method and
// status on a path of its own whose parameters are some of the canonical path's, and each
// parameter it leaves out is an optional input with a default.
func checkAliases(t *testing.T, e *tools.Entry, routes map[string]string) {
	t.Helper()
	props, _ := e.InputSchema["properties"].(map[string]any)
	required, _ := e.InputSchema["required"].([]any)
	canonical := pathParam.FindAllStringSubmatch(e.REST.Path, -1)
	for _, m := range canonical {
		if _, ok := props[m[1]]; !ok {
			t.Errorf("%s: path parameter %s of %s is not an input field", e.Name, m[1], e.REST.Path)
		}
	}
	for _, a := range e.Aliases {
		if a.Method != e.REST.Method || a.Status != e.REST.Status || !strings.HasPrefix(a.Path, "/v1/") {
			t.Errorf("%s: alias %s %s %d must keep %s and %d", e.Name, a.Method, a.Path, a.Status, e.REST.Method, e.REST.Status)
		}
		key := a.Method + " " + a.Path
		if other, dup := routes[key]; dup {
			t.Errorf("%s and %s share %s", e.Name, other, key)
		}
		routes[key] = e.Name
		own := map[string]bool{}
		for _, m := range pathParam.FindAllStringSubmatch(a.Path, -1) {
			own[m[1]] = true
		}
		for p := range own {
			if !strings.Contains(e.REST.Path, "{"+p+"}") {
				t.Errorf("%s: alias %s has path parameter %s that %s lacks", e.Name, a.Path, p, e.REST.Path)
			}
		}
		for _, m := range canonical {
			if own[m[1]] {
				continue
			}
			for _, r := range required {
				if r == m[1] {
					t.Errorf("%s: alias %s leaves out %s, which the input requires", e.Name, a.Path, m[1])
				}
			}
		}
	}
}
