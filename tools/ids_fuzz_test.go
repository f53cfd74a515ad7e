package tools

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// oracleIDPrefixes names, for each tool that takes a record id, the prefix of the ids it accepts,
// written out here rather than read from the code under test.
var oracleIDPrefixes = map[string]string{
	"get_contact":    "con_",
	"get_company":    "cmp_",
	"get_deal":       "deal_",
	"get_activity":   "act_",
	"get_event":      "evt_",
	"revoke_api_key": "key_",
}

// isRecordID is the oracle: an id is its prefix and 26 characters of lowercase base32
// (RFC 4648's alphabet, a-z and 2-7), and nothing else.
func isRecordID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || len(rest) != 26 {
		return false
	}
	for i := range len(rest) {
		c := rest[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// FuzzRecordIDs: whatever string arrives as an id, validation accepts it exactly when it
// has the shape of an id this server makes, rejects it otherwise with a field error naming
// "id", and never panics.
func FuzzRecordIDs(f *testing.F) {
	reg, err := NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)), All(nil)...)
	if err != nil {
		f.Fatal(err)
	}
	entries := map[string]*Entry{}
	for name := range oracleIDPrefixes {
		e, ok := reg.Lookup(name)
		if !ok {
			f.Fatalf("no tool %s", name)
		}
		entries[name] = e
	}
	for _, prefix := range oracleIDPrefixes {
		f.Add(prefix + "abcdefghijklmnopqrstuvwxyz")
		f.Add(prefix + "234567234567234567234567aa")
	}
	for _, seed := range []string{
		"", "con_", "con_abcdefghijklmnopqrstuvwxy", "con_abcdefghijklmnopqrstuvwxyza",
		"con_AAAAAAAAAAAAAAAAAAAAAAAAAA", "con_0189abcdefghijklmnopqrstuv",
		"con_aaaaaaaaaaaaaaaaaaaaaaaaaa\n", " con_aaaaaaaaaaaaaaaaaaaaaaaaaa", "CON_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"con_aaaaaaaaaaaaaaaaaaaaaaaaa\u00e9", "'; DROP TABLE contacts; --",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		for name, prefix := range oracleIDPrefixes {
			details := entries[name].validator.Validate(map[string]any{"id": id})
			want := isRecordID(prefix, id)
			switch {
			case want && details != nil:
				t.Fatalf("%s refused the well-formed id %q: %v", name, id, details)
			case !want && details == nil:
				t.Fatalf("%s accepted id %q", name, id)
			case details != nil && details[0].Field != "id":
				t.Fatalf("%s: error on %q, want id", name, details[0].Field)
			}
		}
	})
}
