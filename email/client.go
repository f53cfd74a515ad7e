package email

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// DefaultBaseURL is Resend's API.
	DefaultBaseURL = "https://api.resend.com"
	// DefaultUserAgent is sent when NewClient is given none: Resend's edge refuses requests
	// without a User-Agent (403, Cloudflare error 1010).
	DefaultUserAgent = "Relm (+https://github.com/relmcrm/relm)"
	// DefaultTimeout bounds every call, from connecting to reading the whole response.
	DefaultTimeout = 15 * time.Second
)

// maxResponse caps the bytes read from one response; Resend's are a few kilobytes.
const maxResponse = 1 << 20

// Client calls Resend's API on behalf of workspaces, each call with the workspace's own API
// key. It holds no key itself and is safe for concurrent use.
type Client struct {
	baseURL   string
	userAgent string
	http      *http.Client
	timeout   time.Duration
}

// NewClient returns a Client for the API at baseURL ("" means DefaultBaseURL) sending
// userAgent ("" means DefaultUserAgent) through httpClient (nil means a new client with
// DefaultTimeout). Every call is also bounded by DefaultTimeout.
func NewClient(baseURL, userAgent string, httpClient *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if userAgent == "" {
		userAgent = DefaultUserAgent
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		userAgent: userAgent,
		http:      httpClient,
		timeout:   DefaultTimeout,
	}
}

// call is one request to Resend.
type call struct {
	method         string
	path           string // starting with "/"
	body           any    // encoded as JSON when not nil
	idempotencyKey string
}

// do makes the call with apiKey and decodes a 2xx response into out (when not nil). A
// Resend error response or a transport failure is an *Error; a 2xx response that cannot
// be decoded is a plain error.
func (c *Client) do(ctx context.Context, apiKey string, cl call, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("email: encoding %s %s: %w", cl.method, cl.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.baseURL+cl.path, body)
	if err != nil {
		return fmt.Errorf("email: building %s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", cl.idempotencyKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(err, apiKey)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return transportError(err, apiKey)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, raw, apiKey)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("email: decoding the response to %s %s (status %d): %w", cl.method, cl.path, resp.StatusCode, err)
	}
	return nil
}

// transportError is the Network error for a request that got no (complete) response.
func transportError(err error, apiKey string) *Error {
	return &Error{Message: redact(err.Error(), apiKey), cause: err}
}

// responseError turns a non-2xx response into an *Error, reading Resend's body
// {statusCode, message, name} when there is one, and the body's text otherwise (such as
// Cloudflare's "error code: 1010").
func responseError(resp *http.Response, raw []byte, apiKey string) *Error {
	var body struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	}
	msg := snippet(raw)
	if json.Unmarshal(raw, &body) == nil && (body.Name != "" || body.Message != "") {
		msg = body.Message
	} else {
		body.Name = ""
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e := &Error{Status: resp.StatusCode, Name: body.Name, Message: redact(msg, apiKey)}
	e.RetryAfter = retryAfter(e.Kind(), resp.Header, time.Now())
	return e
}

// snippet is the start of a non-JSON body, on one line, for an error message.
func snippet(raw []byte) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// redact removes apiKey from s, so that no error text can leak it.
func redact(s, apiKey string) string {
	if apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, apiKey, "[redacted]")
}
