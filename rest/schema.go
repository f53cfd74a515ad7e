package rest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/tools"
)

func jsonContent(s *huma.Schema) map[string]*huma.MediaType {
	return map[string]*huma.MediaType{"application/json": {Schema: s}}
}

// withoutProps returns a copy of object schema s without the named properties.
func withoutProps(s *huma.Schema, names []string) *huma.Schema {
	cp := *s
	cp.Properties = map[string]*huma.Schema{}
	for k, v := range s.Properties {
		if !slices.Contains(names, k) {
			cp.Properties[k] = v
		}
	}
	cp.Required = slices.DeleteFunc(slices.Clone(s.Required), func(r string) bool { return slices.Contains(names, r) })
	return &cp
}

// errorStatuses lists the error responses an operation documents.
func errorStatuses(e *tools.Entry, rt *route) []int {
	s := []int{http.StatusBadRequest, http.StatusUnauthorized}
	if len(rt.pathParams) > 0 {
		s = append(s, http.StatusNotFound)
	}
	if !e.Annotations.ReadOnly {
		s = append(s, http.StatusConflict)
	}
	if rt.preconditioned {
		s = append(s, http.StatusPreconditionFailed)
	}
	if rt.hasBody {
		s = append(s, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	return append(s, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable)
}

// retryAfterDoc documents the Retry-After header of an error status of e, or is "" where
// the status never carries one.
func retryAfterDoc(e *tools.Entry, status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "Seconds to wait before retrying."
	case status == http.StatusServiceUnavailable:
		return "Seconds to wait before retrying the same request (service_unavailable: the database cannot be reached)."
	case status == http.StatusConflict && e.AcceptsIdempotencyKey():
		return "With idempotency_in_progress: seconds to wait before retrying with the same Idempotency-Key."
	}
	return ""
}

// camel turns a tool name such as update_contact into UpdateContact.
func camel(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// commonHeaders are the headers every /v1 response carries (rate-limit headers on every
// response to a valid key), published once as components that responses refer to.
func commonHeaders() map[string]*huma.Header {
	str := &huma.Schema{Type: "string"}
	num := &huma.Schema{Type: "integer"}
	return map[string]*huma.Header{
		"Request-Id":            {Description: "Id of this request; also in error bodies.", Schema: str},
		"Relm-Version":          {Description: "The API version that answered.", Schema: str},
		"X-RateLimit-Limit":     {Description: "Requests allowed per window for this key.", Schema: num},
		"X-RateLimit-Remaining": {Description: "Requests left in the current window.", Schema: num},
		"X-RateLimit-Reset":     {Description: "When the window resets, in unix seconds.", Schema: num},
	}
}

// responseHeaders are a response's references to commonHeaders, to which a route adds its
// own (ETag; Retry-After on 429s).
func responseHeaders() map[string]*huma.Param {
	out := map[string]*huma.Param{}
	for name := range commonHeaders() {
		out[name] = &huma.Param{Ref: "#/components/headers/" + name}
	}
	return out
}
