package tools

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestErrorCodesDocumented keeps docs/errors.md in step with the codes the server uses.
func TestErrorCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	for code, status := range Codes {
		row := "| `" + string(code) + "` | "
		if !strings.Contains(string(doc), row+strconv.Itoa(status)+" |") {
			t.Errorf("docs/errors.md lacks the row for %s (%d)", code, status)
		}
	}
}

// TestToolsetsDocumented keeps the toolset list in docs/api.md in step with the registry.
func TestToolsetsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range reg.Toolsets() {
		if !strings.Contains(string(doc), "`"+ts+"`") {
			t.Errorf("docs/api.md does not mention toolset %s", ts)
		}
	}
}
