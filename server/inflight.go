package server

import (
	"net/http"
	"sync"

	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/tools"
)

// inFlight caps the requests one key, and one workspace's keys together (per mode), may
// have running at once in this process, so that one tenant's slow or never-reading clients
// cannot hold the memory and connections every tenant shares. Beyond a cap the request is
// refused at once with 429 concurrency_limited, before it is metered or run.
type inFlight struct {
	perKey, perTenant int
	mu                sync.Mutex
	running           map[string]int // "k/<key id>" and "w/<workspace id>/<mode>" -> requests running
	next              http.Handler
}

func limitInFlight(l Limits, next http.Handler) http.Handler {
	return &inFlight{perKey: l.InFlightPerKey, perTenant: l.InFlightPerTenant, running: map[string]int{}, next: next}
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := auth.CallerFrom(r.Context())
	if !ok {
		f.next.ServeHTTP(w, r)
		return
	}
	ws, mode := c.RateTenant() // a sandbox's keys share their parent's test-mode cap
	key, tenant := "k/"+c.KeyID, "w/"+ws+"/"+string(mode)
	if e := f.acquire(key, tenant, mode); e != nil {
		w.Header().Set("Retry-After", "1")
		writeErr(r.Context(), w, e)
		return
	}
	defer f.release(key, tenant)
	f.next.ServeHTTP(w, r)
}

// acquire takes a place under both caps, or explains which one is full.
func (f *inFlight) acquire(key, tenant string, mode auth.Mode) *tools.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.running[key] >= f.perKey:
		return tools.NewError(tools.CodeConcurrencyLimited, "This API key already has %d requests running, as many as it may. "+
			"Wait for a response before sending another request (Retry-After gives the seconds), and read each response completely.", f.perKey)
	case f.running[tenant] >= f.perTenant:
		return tools.NewError(tools.CodeConcurrencyLimited, "This workspace's %s keys already have %d requests running together, as many as they may. "+
			"Wait for a response before sending another request (Retry-After gives the seconds), and read each response completely.", mode, f.perTenant)
	}
	f.running[key]++
	f.running[tenant]++
	return nil
}

func (f *inFlight) release(key, tenant string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range []string{key, tenant} {
		if f.running[k]--; f.running[k] == 0 {
			delete(f.running, k)
		}
	}
}
