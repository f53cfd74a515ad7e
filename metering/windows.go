package metering

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Windows counts events per key in fixed windows of one length, in process: the limits on
// sign-in attempts and client registrations per client address, where one process's count
// is enough (each also has a shared bound in the database, or none is needed).
type Windows struct {
	length time.Duration
	mu     sync.Mutex
	counts map[string]*windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// maxWindowKeys is how many keys Windows holds before it forgets the stale ones.
const maxWindowKeys = 100_000

// NewWindows counts in windows of length.
func NewWindows(length time.Duration) *Windows {
	return &Windows{length: length, counts: map[string]*windowCount{}}
}

// Allow counts one event for key and reports whether the key's window holds at most max.
func (w *Windows) Allow(key string, max int) bool {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.counts) > maxWindowKeys { // a flood of keys: forget the stale windows
		for k, c := range w.counts {
			if now.Sub(c.start) > w.length {
				delete(w.counts, k)
			}
		}
	}
	c := w.counts[key]
	if c == nil || now.Sub(c.start) > w.length {
		c = &windowCount{start: now}
		w.counts[key] = c
	}
	c.n++
	return c.n <= max
}

// ClientHost is the address a request came from, without its port.
func ClientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
