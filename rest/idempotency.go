package rest

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/tools"
)

// IdempotencyKeyHeader makes a POST safe to retry; the semantics are tools.Entry.CallIdempotent's.
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader marks a response replayed for a repeated Idempotency-Key.
const ReplayedHeader = "Idempotent-Replayed"

// idempotencyKeyParam documents the Idempotency-Key header of POST operations.
func idempotencyKeyParam() *huma.Param {
	minLen, maxLen := 1, tools.IdempotencyKeyMaxLen
	return &huma.Param{
		Name: IdempotencyKeyHeader,
		In:   "header",
		Description: "A unique value (such as a UUID) that makes retrying this request safe. Within 24 hours, in the key's " +
			"workspace and mode, repeating the key with the same body replays the stored response (status and body) with " +
			"Idempotent-Replayed: true, without doing anything again; a different body is 409 idempotency_conflict; a " +
			"repeat while the first request still runs is 409 idempotency_in_progress, with Retry-After. 5xx responses are not stored.",
		Schema: &huma.Schema{Type: "string", MinLength: &minLen, MaxLength: &maxLen},
	}
}

// serveIdempotent answers a POST that carries an Idempotency-Key; it reports false, having
// written nothing, for other requests.
func (rt *route) serveIdempotent(hctx huma.Context) bool {
	if rt.binding.Method != http.MethodPost {
		return false
	}
	var keys []string
	hctx.EachHeader(func(name, value string) {
		if http.CanonicalHeaderKey(name) == IdempotencyKeyHeader {
			keys = append(keys, value)
		}
	})
	if len(keys) == 0 {
		return false
	}
	ctx := hctx.Context()
	fail := func(err *tools.Error) bool {
		rt.writeError(hctx, err)
		return true
	}
	if !rt.entry.AcceptsIdempotencyKey() {
		why := "its response holds a secret that is never stored, so it cannot be replayed"
		if rt.entry.Transient {
			why = "it keeps nothing, so there is nothing to protect from being done twice"
		}
		e := tools.NewError(tools.CodeBadRequest, "%s %s does not take an %s: %s. Send the request without the header.",
			rt.binding.Method, rt.binding.Path, IdempotencyKeyHeader, why)
		e.Param = IdempotencyKeyHeader
		return fail(e)
	}
	if len(keys) > 1 {
		return fail(keyError("is given %d times; give it once", len(keys)))
	}
	if problem := tools.CheckIdempotencyKey(keys[0]); problem != "" {
		return fail(keyError("%s", problem))
	}
	args, _, err := rt.input(hctx)
	if err != nil {
		return fail(err)
	}
	res, err := rt.entry.CallIdempotent(ctx, keys[0], args)
	if err != nil {
		return fail(err)
	}
	if res.Replayed {
		hctx.SetHeader(ReplayedHeader, "true")
	}
	setRetryAfter(hctx.SetHeader, res.RetryAfter)
	if res.ETag != "" {
		hctx.SetHeader(ETagHeader, res.ETag)
	}
	writeJSON(hctx, res.Status, res.Body)
	return true
}

func keyError(format string, args ...any) *tools.Error {
	e := tools.NewError(tools.CodeBadRequest, "The "+IdempotencyKeyHeader+" header "+format+
		". Send one unique value of 1 to 255 characters, such as a UUID, per distinct request.", args...)
	e.Param = IdempotencyKeyHeader
	return e
}
