package store_test

import (
	"regexp"
	"testing"

	"github.com/relmcrm/relm/store"
)

// TestNewIDFormat pins the id format the schemas' patterns (^con_[a-z2-7]{26}$) accept.
func TestNewIDFormat(t *testing.T) {
	format := regexp.MustCompile(`^con_[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := store.NewID("con_")
		if !format.MatchString(id) {
			t.Fatalf("NewID = %q, want a match of %s", id, format)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
}
