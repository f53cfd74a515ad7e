package rest

import (
	"net/http"
	"slices"
	"sort"
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
	if rt.hasBody {
		s = append(s, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	return append(s, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusInternalServerError)
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
