package email_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relmcrm/relm/email"
)

func TestNetworkErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	url := f.srv.URL
	f.srv.Close()
	_, err := email.NewClient(url, "", nil).Send(context.Background(), fullKey, hello(), "k")
	e := wantKind(t, err, email.Network)
	if !e.Retryable() || e.Status != 0 {
		t.Errorf("%+v: want a retryable error without status", e)
	}

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = email.NewClient(hang.URL, "", nil).CheckKey(ctx, fullKey)
	wantKind(t, err, email.Network)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a timeout does not unwrap to context.DeadlineExceeded: %v", err)
	}
}

// stripUserAgent is a transport that sends requests without a User-Agent header.
type stripUserAgent struct{}

func (stripUserAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header["User-Agent"] = []string{""} // net/http then sends none
	return http.DefaultTransport.RoundTrip(r)
}

// TestUserAgent checks that the client always identifies itself, and what a request
// without a User-Agent gets: Resend's edge refuses it with a bare 403 (Cloudflare 1010).
func TestUserAgent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := email.NewClient(f.srv.URL, "", f.srv.Client()).CheckKey(ctx, fullKey); err != nil {
		t.Errorf("with the default User-Agent: %v", err)
	}

	bare := email.NewClient(f.srv.URL, "relm-test/1.0", &http.Client{Transport: stripUserAgent{}})
	_, err := bare.CheckKey(ctx, fullKey)
	e := wantKind(t, err, email.Unknown)
	if e.Status != http.StatusForbidden || e.Name != "" || e.Message != "error code: 1010" || e.Retryable() {
		t.Errorf("%+v: want a final bare 403 with Cloudflare's 1010", e)
	}
}

// TestErrorsNeverContainTheKey makes every kind of failure with a recognisable key,
// including a server that echoes the Authorization header back, and checks no error text
// contains the key.
func TestErrorsNeverContainTheKey(t *testing.T) {
	t.Parallel()
	const key = "re_Secret4Vq8Wn2Xr6Ys0Zt"
	f := setup(t)
	f.srv.AddKey(key, false)
	ctx := context.Background()
	c := f.client
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }

	collect(c.Send(ctx, key, hello(), ""))         // domain not verified
	collect(c.Send(ctx, key, email.Message{}, "")) // validation
	collect(c.Send(ctx, key+"x", hello(), ""))     // invalid key
	collect(c.CheckKey(ctx, key+"x"))              // invalid key, other endpoint
	collect(c.ListDomains(ctx, key))               // restricted key
	collect(c.GetDomain(ctx, fullKey, key))        // key as an id
	f.srv.FailNext(2, 429)
	collect(c.CreateDomain(ctx, key, "acme.dev", "")) // rate limited
	collect(c.VerifyDomain(ctx, key, "x"))            // rate limited
	collect(c.Send(ctx, key, hello(), key))           // key as idempotency key

	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"statusCode":400,"name":"validation_error","message":"bad header %s"}`, r.Header.Get("Authorization"))
	}))
	t.Cleanup(echo.Close)
	collect(email.NewClient(echo.URL, "", nil).Send(ctx, key, hello(), ""))
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>upstream said "+r.Header.Get("Authorization")+"</html>")
	}))
	t.Cleanup(plain.Close)
	collect(email.NewClient(plain.URL, "", nil).Send(ctx, key, hello(), ""))
	collect(email.NewClient("http://127.0.0.1:1/"+key, "", nil).Send(ctx, key, hello(), "")) // unreachable

	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d did not fail", i)
			continue
		}
		if s := err.Error(); strings.Contains(s, key) || strings.Contains(fmt.Sprintf("%+v", err), key) {
			t.Errorf("call %d: error contains the key: %s", i, s)
		}
	}
}
