package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Remote replays transcripts against a running server without touching the key's own
// workspace: each run gets a sandbox of that workspace, made through the API (POST
// /v1/sandboxes) on the transcript's plan, reached with the sandbox's own key, and deleted
// afterwards. Runs the sandbox cannot host are declined with a SkipError: a transcript
// needing a live key (a sandbox holds test data only), one on a plan above the
// workspace's, and one that manages sandboxes (which a sandbox's key cannot).
type Remote struct {
	URL        string // the server's base URL (http://127.0.0.1:8080) or its /mcp endpoint
	Key        string // a key of the workspace whose sandboxes the runs use, either mode
	HTTPClient *http.Client
	// Keep leaves each sandbox in place (until it expires) and calls Kept with its id and key.
	Keep bool
	Kept func(transcript, sandbox, key string)
}

// SandboxTTL is how long a sandbox of Remote lives if it is not deleted: long enough for
// a slow run, short enough that an interrupted suite leaves nothing for long.
const SandboxTTL = time.Hour

// sandboxTools are the tools a sandbox's key cannot use to any effect.
var sandboxTools = []string{"create_sandbox", "list_sandboxes", "get_sandbox", "delete_sandbox"}

// Open makes t's sandbox and connects to it.
func (r *Remote) Open(ctx context.Context, t *Transcript) (*mcp.ClientSession, func(), error) {
	if t.KeyMode() != "test" {
		return nil, nil, &SkipError{Reason: "it needs a " + t.KeyMode() + " key, and sandboxes hold test data only"}
	}
	for _, tool := range t.Tools() {
		if slices.Contains(sandboxTools, tool) {
			return nil, nil, &SkipError{Reason: "it calls " + tool + ", and a sandbox cannot manage sandboxes"}
		}
	}
	plan := t.Plan
	if plan == "" {
		plan = "free"
	}
	base := strings.TrimSuffix(strings.TrimSuffix(r.URL, "/"), "/mcp")
	var made struct {
		ID     string `json:"id"`
		APIKey struct {
			Secret string `json:"secret"`
		} `json:"api_key"`
	}
	status, apiErr, err := r.rest(ctx, http.MethodPost, base+"/v1/sandboxes",
		map[string]any{"name": "eval " + t.Name, "plan": plan, "ttl_seconds": int(SandboxTTL / time.Second)}, &made)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("create a sandbox: %w", err)
	case apiErr.Code == "plan_required":
		return nil, nil, &SkipError{Reason: "it needs the " + plan + " plan: " + apiErr.Message}
	case status != http.StatusCreated:
		return nil, nil, fmt.Errorf("create a sandbox: %d %s: %s", status, apiErr.Code, apiErr.Message)
	}
	release := func() {
		if r.Keep {
			if r.Kept != nil {
				r.Kept(t.Name, made.ID, made.APIKey.Secret)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _, _ = r.rest(ctx, http.MethodDelete, base+"/v1/sandboxes/"+made.ID, nil, nil) // if it fails, it expires
	}
	cs, err := Dial(ctx, t.Endpoint(base+"/mcp"), made.APIKey.Secret, r.HTTPClient)
	if err != nil {
		release()
		return nil, nil, err
	}
	return cs, func() {
		_ = cs.Close()
		release()
	}, nil
}

// apiError is the error body of a REST response.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// rest calls the REST API with the parent key: body as JSON, the response decoded into out
// on success and its error otherwise. A rate-limited call waits as told and is retried.
func (r *Remote) rest(ctx context.Context, method, url string, body, out any) (status int, apiErr apiError, err error) {
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return 0, apiErr, err
		}
	}
	client := http.DefaultClient
	if r.HTTPClient != nil {
		client = r.HTTPClient
	}
	for {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(payload))
		if err != nil {
			return 0, apiErr, err
		}
		req.Header.Set("Authorization", "Bearer "+r.Key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, apiErr, err
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if err != nil {
			return 0, apiErr, err
		}
		if res.StatusCode == http.StatusTooManyRequests {
			if err := waitRetry(ctx, res.Header.Get("Retry-After")); err != nil {
				return 0, apiErr, err
			}
			continue
		}
		if res.StatusCode >= 300 {
			var e struct {
				Error apiError `json:"error"`
			}
			_ = json.Unmarshal(data, &e)
			return res.StatusCode, e.Error, nil
		}
		if out != nil {
			err = json.Unmarshal(data, out)
		}
		return res.StatusCode, apiErr, err
	}
}

// waitRetry sleeps for retryAfter seconds (a Retry-After header or a retry_after field; at
// least one), or until ctx ends.
func waitRetry(ctx context.Context, retryAfter string) error {
	secs := 1
	if _, err := fmt.Sscan(retryAfter, &secs); err != nil || secs < 1 {
		secs = 1
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(secs) * time.Second):
		return nil
	}
}

// Dial opens an MCP client session over streamable HTTP to endpoint, sending key as a
// bearer token.
func Dial(ctx context.Context, endpoint, key string, client *http.Client) (*mcp.ClientSession, error) {
	base := http.DefaultTransport
	if client != nil && client.Transport != nil {
		base = client.Transport
	}
	transport := &mcp.StreamableClientTransport{
		Endpoint:             endpoint,
		HTTPClient:           &http.Client{Transport: bearer{key: key, next: explainRefusals{base}}},
		DisableStandaloneSSE: true, // Relm's server is stateless: it never calls the client
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "relm-eval", Version: "1"}, nil)
	c.AddSendingMiddleware(waitOnRateLimit)
	cs, err := c.Connect(ctx, transport, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	return cs, nil
}

// CodeRateLimitedRPC is the JSON-RPC error code with which Relm refuses an MCP request
// other than a tool call over the rate limit (server.CodeRateLimitedRPC).
const CodeRateLimitedRPC = -32029

var retryAfterText = regexp.MustCompile(`retry after (\d+) seconds?`)

// waitOnRateLimit is client middleware making a request that the server refused over the
// rate limit (initialize, tools/list) again once the refusal's retry-after has passed,
// until the request's context ends: a suite's runs share their workspace's limit.
func waitOnRateLimit(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		for {
			res, err := next(ctx, method, req)
			var rpcErr *jsonrpc.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != CodeRateLimitedRPC {
				return res, err
			}
			wait := "1"
			if m := retryAfterText.FindStringSubmatch(rpcErr.Message); m != nil {
				wait = m[1]
			}
			if werr := waitRetry(ctx, wait); werr != nil {
				return res, err
			}
		}
	}
}

type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}
