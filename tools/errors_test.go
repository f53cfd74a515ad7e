package tools

import (
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
		row := "| `" + code + "` | "
		if !strings.Contains(string(doc), row+strconv.Itoa(status)+" |") {
			t.Errorf("docs/errors.md lacks the row for %s (%d)", code, status)
		}
	}
}
