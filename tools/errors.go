package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/relmcrm/relm/schemas"
	"github.com/relmcrm/relm/store"
)

// Code is a stable, machine-readable error code. Codes are part of the API contract:
// never rename one (docs/errors.md).
type Code string

// Error codes.
const (
	CodeBadRequest         Code = "bad_request"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeNotAcceptable      Code = "not_acceptable"
	CodeNotFound           Code = "not_found"
	CodeMethodNotAllowed   Code = "method_not_allowed"
	CodeAlreadyExists      Code = "already_exists"
	CodeTooLarge           Code = "request_too_large"
	CodeUnsupportedMedia   Code = "unsupported_media_type"
	CodeValidationFailed   Code = "validation_failed"
	CodeInvalidReference   Code = "invalid_reference"
	CodeInvalidFilter      Code = "invalid_filter"
	CodeInvalidCursor      Code = "invalid_cursor" // a cursor this list did not issue for these arguments
	CodeRateLimited        Code = "rate_limited"
	CodeConcurrencyLimited Code = "concurrency_limited" // too many requests of the key or workspace running at once
	CodeLimitReached       Code = "limit_reached"       // the workspace holds as many of something as it may (API keys)
	CodeQuotaExceeded      Code = "quota_exceeded"
	CodeInternal           Code = "internal_error"
	CodeUnavailable        Code = "service_unavailable" // the database cannot be reached: retry later
	CodePlanRequired       Code = "plan_required"       // the feature needs a higher plan than the workspace's
	CodeInsufficientScope  Code = "insufficient_scope"  // the API key's scopes do not allow the call
	CodePreconditionFailed Code = "precondition_failed" // the record is no longer at the expected version (If-Match, expected_version)
	CodeConflict           Code = "conflict"            // the record changed since the change being reverted: pass force to revert anyway
)

// CodeSecretKeyRequired means the server cannot store a credential (a webhook signing
// secret, a Resend key): its operator has not given it a lasting server secret.
const CodeSecretKeyRequired Code = "secret_key_required"

// Error codes of idempotency keys (Idempotency-Key on REST, idempotency_key on MCP).
const (
	CodeIdempotencyConflict   Code = "idempotency_conflict"    // the key was used for a different request
	CodeIdempotencyInProgress Code = "idempotency_in_progress" // a request with the key is still running
)

// Error codes of pipeline and stage changes that the workspace's deals or its default
// pipeline forbid.
const (
	CodeCannotDeleteDefault Code = "cannot_delete_default" // the default pipeline cannot be deleted
	CodePipelineInUse       Code = "pipeline_in_use"       // deals are still in the pipeline
	CodeStageInUse          Code = "stage_in_use"          // deals are still in the stage
)

// Codes lists every error code with its HTTP status, for documentation and tests.
var Codes = map[Code]int{
	CodeBadRequest:          http.StatusBadRequest,
	CodeUnauthorized:        http.StatusUnauthorized,
	CodeForbidden:           http.StatusForbidden,
	CodeNotAcceptable:       http.StatusNotAcceptable,
	CodeNotFound:            http.StatusNotFound,
	CodeMethodNotAllowed:    http.StatusMethodNotAllowed,
	CodeAlreadyExists:       http.StatusConflict,
	CodeTooLarge:            http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia:    http.StatusUnsupportedMediaType,
	CodeValidationFailed:    http.StatusUnprocessableEntity,
	CodeInvalidReference:    http.StatusUnprocessableEntity,
	CodeInvalidFilter:       http.StatusBadRequest,
	CodeInvalidCursor:       http.StatusBadRequest,
	CodeRateLimited:         http.StatusTooManyRequests,
	CodeConcurrencyLimited:  http.StatusTooManyRequests,
	CodeLimitReached:        http.StatusConflict,
	CodeIntegrationRequired: http.StatusUnprocessableEntity,
	CodeEmailRejected:       http.StatusUnprocessableEntity,
	CodeProviderUnavailable: http.StatusServiceUnavailable,
	CodeSecretKeyRequired:   http.StatusServiceUnavailable,
	CodeQuotaExceeded:       http.StatusTooManyRequests,
	CodeInternal:            http.StatusInternalServerError,
	CodeUnavailable:         http.StatusServiceUnavailable,
	CodePlanRequired:        http.StatusForbidden,
	CodeInsufficientScope:   http.StatusForbidden,
	CodePreconditionFailed:  http.StatusPreconditionFailed,
	CodeConflict:            http.StatusConflict,

	CodeIdempotencyConflict:   http.StatusConflict,
	CodeIdempotencyInProgress: http.StatusConflict,

	CodeCannotDeleteDefault: http.StatusConflict,
	CodePipelineInUse:       http.StatusConflict,
	CodeStageInUse:          http.StatusConflict,
}

// Error is a failure reported to the caller: a 4xx/5xx on REST and an isError result on
// MCP, with the same JSON body on both.
type Error struct {
	Status         int                  `json:"-"`
	Code           Code                 `json:"code" doc:"Stable, machine-readable error code (see docs/errors.md)." example:"validation_failed"`
	Message        string               `json:"message" doc:"What went wrong and what to do about it."`
	Param          string               `json:"param,omitempty" doc:"The input field or parameter at fault, when there is one."`
	Details        []schemas.FieldError `json:"details,omitempty" doc:"One entry per invalid field."`
	ExistingID     string               `json:"existing_id,omitempty" doc:"For already_exists: the id of the record that already has the value."`
	ValidOptions   []string             `json:"valid_options,omitempty" doc:"The accepted values, when an unknown one was given."`
	Suggestion     string               `json:"suggestion,omitempty" doc:"The valid option closest to what was sent, when one is close (a likely typo)."`
	CurrentVersion int64                `json:"current_version,omitempty" doc:"For precondition_failed: the record's version now."`
	ChangedFields  []string             `json:"changed_fields,omitempty" doc:"For precondition_failed: the fields changed since the expected version (metadata counts as one field); absent for a version the record never had."`
	Differences    []Difference         `json:"differences,omitempty" doc:"For conflict: each field whose current value differs from the value the reverted change left, with both values."`
	Retryable      bool                 `json:"retryable" doc:"Whether the same request may succeed if sent again unchanged, after retry_after seconds where given: true for rate_limited, concurrency_limited and quota_exceeded (429), service_unavailable (503) and idempotency_in_progress; false when the request itself must change."`
	RetryAfter     int                  `json:"retry_after,omitempty" doc:"Seconds to wait before retrying the same request, for the 429 refusals, service_unavailable and idempotency_in_progress (on REST also the Retry-After header)."`
	RequestID      string               `json:"request_id,omitempty" doc:"Id of this request (also in the Request-Id header); quote it when asking for support."`
}

// Difference is a field of a record whose current value is not the one a change left.
type Difference struct {
	Object  string `json:"object" doc:"Kind of the record (contact, company, deal, activity, association)."`
	ID      string `json:"id" doc:"Id of the record."`
	Field   string `json:"field" doc:"The field; \"record\" when the whole record is gone or back."`
	Current any    `json:"current" doc:"Its value now (null when the record does not exist)."`
	Event   any    `json:"event" doc:"Its value after the change being reverted."`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// ErrorBody is the JSON body of every failed request.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// NewError builds an Error whose status follows from code.
func NewError(code Code, format string, args ...any) *Error {
	status, ok := Codes[code]
	if !ok {
		panic("tools: unknown error code " + string(code))
	}
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// UnavailableRetryAfter is how long a caller is told to wait when the database cannot be
// reached: long enough for a restart or failover to make progress, short enough to notice
// its end soon.
const UnavailableRetryAfter = 3 * time.Second

// Unexpected is the caller-facing form of a failure the caller cannot fix: a database
// outage (store.ErrUnavailable) is service_unavailable, retryable after
// UnavailableRetryAfter; anything else is internal_error with msg, which must leak nothing.
// The caller logs err.
func Unexpected(err error, msg string) *Error {
	if errors.Is(err, store.ErrUnavailable) {
		e := NewError(CodeUnavailable, "The database cannot be reached right now. This is temporary: retry the same request "+
			"in %d seconds (an idempotency key makes retrying a write safe).", int(UnavailableRetryAfter.Seconds()))
		e.RetryAfter = int(UnavailableRetryAfter.Seconds())
		return e
	}
	return NewError(CodeInternal, "%s", msg)
}

// NotFound says no object of kind (a key of kindNames) has id in the caller's workspace
// and mode.
func NotFound(kind, id string) *Error {
	n := nameOf(kind)
	e := NewError(CodeNotFound, "No %s with id %q exists in this workspace and mode. Check the id, or list %s to find it.", n.one, id, n.many)
	e.Param = "id"
	return e
}

// kindName is how messages name one object of a kind, and several.
type kindName struct{ one, many string }

// kindNames names every kind of object messages mention, by its object value ("company"):
// the one table of plurals, since English plurals are not a suffix.
var kindNames = map[string]kindName{
	"contact":          {"contact", "contacts"},
	"company":          {"company", "companies"},
	"deal":             {"deal", "deals"},
	"activity":         {"activity", "activities"},
	"association":      {"association", "associations"},
	"event":            {"event", "events"},
	"request_log":      {"request log", "request logs"},
	"request":          {"request", "request logs"},
	"custom_field":     {"custom field", "custom fields"},
	"api_key":          {"API key", "API keys"},
	"oauth_grant":      {"OAuth grant", "OAuth grants"},
	"webhook_endpoint": {"webhook endpoint", "webhook endpoints"},
	"webhook_delivery": {"webhook delivery", "webhook deliveries (list_webhook_deliveries)"},
	"email":            {"email", "emails"},
	"automation":       {"automation", "automations"},
	"sandbox":          {"sandbox", "sandboxes"},
}

// nameOf names kind for messages; a kind missing from kindNames (a bug TestKindNames
// catches) is named as it is spelt.
func nameOf(kind string) kindName {
	if n, ok := kindNames[kind]; ok {
		return n
	}
	return kindName{kind, kind}
}

// UnknownParameter is bad_request for a query parameter that route (such as "GET
// /v1/contacts") does not take, listing the ones it does (valid, possibly none) with a
// suggestion when name looks like a typo of one.
func UnknownParameter(name, route string, valid []string) *Error {
	e := NewError(CodeBadRequest, "%s takes no query parameter %q. Use one of valid_options.", route, name)
	if len(valid) == 0 {
		e = NewError(CodeBadRequest, "%s takes no query parameters, so %q is refused.", route, name)
	}
	e.Param, e.ValidOptions, e.Suggestion = name, valid, closest(name, valid)
	return e
}

// ValidationFailed reports invalid fields.
func ValidationFailed(details []schemas.FieldError) *Error {
	msgs := make([]string, 0, len(details))
	for _, d := range details {
		if d.Field == "" {
			msgs = append(msgs, "input "+d.Message)
		} else {
			msgs = append(msgs, d.Field+" "+d.Message)
		}
	}
	e := NewError(CodeValidationFailed, "Invalid input: %s.", strings.Join(msgs, "; "))
	if len(details) > 0 {
		e.Param = details[0].Field
		if d := details[0]; len(details) == 1 && d.Options != nil {
			e.ValidOptions, e.Suggestion = d.Options, closest(d.Got, d.Options)
		}
	}
	e.Details = details
	return e
}

// Body wraps e, stamped with the request id of ctx, as the wire error body.
func (e *Error) Body(ctx context.Context) ErrorBody {
	cp := *e
	cp.RequestID = RequestID(ctx)
	cp.Retryable = e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable || e.Code == CodeIdempotencyInProgress
	return ErrorBody{Error: &cp}
}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return store.WithRequestID(ctx, id)
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	return store.RequestID(ctx)
}
