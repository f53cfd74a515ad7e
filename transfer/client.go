// Package transfer moves records between files and a Relm server through its REST API:
// contact imports from CSV and exports of any record list as JSON Lines or CSV. It never
// opens the database; it is a client like any other, with a key.
package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client calls a Relm server's REST API with an API key. It retries what is safe to retry:
// 429 rate_limited and concurrency_limited after Retry-After, 409 idempotency_in_progress
// after Retry-After, and 5xx answers and network errors with backoff. Writes it retries carry
// an Idempotency-Key, so a retry never applies them twice.
type Client struct {
	URL  string       // base URL of the server, such as http://127.0.0.1:8080
	Key  string       // API key (sk_live_… or sk_test_…)
	HTTP *http.Client // default: one whose requests time out after 2 minutes

	// Attempts bounds the tries of one request that fails with 5xx or a network error
	// (default 5); waits for rate limits do not count against it.
	Attempts int
	// MaxWait is the longest Retry-After the client waits out (default 2 minutes); a
	// longer one, such as an exhausted monthly quota, fails the request.
	MaxWait time.Duration
	// Sleep waits d or until ctx ends (default: a timer); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error

	replayed atomic.Int64 // responses marked Idempotent-Replayed: true
	waited   atomic.Int64 // requests answered 429 and tried again
}

// APIError is an error answer of the API: its status and its error body.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Details []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Replayed is how many responses the server replayed from an earlier request with the
// same Idempotency-Key.
func (c *Client) Replayed() int { return int(c.replayed.Load()) }

// RateLimited is how many times a request was answered 429 and tried again.
func (c *Client) RateLimited() int { return int(c.waited.Load()) }

// get fetches path (with its query) and decodes the JSON answer into out.
func (c *Client) get(ctx context.Context, path string, out any) error {
	body, err := c.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return err
	}
	return json.Unmarshal(body, out)
}

// post sends in as JSON with the idempotency key and decodes the answer into out. An error
// answer is an *APIError.
func (c *Client) post(ctx context.Context, path string, in any, idempotencyKey string, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	body, err := c.do(ctx, http.MethodPost, path, b, idempotencyKey)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, out)
}

// do makes one request, retrying as the type says, and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, method, path string, body []byte, idempotencyKey string) ([]byte, error) {
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	failures := 0
	for {
		res, resBody, err := c.once(ctx, method, path, body, idempotencyKey)
		if err == nil && res.Header.Get("Idempotent-Replayed") == "true" {
			c.replayed.Add(1)
		}
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			failures++
			if failures >= attempts {
				return nil, fmt.Errorf("%s %s: %w (after %d tries)", method, path, err, failures)
			}
			wait = backoff(failures)
		case res.StatusCode < 300:
			return resBody, nil
		default:
			apiErr := decodeError(res.StatusCode, resBody)
			retryAfter, hasRetryAfter := parseRetryAfter(res.Header.Get("Retry-After"))
			switch {
			case res.StatusCode == http.StatusTooManyRequests && apiErr.Code != "quota_exceeded",
				res.StatusCode == http.StatusConflict && apiErr.Code == "idempotency_in_progress":
				if hasRetryAfter && retryAfter > c.maxWait() {
					return nil, fmt.Errorf("%w (the server asks to wait %s; try again later)", apiErr, retryAfter)
				}
				c.waited.Add(1)
				wait = max(retryAfter, time.Second)
			case res.StatusCode >= 500:
				failures++
				if failures >= attempts {
					return nil, fmt.Errorf("%s %s: %w (after %d tries)", method, path, apiErr, failures)
				}
				wait = max(retryAfter, backoff(failures))
			default:
				return nil, apiErr
			}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, body []byte, idempotencyKey string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	return res, b, nil
}

// defaultHTTP gives up on a request after 2 minutes (a timeout is retried like any network
// error, under the same Idempotency-Key).
var defaultHTTP = &http.Client{Timeout: 2 * time.Minute}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return 2 * time.Minute
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the wait before try n+1 after n failures: 0.5s, 1s, 2s, … up to 10s.
func backoff(failures int) time.Duration {
	return min(500*time.Millisecond<<(failures-1), 10*time.Second)
}

// parseRetryAfter reads a Retry-After header in seconds.
func parseRetryAfter(s string) (time.Duration, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// decodeError reads an error body ({"error": {...}}); a body of another shape (a proxy's
// page) becomes the message.
func decodeError(status int, body []byte) *APIError {
	var eb struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error == nil {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		return &APIError{Status: status, Message: msg}
	}
	eb.Error.Status = status
	return eb.Error
}
