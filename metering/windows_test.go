package metering

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestWindows: each key has its own count; a window over lets the key in again.
func TestWindows(t *testing.T) {
	w := NewWindows(50 * time.Millisecond)
	for i := range 3 {
		if !w.Allow("a", 3) {
			t.Fatalf("event %d of a refused", i+1)
		}
	}
	if w.Allow("a", 3) {
		t.Fatal("a's fourth event in the window allowed")
	}
	if !w.Allow("b", 3) {
		t.Fatal("b refused for a's count")
	}
	time.Sleep(60 * time.Millisecond)
	if !w.Allow("a", 3) {
		t.Fatal("a refused in a new window")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:4321"
	if got := ClientHost(r); got != "192.0.2.7" {
		t.Fatalf("ClientHost: %q", got)
	}
}
