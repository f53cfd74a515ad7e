package store

import (
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{CreatedAt: time.Date(2026, 11, 29, 6, 0, 0, 123456000, time.UTC), ID: "con_abc"}
	got, err := DecodeCursor("contact", EncodeCursor("contact", c))
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := DecodeCursor("company", EncodeCursor("contact", c)); !errors.Is(err, ErrBadCursor) {
		t.Fatal("a contact cursor must not page companies")
	}
}

// FuzzDecodeCursor: any token either decodes to a cursor that re-encodes to itself, or is
// ErrBadCursor; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor("contact", Cursor{CreatedAt: time.Unix(1, 0), ID: "con_x"}))
	f.Add("")
	f.Add("bm9wZQ")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := DecodeCursor("contact", token)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if c.ID == "" {
			t.Fatal("decoded a cursor without an id")
		}
	})
}
