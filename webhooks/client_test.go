package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/relmcrm/relm/webhooks"
)

// receiver starts a test receiver on 127.0.0.1 running h, and counts the requests it gets.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// send delivers a small signed event to url with c.
func send(t *testing.T, c *webhooks.Client, url string) webhooks.Attempt {
	t.Helper()
	req, err := webhooks.NewRequest(t.Context(), webhooks.Message{
		URL: url, EventID: "evt_1", EventType: "contact.created", Body: []byte(vecBody), Secrets: []string{vecSecret},
	}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.Send(req)
}

// resolveTo is a Resolve option under which every host name resolves to addrs.
func resolveTo(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

// named replaces the host of a test server's URL with name, keeping its port.
func named(srv *httptest.Server, name string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	return fmt.Sprintf("http://%s:%s/relm", name, port)
}

func wantAttempt(t *testing.T, a webhooks.Attempt, outcome webhooks.Outcome, status int, errPart string) {
	t.Helper()
	if a.Outcome != outcome || a.Status != status {
		t.Fatalf("attempt = %+v, want outcome %s and status %d", a, outcome, status)
	}
	if errPart == "" && a.Error != "" || !strings.Contains(a.Error, errPart) {
		t.Fatalf("attempt error %q, want it to contain %q", a.Error, errPart)
	}
	if a.Latency <= 0 {
		t.Fatalf("attempt latency %s, want it measured", a.Latency)
	}
}

func TestSendSuccess(t *testing.T) {
	t.Parallel()
	var got http.Header
	var verifyErr error
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = r.Header.Clone()
		verifyErr = webhooks.Verify(r.Header.Get("relm-signature"), body, vecSecret, 0, time.Now())
		w.WriteHeader(http.StatusNoContent)
	})
	a := send(t, webhooks.NewClient(webhooks.ClientOptions{}), srv.URL+"/relm")
	wantAttempt(t, a, webhooks.OutcomeSuccess, http.StatusNoContent, "")
	if verifyErr != nil {
		t.Fatalf("the receiver could not verify the delivery: %v", verifyErr)
	}
	for k, v := range map[string]string{"relm-event-id": "evt_1", "relm-event-type": "contact.created",
		"content-type": "application/json", "user-agent": "Relm-Webhooks/test"} {
		if got.Get(k) != v {
			t.Errorf("receiver saw %s: %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		outcome webhooks.Outcome
		errPart string
	}{
		{200, webhooks.OutcomeSuccess, ""},
		{202, webhooks.OutcomeSuccess, ""},
		{299, webhooks.OutcomeSuccess, ""},
		{410, webhooks.OutcomeGone, "410 Gone"},
		{404, webhooks.OutcomeRetry, "endpoint answered 404 Not Found"},
		{400, webhooks.OutcomeRetry, "endpoint answered 400"},
		{429, webhooks.OutcomeRetry, "endpoint answered 429"},
		{500, webhooks.OutcomeRetry, "endpoint answered 500 Internal Server Error"},
		{304, webhooks.OutcomeRetry, "redirects are not followed"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv, _ := receiver(t, answer(tc.status, "body"))
			a := send(t, webhooks.NewClient(webhooks.ClientOptions{}), srv.URL)
			wantAttempt(t, a, tc.outcome, tc.status, tc.errPart)
		})
	}
}

func TestSendFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	target, reached := receiver(t, answer(200, "ok"))
	for _, code := range []int{301, 302, 303, 307, 308} {
		srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", code)
		})
		a := send(t, webhooks.NewClient(webhooks.ClientOptions{}), srv.URL)
		wantAttempt(t, a, webhooks.OutcomeRetry, code, "redirects are not followed")
		if !strings.Contains(a.Error, "Location: "+target.URL+"/elsewhere") {
			t.Errorf("%d: error %q does not show where the endpoint redirects", code, a.Error)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests, want none", n)
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client hanging up
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	a := send(t, webhooks.NewClient(webhooks.ClientOptions{Timeout: 200 * time.Millisecond}), srv.URL)
	wantAttempt(t, a, webhooks.OutcomeRetry, 0, "no response within 200ms")
	if a.Latency < 200*time.Millisecond {
		t.Fatalf("gave up after %s, before the 200ms timeout", a.Latency)
	}
}

func TestSendCapturesBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"short", `{"ok":true}`, `{"ok":true}`},
		{"exactly 1 KiB", strings.Repeat("x", 1024), strings.Repeat("x", 1024)},
		{"long", strings.Repeat("abcd", 1000), strings.Repeat("abcd", 256)},
		// 1 + 511×2 bytes, then the first byte of the 512th é: the split character is dropped.
		{"cut inside a character", "a" + strings.Repeat("é", 600), "a" + strings.Repeat("é", 511)},
		// NUL and an invalid byte become U+FFFD (3 bytes each), so fewer é fit.
		{"controls and invalid UTF-8", "ok\x00\xff\n" + strings.Repeat("é", 600), "ok\uFFFD\uFFFD\n" + strings.Repeat("é", 507)},
		{"escape sequences", "\x1b[31mred\x1b[0m\u0085", "\uFFFD[31mred\uFFFD[0m\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := receiver(t, answer(500, tc.body))
			a := send(t, webhooks.NewClient(webhooks.ClientOptions{}), srv.URL)
			if a.Body != tc.want {
				t.Fatalf("captured %d bytes %q…, want %d bytes %q…", len(a.Body), clipTest(a.Body), len(tc.want), clipTest(tc.want))
			}
			if len(a.Body) > webhooks.CapturedBodyBytes || !utf8.ValidString(a.Body) {
				t.Fatalf("captured body is %d bytes, valid UTF-8: %v", len(a.Body), utf8.ValidString(a.Body))
			}
		})
	}
}

func clipTest(s string) string { return s[:min(len(s), 40)] }

// TestSendEndlessBody checks that a receiver streaming a body without end does not hold
// the attempt until its timeout: the client reads a bounded amount and hangs up.
func TestSendEndlessBody(t *testing.T) {
	t.Parallel()
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("z", 4096))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	timeout := 20 * time.Second
	a := send(t, webhooks.NewClient(webhooks.ClientOptions{Timeout: timeout}), srv.URL)
	wantAttempt(t, a, webhooks.OutcomeSuccess, 200, "")
	if len(a.Body) != webhooks.CapturedBodyBytes || a.Latency >= timeout {
		t.Fatalf("captured %d bytes in %s (timeout %s)", len(a.Body), a.Latency, timeout)
	}
}

// TestSendRefusesAddresses checks the rule at connection time: on the address dialled,
// after DNS, so a public-looking name that resolves (or rebinds) to loopback or a private
// address gets no request.
func TestSendRefusesAddresses(t *testing.T) {
	t.Parallel()
	srv, reached := receiver(t, answer(200, "ok"))
	refused := []struct {
		name string
		opts webhooks.ClientOptions
		url  string
		want string
	}{
		{"live, loopback literal", webhooks.ClientOptions{Live: true}, srv.URL, "refused to connect to 127.0.0.1: it is a loopback address"},
		{"live, name rebinding to loopback", webhooks.ClientOptions{Live: true, Resolve: resolveTo("127.0.0.1")}, named(srv, "hooks.example.com"), "loopback is accepted only by test-mode endpoints"},
		{"live, name rebinding to mapped loopback", webhooks.ClientOptions{Live: true, Resolve: resolveTo("::ffff:127.0.0.1")}, named(srv, "hooks.example.com"), "loopback"},
		{"live, localhost", webhooks.ClientOptions{Live: true}, named(srv, "localhost"), "refused to connect"},
		{"test, name resolving to metadata", webhooks.ClientOptions{Resolve: resolveTo("169.254.169.254")}, named(srv, "hooks.example.com"), "link-local"},
		{"test, name resolving to private", webhooks.ClientOptions{Resolve: resolveTo("10.0.0.7")}, named(srv, "hooks.example.com"), "private network address"},
		{"test, AllowAddr refusing all", webhooks.ClientOptions{AllowAddr: func(a netip.Addr) error { return fmt.Errorf("nothing is allowed") }}, srv.URL, "nothing is allowed"},
		{"test, name resolving to nothing", webhooks.ClientOptions{Resolve: resolveTo()}, named(srv, "hooks.example.com"), "no addresses for hooks.example.com"},
	}
	for _, tc := range refused {
		a := send(t, webhooks.NewClient(tc.opts), tc.url)
		if a.Outcome != webhooks.OutcomeRetry || a.Status != 0 || !strings.Contains(a.Error, tc.want) {
			t.Errorf("%s: attempt %+v, want a refused dial saying %q", tc.name, a, tc.want)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests through refused dials", n)
	}

	// The same receiver, reached where the rule allows it: the refusals above are the rule's.
	allowed := []struct {
		name string
		opts webhooks.ClientOptions
		url  string
	}{
		{"test, loopback literal", webhooks.ClientOptions{}, srv.URL},
		{"test, name resolving to loopback", webhooks.ClientOptions{Resolve: resolveTo("127.0.0.1")}, named(srv, "hooks.example.com")},
		{"test, private address then loopback", webhooks.ClientOptions{Resolve: resolveTo("10.0.0.7", "127.0.0.1")}, named(srv, "hooks.example.com")},
		{"live, AllowAddr admitting loopback", webhooks.ClientOptions{Live: true, AllowAddr: func(a netip.Addr) error { return webhooks.CheckAddr(a, false) }}, srv.URL},
	}
	for _, tc := range allowed {
		if a := send(t, webhooks.NewClient(tc.opts), tc.url); a.Outcome != webhooks.OutcomeSuccess {
			t.Errorf("%s: attempt %+v, want success", tc.name, a)
		}
	}
	if n := reached.Load(); n != int32(len(allowed)) {
		t.Fatalf("the receiver got %d requests, want %d", n, len(allowed))
	}
}

// TestSendVerifiesTLS checks that a certificate the system does not trust fails the
// attempt before any request is sent.
func TestSendVerifiesTLS(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	srv.Config.ErrorLog = discardLog()
	defer srv.Close()
	a := send(t, webhooks.NewClient(webhooks.ClientOptions{}), srv.URL)
	if a.Outcome != webhooks.OutcomeRetry || a.Status != 0 || !strings.Contains(a.Error, "certificate") {
		t.Fatalf("attempt %+v, want a certificate error", a)
	}
	if reached.Load() != 0 {
		t.Fatal("the request reached a server whose certificate is not trusted")
	}
}

// TestSendIgnoresProxyEnvironment checks that HTTP_PROXY does not route deliveries
// through a proxy, which would dial the target itself, past the address rule. Not
// parallel: it sets the environment.
func TestSendIgnoresProxyEnvironment(t *testing.T) {
	proxy, proxied := receiver(t, answer(200, "proxied"))
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	srv, reached := receiver(t, answer(200, "direct"))
	c := webhooks.NewClient(webhooks.ClientOptions{Resolve: resolveTo("127.0.0.1")})
	a := send(t, c, named(srv, "hooks.example.com")) // a name, since Go never proxies loopback
	if a.Outcome != webhooks.OutcomeSuccess || proxied.Load() != 0 || reached.Load() != 1 {
		t.Fatalf("attempt %+v: proxy got %d requests, receiver %d; want 0 and 1", a, proxied.Load(), reached.Load())
	}
}

// discardLog silences a test server's log of expected TLS handshake failures.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
