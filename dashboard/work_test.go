package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/email/resendtest"
)

// resendKey is a full-access key of the fake Resend that setupWork starts.
const resendKey = "re_FullAccessKey0123456789"

// workEnv is an env whose server also does the background work relm serve does (webhook
// deliveries, automation runs, email sends), with email going to a fake Resend.
type workEnv struct {
	*env
	Resend *resendtest.Server
}

// setupWork is setup with background work and a fake Resend knowing resendKey.
func setupWork(t testing.TB) *workEnv {
	t.Helper()
	fake := resendtest.NewServer(t)
	fake.AddKey(resendKey, true)
	return &workEnv{env: setupWith(t, options{resendURL: fake.URL, work: true}), Resend: fake}
}

// receiver is a webhook endpoint: it counts requests and answers each with status(n), n
// counting from 1, after hold (when set) lets it.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	n      int
	status func(n int) int
	hold   chan struct{} // closed to let held requests answer; nil holds none
}

func newReceiver(t *testing.T, status func(n int) int, hold chan struct{}) *receiver {
	rc := &receiver{status: status, hold: hold}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.n++
		n := rc.n
		rc.mu.Unlock()
		if rc.hold != nil {
			<-rc.hold
		}
		code := 200
		if rc.status != nil {
			code = rc.status(n)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "ok from receiver")
	}))
	t.Cleanup(rc.Close)
	return rc
}

// count is how many requests the receiver got.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// await opens path until its body contains every want, failing after 15 s.
func (b *browser) await(path string, want ...string) page {
	b.e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p := b.get(path)
		ok := p.Status == http.StatusOK
		for _, w := range want {
			ok = ok && strings.Contains(p.Body, w)
		}
		if ok {
			return p
		}
		if time.Now().After(deadline) {
			b.e.t.Fatalf("%s never showed %q:\n%s", path, want, p.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hrefs are the links of a page whose path starts with prefix.
func hrefs(body, prefix string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="(`+regexp.QuoteMeta(prefix)+`[^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}
