package store_test

import (
	"regexp"
	"testing"
	"time"

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

// TestNewTimeIDSorts: time ids have NewID's format, never repeat, and sort by the
// millisecond they were made in, as strings and so in an index.
func TestNewTimeIDSorts(t *testing.T) {
	format := regexp.MustCompile(`^rlog_[a-z2-7]{26}$`)
	seen := map[string]bool{}
	start := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 2000 {
		id := store.NewTimeIDAt("rlog_", start.Add(time.Duration(i/2)*time.Millisecond))
		if !format.MatchString(id) {
			t.Fatalf("NewTimeID = %q, want a match of %s", id, format)
		}
		if seen[id] {
			t.Fatalf("NewTimeID repeated %q", id)
		}
		seen[id] = true
		if i%2 == 0 && id <= prev {
			t.Fatalf("%q made a millisecond after %q sorts before it", id, prev)
		}
		prev = id
	}
	if a, b := store.NewTimeIDAt("x_", time.UnixMilli(1<<48-2)), store.NewTimeIDAt("x_", time.UnixMilli(1<<48-1)); a >= b {
		t.Fatalf("%q >= %q at the end of the range", a, b)
	}
}
