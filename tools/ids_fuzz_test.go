package tools

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

// FuzzRecordIDs: whatever string arrives as an id, validation either accepts it — and then
// it has exactly the shape of an id this server makes — or rejects it with a field error
// naming "id"; it never panics.
func FuzzRecordIDs(f *testing.F) {
	reg, err := NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), All(nil)...)
	if err != nil {
		f.Fatal(err)
	}
	type target struct {
		entry *Entry
		shape *regexp.Regexp
	}
	var targets []target
	for _, name := range []string{"get_contact", "get_company", "get_deal", "get_activity", "get_event", "revoke_api_key"} {
		e, _ := reg.Lookup(name)
		prefix := strings.TrimSuffix(strings.TrimPrefix(e.InputSchema["properties"].(map[string]any)["id"].(map[string]any)["pattern"].(string), "^"), "[a-z2-7]{26}$")
		targets = append(targets, target{e, regexp.MustCompile("^" + prefix + "[a-z2-7]{26}$")})
	}
	f.Add(store.NewID("con_"))
	f.Add("con_")
	f.Add("con_AAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("con_aaaaaaaaaaaaaaaaaaaaaaaaaa\n")
	f.Add("'; DROP TABLE contacts; --")
	f.Fuzz(func(t *testing.T, id string) {
		for _, tg := range targets {
			details := tg.entry.validator.Validate(map[string]any{"id": id})
			if details == nil && !tg.shape.MatchString(id) {
				t.Fatalf("%s accepted id %q", tg.entry.Name, id)
			}
			if details != nil && details[0].Field != "id" {
				t.Fatalf("%s: error on %q, want id", tg.entry.Name, details[0].Field)
			}
		}
	})
}
