package email

import (
	"net/http"
	"testing"
	"time"
)

// TestClassify covers every name in Resend's error reference, the older forms still seen
// in the wild, and responses without a name. Messages are Resend's.
func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status        int
		name, message string
		kind          Kind
		retryable     bool
		field         string
	}{
		// Keys.
		{401, "missing_api_key", "Missing API key in the authorization header.", InvalidKey, false, ""},
		{400, "validation_error", "API key is invalid", InvalidKey, false, ""},
		{401, "validation_error", "API key is invalid", InvalidKey, false, ""},
		{403, "invalid_api_key", "API key is invalid.", InvalidKey, false, ""}, // the older form
		{403, "restricted_api_key", "API key is not active", InvalidKey, false, ""},
		{403, "suspended_api_key", "This API key is suspended", InvalidKey, false, ""},
		{401, "restricted_api_key", "This API key is restricted to only send emails.", RestrictedKey, false, ""},
		{403, "invalid_permission", "Access token is missing required scopes.", RestrictedKey, false, ""},
		// The sender.
		{403, "validation_error", "The acme.dev domain is not verified. Please, add and verify your domain on https://resend.com/domains", DomainNotVerified, false, ""},
		{403, "validation_error", "You can only send testing emails to your own email address (you@acme.dev). To send emails to other recipients, please verify a domain at resend.com/domains, and change the `from` address to an email using this domain.", DomainNotVerified, false, ""},
		{403, "invalid_to_address", "You can only send testing emails to your own email address.", DomainNotVerified, false, ""},
		{422, "validation_error", "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.", InvalidFrom, false, "from"},
		{403, "invalid_from_address", "The from address is not valid.", InvalidFrom, false, "from"},
		// Requests.
		{422, "validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.", Validation, false, "to"},
		{422, "missing_required_field", "Missing `subject` field.", Validation, false, "subject"},
		{422, "missing_required_field", "The request body is missing one or more required fields.", Validation, false, ""},
		{422, "missing_required_parameter", "The request is missing one or more required parameters.", Validation, false, ""},
		{422, "invalid_parameter", "The `id` must be a valid UUID.", Validation, false, "id"},
		{422, "invalid_region", `Region must be "us-east-1" | "eu-west-1" | "sa-east-1" | "ap-northeast-1".`, Validation, false, ""},
		{422, "invalid_attachment", "Attachment must have either a `content` or `path`.", Validation, false, "content"},
		{400, "invalid_idempotency_key", "Idempotency keys, if present, must have between 1 and 256 characters.", Validation, false, ""},
		{422, "invalid_access", `Access must be "full_access" | "sending_access".`, Validation, false, ""},
		{403, "validation_error", "The `example.com` domain has been registered already.", Validation, false, ""},
		{404, "not_found", "Domain not found", NotFound, false, ""},
		{404, "not_found", "The requested endpoint does not exist.", NotFound, false, ""},
		{409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.", Conflict, false, ""},
		{409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress.", Conflict, true, ""},
		{409, "resource_locked", "Another request is already updating this resource.", Conflict, true, ""},
		// Limits and outages.
		{429, "rate_limit_exceeded", "Too many requests.", RateLimited, true, ""},
		{429, "daily_quota_exceeded", "You have exceeded your daily email sending quota.", QuotaExceeded, false, ""},
		{429, "monthly_quota_exceeded", "You have exceeded your monthly email sending quota.", QuotaExceeded, false, ""},
		{500, "application_error", "An unexpected error occurred.", ServerError, true, ""},
		{500, "internal_server_error", "An unexpected error occurred.", ServerError, true, ""},
		{503, "service_unavailable", "API is temporarily unavailable", ServerError, true, ""},
		// Undocumented names and bodies without one: the status decides.
		{429, "", "Too Many Requests", RateLimited, true, ""},
		{502, "", "Bad Gateway", ServerError, true, ""},
		{404, "", "Not Found", NotFound, false, ""},
		{401, "", "Unauthorized", InvalidKey, false, ""},
		{400, "", "Bad Request", Validation, false, ""},
		{403, "", "error code: 1010", Unknown, false, ""}, // Cloudflare, no User-Agent
		{405, "method_not_allowed", "Method is not allowed for the requested path.", Unknown, false, ""},
		{451, "security_error", "We may have found a security issue with the request.", Unknown, false, ""},
		{0, "", "dial tcp: connection refused", Network, true, ""},
	}
	for _, c := range cases {
		e := &Error{Status: c.status, Name: c.name, Message: c.message}
		if e.Kind() != c.kind || e.Retryable() != c.retryable || e.Field() != c.field {
			t.Errorf("%d %s %q: kind %v, retryable %v, field %q; want %v, %v, %q",
				c.status, c.name, c.message, e.Kind(), e.Retryable(), e.Field(), c.kind, c.retryable, c.field)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		kind Kind
		h    http.Header
		want time.Duration
	}{
		{RateLimited, header("retry-after", "3", "ratelimit-reset", "1"), 3 * time.Second},
		{RateLimited, header("ratelimit-reset", "2"), 2 * time.Second},
		{RateLimited, header("retry-after", "Wed, 01 Jul 2026 12:00:05 GMT"), 5 * time.Second},
		{RateLimited, header("retry-after", "Wed, 01 Jul 2026 11:00:00 GMT"), 0},
		{RateLimited, header(), time.Second},
		{RateLimited, header("retry-after", "soon", "ratelimit-reset", "-1"), time.Second},
		{RateLimited, header("retry-after", "NaN"), time.Second},
		{ServerError, header("retry-after", "30"), 30 * time.Second},
		{ServerError, header("ratelimit-reset", "1"), 0},
		{QuotaExceeded, header("retry-after", "60"), 0},
		{Validation, header("ratelimit-reset", "1"), 0},
	}
	for _, c := range cases {
		if got := retryAfter(c.kind, c.h, now); got != c.want {
			t.Errorf("%v with %v: %v, want %v", c.kind, c.h, got, c.want)
		}
	}
}

func TestKindNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for k := Unknown; k <= Network; k++ {
		s := k.String()
		if s == "" || seen[s] {
			t.Errorf("kind %d has name %q, empty or taken", int(k), s)
		}
		seen[s] = true
	}
	if s := Kind(99).String(); s != "kind(99)" {
		t.Errorf("Kind(99) = %q", s)
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 3, 28, 17, 12, 2, 59593000, time.UTC)
	for _, s := range []string{
		"2026-03-28 17:12:02.059593+00",
		"2026-03-28 19:12:02.059593+02",
		"2026-03-28 17:12:02.059593+00:00",
		"2026-03-28T17:12:02.059593Z",
	} {
		if got := parseTimestamp(s); !got.Equal(want) {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
	if got := parseTimestamp("last tuesday"); !got.IsZero() {
		t.Errorf("an unknown form gave %v, want zero", got)
	}
}
