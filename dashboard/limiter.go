package dashboard

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limiter counts sign-in attempts per client address in fixed windows, in process (each
// address also has its per-email limits in the database, shared by every process).
type limiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// The sign-in limits per client address.
const (
	limitWindow    = 15 * time.Minute
	codesPerClient = 20 // codes asked for
	triesPerClient = 50 // codes and links checked
)

func newLimiter() *limiter { return &limiter{windows: map[string]*window{}} }

// allow counts one attempt of kind from r's address and reports whether it is within max.
func (l *limiter) allow(r *http.Request, kind string, max int) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.windows) > 100_000 { // a flood of addresses: forget the stale windows
		for k, w := range l.windows {
			if now.Sub(w.start) > limitWindow {
				delete(l.windows, k)
			}
		}
	}
	w := l.windows[kind+" "+host]
	if w == nil || now.Sub(w.start) > limitWindow {
		w = &window{start: now}
		l.windows[kind+" "+host] = w
	}
	w.n++
	return w.n <= max
}
