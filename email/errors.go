package email

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind is what a caller can do about a failed Resend call. It is decided by the error
// body's name (and, where Resend reuses one name for several causes, its message), falling
// back on the HTTP status only when the body names nothing Resend documents.
type Kind int

const (
	// Unknown is a failure Resend does not document, such as a 403 from its edge proxy.
	Unknown Kind = iota
	// InvalidKey: the API key is missing, unknown, deleted, inactive or suspended.
	InvalidKey
	// RestrictedKey: the key is valid but may only send emails (domain calls are refused).
	RestrictedKey
	// Validation: Resend refused a field of the request; Error.Field names it when Resend does.
	Validation
	// InvalidFrom: the from address is malformed or not allowed.
	InvalidFrom
	// DomainNotVerified: the from address's domain is not a verified domain of the account,
	// or the shared testing domain (resend.dev) was used to write to someone else.
	DomainNotVerified
	// NotFound: no such domain in this account (or no such endpoint).
	NotFound
	// Conflict: an idempotency key reused with another body (final), or a request with the
	// same key or on the same resource still in progress (retryable).
	Conflict
	// RateLimited: too many requests per second; retry after Error.RetryAfter.
	RateLimited
	// QuotaExceeded: the account's daily or monthly sending quota is used up; retrying
	// will not help until the quota resets or the plan changes.
	QuotaExceeded
	// ServerError: Resend failed (5xx); retryable.
	ServerError
	// Network: no HTTP response (connection failure or timeout); retryable.
	Network
)

var kindNames = [...]string{
	Unknown:           "unknown",
	InvalidKey:        "invalid_key",
	RestrictedKey:     "restricted_key",
	Validation:        "validation",
	InvalidFrom:       "invalid_from",
	DomainNotVerified: "domain_not_verified",
	NotFound:          "not_found",
	Conflict:          "conflict",
	RateLimited:       "rate_limited",
	QuotaExceeded:     "quota_exceeded",
	ServerError:       "server_error",
	Network:           "network",
}

// String is the kind's snake_case name, stable enough to use as an error code.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Error is a failed Resend call: an error response (Status, and Resend's Name and Message
// from the body {statusCode, message, name}) or, with Status 0, a transport failure. Its
// text never contains the API key used for the call.
type Error struct {
	Status  int    // HTTP status; 0 when no response arrived
	Name    string // Resend's error name, such as "validation_error"; empty if the body had none
	Message string // Resend's message, or a description of the transport failure
	// RetryAfter is how long to wait before retrying a RateLimited (or 503) call, from
	// retry-after or else ratelimit-reset; zero when not known or not applicable.
	RetryAfter time.Duration

	cause error // the transport error behind a Network error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "resend: request failed: " + e.Message
	}
	name := e.Name
	if name == "" {
		name = strings.ToLower(strings.ReplaceAll(http.StatusText(e.Status), " ", "_"))
	}
	return fmt.Sprintf("resend: %d %s: %s", e.Status, name, e.Message)
}

// Unwrap returns the transport error behind a Network error (such as
// context.DeadlineExceeded), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Kind classifies the error; see Kind.
func (e *Error) Kind() Kind { return classify(e.Status, e.Name, e.Message) }

// Retryable reports whether the same request may succeed later unchanged: rate limits,
// server errors, transport failures and in-progress conflicts. Quota errors are not.
func (e *Error) Retryable() bool {
	switch e.Kind() {
	case RateLimited, ServerError, Network:
		return true
	case Conflict:
		return e.Name == "concurrent_idempotent_requests" || e.Name == "resource_locked"
	}
	return false
}

// fieldPattern finds the first `field` Resend quotes in a message, as in "Missing `to`
// field." or "The `id` must be a valid UUID.".
var fieldPattern = regexp.MustCompile("`([a-z_]+)`")

// Field is the request field a Validation or InvalidFrom error is about, when Resend's
// message names one ("to", "subject", "from", "id"); otherwise "".
func (e *Error) Field() string {
	switch e.Kind() {
	case InvalidFrom:
		return "from"
	case Validation:
		if m := fieldPattern.FindStringSubmatch(e.Message); m != nil {
			return m[1]
		}
	}
	return ""
}

// KindOf returns the Kind of err if it is (or wraps) an *Error, and Unknown otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind()
	}
	return Unknown
}

// classify maps a response to a Kind. Names come from Resend's error reference; several
// causes share validation_error, told apart by their messages.
func classify(status int, name, message string) Kind {
	if status == 0 {
		return Network
	}
	msg := strings.ToLower(message)
	switch name {
	case "missing_api_key", "invalid_api_key", "suspended_api_key":
		return InvalidKey
	case "restricted_api_key":
		// Also used, with 403 and "API key is not active", for a disabled key.
		if strings.Contains(msg, "not active") {
			return InvalidKey
		}
		return RestrictedKey
	case "invalid_permission":
		return RestrictedKey
	case "invalid_from_address":
		return InvalidFrom
	case "not_found":
		return NotFound
	case "rate_limit_exceeded":
		return RateLimited
	case "daily_quota_exceeded", "monthly_quota_exceeded":
		return QuotaExceeded
	case "application_error", "internal_server_error", "service_unavailable":
		return ServerError
	case "invalid_idempotent_request", "concurrent_idempotent_requests", "resource_locked":
		return Conflict
	case "validation_error", "invalid_to_address":
		switch {
		case strings.Contains(msg, "api key is invalid"):
			return InvalidKey
		case strings.Contains(msg, "domain is not verified"),
			strings.Contains(msg, "only send testing emails"):
			return DomainNotVerified
		case strings.Contains(msg, "invalid `from`"):
			return InvalidFrom
		}
		return Validation
	case "missing_required_field", "missing_required_parameter", "invalid_parameter",
		"invalid_region", "invalid_attachment", "invalid_idempotency_key", "invalid_access",
		"invalid_scope":
		return Validation
	}
	switch {
	case status == http.StatusTooManyRequests:
		return RateLimited
	case status >= 500:
		return ServerError
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusUnauthorized:
		return InvalidKey
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return Validation
	}
	return Unknown
}

// defaultRateLimitWait is RetryAfter for a 429 that says nothing about when to retry:
// Resend's limits are per second.
const defaultRateLimitWait = time.Second

// retryAfter reads how long to wait after a response of kind k: retry-after (seconds or an
// HTTP date), else ratelimit-reset (seconds), for rate limits and server errors only.
func retryAfter(k Kind, h http.Header, now time.Time) time.Duration {
	if k != RateLimited && k != ServerError {
		return 0
	}
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	if k == RateLimited {
		if d, ok := parseSeconds(h.Get("Ratelimit-Reset")); ok {
			return d
		}
		return defaultRateLimitWait
	}
	return 0
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if d, ok := parseSeconds(v); ok {
		return d, true
	}
	if t, err := http.ParseTime(strings.TrimSpace(v)); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func parseSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil || n > 86400 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
