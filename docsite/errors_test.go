package docsite

import (
	"testing"

	"github.com/relmcrm/relm/docs"
	"github.com/relmcrm/relm/tools"
)

// TestErrorMeanings: every error code has its meaning from docs/errors.md, and a code the
// document lacks is found.
func TestErrorMeanings(t *testing.T) {
	codes, err := errorCodes(docs.Errors)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != len(tools.Codes) {
		t.Errorf("%d codes, want %d", len(codes), len(tools.Codes))
	}
	for _, c := range codes {
		if c.Meaning == "" {
			t.Errorf("docs/errors.md gives %s no meaning", c.Code)
		}
	}
	codes, err = errorCodes("| `not_found` | 404 | No such thing. |\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if (c.Meaning != "") != (c.Code == tools.CodeNotFound) {
			t.Errorf("%s: meaning %q", c.Code, c.Meaning)
		}
	}
	if _, err := errorCodes("| `not_found` | 400 | Wrong status. |\n"); err == nil {
		t.Error("a row with the wrong status was accepted")
	}
}
