package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relmcrm/relm/accounts"
	"github.com/relmcrm/relm/automations"
	"github.com/relmcrm/relm/email"
	"github.com/relmcrm/relm/email/resendtest"
	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
	"github.com/relmcrm/relm/webhooks"
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
	s, admin, dbURL := pgtest.Open(t)
	hs := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + hs.Listener.Addr().String()
	secret := server.NewSecretKey()
	box, err := secrets.NewBox(secret)
	if err != nil {
		t.Fatal(err)
	}
	mailDir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := accounts.NewService(s, accounts.MailDir{Dir: mailDir, From: "Relm <relm@localhost>"}, publicURL, secret)
	mail := &tools.EmailServices{Box: box, Resend: email.NewClient(fake.URL, "relm-test", nil)}
	srv, err := server.New(server.Config{Store: s, Logger: log, SecretKey: secret, PublicURL: publicURL, Accounts: svc, Email: mail})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	t.Cleanup(hs.Close)
	outbox := &email.Outbox{Store: s, Box: box, Client: mail.Resend, Sent: tools.EmailSentEvent, KeyBinding: tools.EmailKeyBinding}
	runner := &automations.Runner{Store: s, Registry: srv.Registry, Log: log}
	engine, err := webhooks.Start(context.Background(), s, webhooks.Options{Payload: tools.EventPayload,
		Open: tools.WebhookSecretOpener(box), Version: "test", Log: log,
		Others: []webhooks.Work{{Queue: store.EmailQueue, Workers: 2, Add: outbox.Register},
			{Queue: store.AutomationQueue, Workers: 2, Add: runner.Register}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	return &workEnv{env: &env{t: t, URL: publicURL, DB: dbURL, Store: s, Admin: admin, MailDir: mailDir, Accounts: svc}, Resend: fake}
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
