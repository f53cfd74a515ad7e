package tools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/relmcrm/relm/auth"
	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// IdempotencyKeyMaxLen is the longest idempotency key accepted, in characters.
const IdempotencyKeyMaxLen = 255

// IdempotencyKeyArg is the MCP argument carrying an idempotency key.
const IdempotencyKeyArg = "idempotency_key"

// Response is a capability's outcome as both surfaces send it: the REST status (the
// route's success status, or the error's) and the JSON body (the result, or the error body).
type Response struct {
	Status     int
	Body       []byte
	Replayed   bool // stored by an earlier request with the same key, and sent again as it was
	RetryAfter int  // seconds to wait before retrying, from the error's retry_after (never stored)
	// ETag is the entity tag of the record a successful response holds (Versioned), or "".
	ETag string
}

// OK reports whether the response is a success (on MCP, not an isError result).
func (r Response) OK() bool { return r.Status < 400 }

// EnableIdempotency makes the registry remember responses by idempotency key in s.
func (r *Registry) EnableIdempotency(s *store.Store) { r.idempotency = s }

// AcceptsIdempotencyKey reports whether calls of the capability may carry an idempotency
// key: those whose REST route is a POST, unless their result holds a secret or they keep
// nothing (Transient).
func (e *Entry) AcceptsIdempotencyKey() bool {
	return e.REST.Method == http.MethodPost && !e.SecretOutput && !e.Transient
}

// CheckIdempotencyKey says what is wrong with key, or returns "" when it is usable.
func CheckIdempotencyKey(key string) string {
	n := utf8.RuneCountInString(key)
	switch {
	case n == 0:
		return "must not be empty"
	case n > IdempotencyKeyMaxLen:
		return fmt.Sprintf("must be at most %d characters long (it has %d)", IdempotencyKeyMaxLen, n)
	case !utf8.ValidString(key):
		return "must be valid UTF-8"
	case strings.ContainsFunc(key, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

// CallIdempotent runs the capability at most once per idempotency key in the caller's
// workspace and mode, for IdempotencyTTL. Repeating the same arguments (compared in
// canonical form) replays the first response byte for byte, without running anything;
// other arguments are idempotency_conflict, and a repeat while the first call still runs is
// idempotency_in_progress. The returned *Error is such a failure of the key itself, which
// is never stored; a capability's own errors come back, and are stored, as the Response.
// 5xx responses are not stored, so a retry runs again.
func (e *Entry) CallIdempotent(ctx context.Context, key string, args map[string]any) (Response, *Error) {
	if !e.AcceptsIdempotencyKey() {
		return Response{}, e.idempotencyFault(ctx, errors.New("capability takes no idempotency key"))
	}
	s := e.reg.idempotency
	caller, ok := auth.CallerFrom(ctx)
	if s == nil || !ok {
		return Response{}, e.idempotencyFault(ctx, errors.New("no idempotency store or no caller"))
	}
	hash, err := e.RequestHash(args)
	if err != nil {
		return Response{}, NewError(CodeBadRequest, "The input cannot be encoded: %v.", err)
	}
	claim, err := s.ClaimIdempotencyKey(ctx, caller, key, hash)
	if err != nil {
		return Response{}, e.idempotencyFault(ctx, err)
	}
	switch claim.State {
	case store.IdempotencyReplay:
		res := Response{Status: claim.Status, Body: claim.Body, Replayed: true}
		res.ETag = e.storedETag(res)
		ReportOutcome(ctx, e.Name, res.Status, storedErrorCode(res))
		return res, nil
	case store.IdempotencyConflict:
		return Response{}, NewError(CodeIdempotencyConflict, "This idempotency key was already used for a different request in the last 24 hours. "+
			"Use a new key for a new request; to get the original response, resend the original request unchanged.")
	case store.IdempotencyInProgress:
		return Response{}, inProgress(claim.Age)
	}
	// The operation and the storing of its response commit together, in one transaction
	// that the operation's own transactions join (store.WithTx): an acknowledged response is
	// always stored, and a request that dies before committing leaves nothing behind, so
	// the retry that takes its key over after the lease runs it exactly once. A 5xx, or a
	// response that cannot be stored (the claim was taken over meanwhile), rolls it all back
	// and releases the key; so does a panic.
	var res Response
	committed := false
	defer func() {
		if !committed {
			if err := s.FinishIdempotencyKey(context.WithoutCancel(ctx), caller, claim, http.StatusInternalServerError, nil); err != nil {
				e.reg.log.ErrorContext(ctx, "release idempotency key", "tool", e.Name, "request_id", RequestID(ctx), "err", err)
			}
		}
	}()
	err = s.InTx(ctx, caller, func(tx *store.Tx) error {
		txCtx := context.WithValue(store.WithTx(ctx, tx), idempotencyKeyKey{}, key)
		res = e.respond(txCtx, args)
		if res.Status >= http.StatusInternalServerError {
			return errServerResponse
		}
		return s.FinishIdempotencyKey(txCtx, caller, claim, res.Status, res.Body)
	})
	switch {
	case err == nil:
		committed = true
		return res, nil
	case errors.Is(err, errServerResponse):
		return res, nil
	}
	return Response{}, e.idempotencyFault(ctx, err)
}

// errServerResponse rolls back an idempotent request whose response is a 5xx.
var errServerResponse = errors.New("tools: 5xx response")

// respond runs the capability and encodes its outcome as the surfaces send it.
func (e *Entry) respond(ctx context.Context, args map[string]any) Response {
	out, err := e.Call(ctx, args)
	if err != nil {
		return Response{Status: err.Status, Body: Encode(err.Body(ctx)), RetryAfter: err.RetryAfter}
	}
	res := Response{Status: e.REST.Status, Body: Encode(out)}
	if v, ok := out.(Versioned); ok {
		res.ETag = ETag(v.CurrentVersion())
	}
	return res
}

// storedETag is the entity tag of the record a stored successful response holds: the
// version it had when the response was first sent.
func (e *Entry) storedETag(r Response) string {
	if !r.OK() || !e.ReturnsRecord() {
		return ""
	}
	var body struct {
		Version int64 `json:"version"`
	}
	if json.Unmarshal(r.Body, &body) != nil || body.Version == 0 {
		return ""
	}
	return ETag(body.Version)
}

// storedErrorCode is the error code of a stored failed response ("" for a success): the
// code of the error body Relm stored with the key.
func storedErrorCode(r Response) Code {
	if r.OK() {
		return ""
	}
	var body struct {
		Error struct {
			Code Code `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &body) != nil || body.Error.Code == "" {
		return CodeInternal
	}
	return body.Error.Code
}

func (e *Entry) idempotencyFault(ctx context.Context, err error) *Error {
	e.reg.log.ErrorContext(ctx, "idempotency key", "tool", e.Name, "request_id", RequestID(ctx), "err", err)
	return Unexpected(err, internalMessage)
}

// inProgress is idempotency_in_progress for a key whose request has run for age, with
// retry_after about as long again (at least a second): a retry soon after the first
// request is told to poll again soon, and each retry waits longer, as the request's own
// answer grows less likely. It never points past the end of the lease, when a retry takes
// over the key of a request that died.
func inProgress(age time.Duration) *Error {
	left := store.IdempotencyLease - age
	wait := min(max(age, time.Second), left)
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	e := NewError(CodeIdempotencyInProgress, "A request with this idempotency key is still running. Retry in %d seconds "+
		"with the same key and body to get its response. If that request died, its key frees up for a retry in %d "+
		"seconds, when its %d-minute lease ends.",
		secs, max(int(math.Ceil(left.Seconds())), 1), int(store.IdempotencyLease.Minutes()))
	e.RetryAfter = secs
	return e
}

// RequestHash identifies a request for idempotency: the capability's route and its
// arguments in canonical JSON, so that key order, whitespace and the spelling of numbers
// (1, 1.0, 1e0) do not matter.
func (e *Entry) RequestHash(args map[string]any) ([]byte, error) {
	canon, err := canonicalJSON(args)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", e.REST.Method, e.REST.Path)
	h.Write(canon)
	return h.Sum(nil), nil
}

// canonicalJSON encodes v with sorted object keys, no insignificant whitespace and one
// spelling per number value.
func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return json.Marshal(canonicalNumbers(x))
}

func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = canonicalNumbers(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = canonicalNumbers(val)
		}
		return out
	case json.Number:
		return json.Number(canonicalNumber(string(x)))
	}
	return v
}

// canonicalNumber rewrites a JSON number literal exactly, as its significant digits and a
// decimal exponent: 1, 1.0, 1e0 and 10e-1 are all "1"; 100 and 1e2 are "1e2"; 0.25 is
// "25e-2"; -0 is "0". It never rounds, so distinct values stay distinct.
func canonicalNumber(lit string) string {
	s, neg := strings.CutPrefix(lit, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	var exp int64
	if hasExp {
		n, err := strconv.ParseInt(expText, 10, 64)
		if err != nil || n > 1<<40 || n < -(1<<40) {
			return lit // an absurd exponent: compare it as written
		}
		exp = n
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return "0"
	}
	sig := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(sig))
	if exp != 0 {
		sig += "e" + strconv.FormatInt(exp, 10)
	}
	if neg {
		sig = "-" + sig
	}
	return sig
}

// MCPInputSchema is the input schema published to MCP: the capability's, plus the optional
// idempotency_key argument where calls accept one. REST bodies and the validator do not
// know the argument; the MCP handler takes it out before validation.
func (e *Entry) MCPInputSchema() map[string]any {
	if !e.AcceptsIdempotencyKey() {
		return e.InputSchema
	}
	s := maps.Clone(e.InputSchema)
	props, _ := s["properties"].(map[string]any)
	props = maps.Clone(props)
	if props == nil {
		props = map[string]any{}
	}
	props[IdempotencyKeyArg] = map[string]any{
		"type":      "string",
		"minLength": 1,
		"maxLength": IdempotencyKeyMaxLen,
		"description": "Optional unique value (a UUID) that makes retrying safe: the same key and arguments within 24 hours " +
			"return the first result without acting again. Use a new key per new request.",
	}
	s["properties"] = props
	return s
}

// mcpIdempotent runs an MCP call that carries idempotency_key, which it removes from args;
// handled is false when the call carries none.
func (e *Entry) mcpIdempotent(ctx context.Context, args map[string]any) (res *mcp.CallToolResult, handled bool) {
	v, ok := args[IdempotencyKeyArg]
	if !ok || !e.AcceptsIdempotencyKey() {
		return nil, false
	}
	delete(args, IdempotencyKeyArg)
	key, isString := v.(string)
	problem := "must be a string, not " + jsonKind(v)
	if isString {
		problem = CheckIdempotencyKey(key)
	}
	if problem != "" {
		return e.mcpError(ctx, ValidationFailed([]schemas.FieldError{{Field: IdempotencyKeyArg, Message: problem}})), true
	}
	r, err := e.CallIdempotent(ctx, key, args)
	if err != nil {
		return e.mcpError(ctx, err), true
	}
	return mcpResponse(r.Body, !r.OK()), true
}

// mcpError is the failed tool result for err, reported as the call's outcome.
func (e *Entry) mcpError(ctx context.Context, err *Error) *mcp.CallToolResult {
	reportError(ctx, e.Name, err)
	return mcpResponse(Encode(err.Body(ctx)), true)
}

// mcpResponse is the tool result for an encoded result or error body: a result carries
// structuredContent plus the same JSON as text; an error only the text.
func mcpResponse(body []byte, isError bool) *mcp.CallToolResult {
	if isError {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}}
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(body)}},
		StructuredContent: jsonRaw(body),
	}
}

type idempotencyKeyKey struct{}

// idempotencyKeyFrom is the idempotency key of the request running the capability, if it
// has one: a capability that calls another service with its own idempotency (Resend)
// derives that service's key from it.
func idempotencyKeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(idempotencyKeyKey{}).(string)
	return k, ok
}

// WithIdempotencyKey returns ctx in which capabilities see key as their request's
// idempotency key (an automation's send_email derives Resend's from its run and action).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}
