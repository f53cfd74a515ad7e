package webhooks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// DefaultTimeout bounds one delivery attempt, from dialing to reading the response.
const DefaultTimeout = 10 * time.Second

// ClientOptions configure a Client.
type ClientOptions struct {
	// Live selects the address rule of CheckAddr: public addresses only (live mode), or
	// public and loopback addresses (test mode).
	Live bool
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// AllowAddr, when set, replaces the mode's address rule: it returns nil for an address
	// the client may connect to. For tests.
	AllowAddr func(netip.Addr) error
	// Resolve, when set, replaces DNS for host names: for tests, such as a public-looking
	// name resolving to 127.0.0.1.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// RootCAs, when set, are the certificates trusted instead of the system's: for tests.
	RootCAs *x509.CertPool
}

// Client sends delivery attempts. It connects only to addresses that its rule allows,
// checked on the address actually dialled, after DNS, so a name that resolves (or
// rebinds) to a private address is refused. It uses no proxy, follows no redirect and
// verifies TLS certificates. It is safe for concurrent use.
type Client struct {
	http    *http.Client
	timeout time.Duration
}

// NewClient returns a Client configured by opts.
func NewClient(opts ClientOptions) *Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	allow := opts.AllowAddr
	if allow == nil {
		live := opts.Live
		allow = func(a netip.Addr) error { return CheckAddr(a, live) }
	}
	dialer := &net.Dialer{
		Timeout: timeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhooks: dialing %q, which is not an IP address and port", address)
			}
			return allow(ap.Addr())
		},
	}
	dial := dialer.DialContext
	if opts.Resolve != nil {
		dial = resolvingDial(dialer, opts.Resolve)
	}
	transport := &http.Transport{
		Proxy:                  nil, // never a proxy from the environment: it would dial for us, unchecked
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs},
		TLSHandshakeTimeout:    timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
	}
	return &Client{
		timeout: timeout,
		http: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// resolvingDial dials the addresses that resolve gives for a host name, in order, each
// through dialer (whose Control hook checks it).
func resolvingDial(dialer *net.Dialer, resolve func(context.Context, string) ([]netip.Addr, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return dialer.DialContext(ctx, network, address)
		}
		addrs, err := resolve(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("webhooks: port %q: %w", port, err)
		}
		errs := []error{fmt.Errorf("no addresses for %s", host)}
		for i, a := range addrs {
			conn, err := dialer.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(p)).String())
			if err == nil {
				return conn, nil
			}
			if i == 0 {
				errs = errs[:0]
			}
			errs = append(errs, err)
		}
		return nil, errs[0]
	}
}

// Do sends req through the guarded transport and returns the response as it is, for
// callers other than deliveries (the OAuth server fetching a Client ID Metadata Document).
func (c *Client) Do(req *http.Request) (*http.Response, error) { return c.http.Do(req) }

// Send makes one delivery attempt with req (from NewRequest) and reports its outcome. It
// never returns an error: a failure to connect or a timeout is an Attempt with no status,
// to retry.
func (c *Client) Send(req *http.Request) Attempt {
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Attempt{Outcome: OutcomeRetry, Latency: time.Since(start), Error: c.describe(err)}
	}
	defer resp.Body.Close()
	a := Attempt{Status: resp.StatusCode, Body: capture(resp.Body)}
	a.Latency = time.Since(start)
	a.Outcome, a.Error = judge(resp)
	return a
}

// describe turns a failed exchange into the text stored with the attempt.
func (c *Client) describe(err error) string {
	var ae *AddrError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return sanitize([]byte(ae.Error()))
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no response within %s", c.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) { // drop its "Post <url>:" prefix
		err = ue.Err
	}
	return sanitize([]byte(err.Error()))
}

// judge decides an attempt's outcome from its response.
func judge(resp *http.Response) (Outcome, string) {
	code := resp.StatusCode
	status := strconv.Itoa(code) + " " + http.StatusText(code)
	switch {
	case code >= 200 && code <= 299:
		return OutcomeSuccess, ""
	case code == http.StatusGone:
		return OutcomeGone, "endpoint answered 410 Gone, which asks for no more deliveries"
	case code >= 300 && code <= 399:
		msg := "endpoint answered " + status + "; redirects are not followed: point the endpoint at the final URL"
		if loc := resp.Header.Get("Location"); loc != "" {
			msg += " (Location: " + clip(loc) + ")"
		}
		return OutcomeRetry, sanitize([]byte(msg))
	}
	return OutcomeRetry, "endpoint answered " + status
}
