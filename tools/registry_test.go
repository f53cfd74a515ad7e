package tools_test

import (
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
		for which, s := range map[string]map[string]any{"input": e.InputSchema, "output": e.OutputSchema} {
			if s["type"] != "object" {
				t.Errorf("%s: %s schema must be an object schema", e.Name, which)
			}
			if strings.Contains(string(tools.Encode(s)), "$ref") {
				t.Errorf("%s: %s schema must be inlined for MCP clients", e.Name, which)
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
		} else {
			t.Errorf("%s: every capability has a REST route", e.Name)
		}
	}
}
