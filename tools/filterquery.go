package tools

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/relmcrm/relm/store/filter"
)

// The wire form of a list's filter in a URL query (filter[field][op]=value), which REST
// turns into the structured filter a list capability's input takes.

// FilterFromQuery moves every filter[...] parameter of q into the structured filter and
// returns it with the remaining parameters (q itself is not modified); a malformed
// parameter is an invalid_filter error.
func FilterFromQuery(q url.Values) (map[string]any, url.Values, *Error) {
	f, rest, err := fromQuery(q)
	if err != nil {
		return nil, nil, FilterError(err)
	}
	return f, rest, nil
}

// fromQuery moves every filter[...] parameter of q into the structured form and returns it
// with the remaining parameters (q itself is not modified). Malformed keys ("filter[",
// "filter[a][b][c]", "filter[]", "filter[a][]") and a parameter given twice are errors.
//
// filter[f]=v becomes {"f": "v"}; filter[f][op]=v becomes {"f": {"op": "v"}}, and both
// forms of one field merge into the object form. On success the filter is never nil.
func fromQuery(q url.Values) (map[string]any, url.Values, *filter.Error) {
	f := map[string]any{}
	rest := url.Values{}
	for _, key := range slices.Sorted(maps.Keys(q)) {
		vals := q[key]
		if !isFilterKey(key) {
			rest[key] = slices.Clone(vals)
			continue
		}
		name, op, ok := parseKey(key)
		if !ok {
			return nil, nil, &filter.Error{Param: key, Message: fmt.Sprintf(
				"Query parameter %s is malformed; write filter[field]=value or filter[field][op]=value.", filter.Quote(key))}
		}
		if len(vals) != 1 {
			return nil, nil, &filter.Error{Param: key, Message: fmt.Sprintf(
				"Query parameter %s is given %d times; give it once.", key, len(vals))}
		}
		if err := addCondition(f, name, op, vals[0]); err != nil {
			return nil, nil, err
		}
	}
	return f, rest, nil
}

// isFilterKey reports whether a query parameter belongs to the filter.
func isFilterKey(key string) bool {
	return key == "filter" || strings.HasPrefix(key, "filter[")
}

// parseKey splits filter[name] and filter[name][op]; op is empty in the first form.
func parseKey(key string) (name string, op filter.Op, ok bool) {
	rest := strings.TrimPrefix(key, "filter")
	var parts []string
	for rest != "" && len(parts) < 3 {
		end := strings.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			return "", "", false
		}
		part := rest[1:end]
		if part == "" || strings.Contains(part, "[") {
			return "", "", false
		}
		parts = append(parts, part)
		rest = rest[end+1:]
	}
	switch {
	case rest != "":
		return "", "", false
	case len(parts) == 1:
		return parts[0], "", true
	case len(parts) == 2:
		return parts[0], filter.Op(parts[1]), true
	}
	return "", "", false
}

// addCondition records one query parameter in the structured filter f. An empty op is the
// shorthand for eq; it stays a bare value unless the field has other ops too.
func addCondition(f map[string]any, name string, op filter.Op, value string) *filter.Error {
	existing, seen := f[name]
	if op == "" {
		if !seen {
			f[name] = value
			return nil
		}
		op = filter.Eq
	}
	ops, isObject := existing.(map[string]any)
	switch {
	case !seen:
		f[name] = map[string]any{string(op): value}
		return nil
	case !isObject: // the shorthand came first
		ops = map[string]any{string(filter.Eq): existing}
		f[name] = ops
	}
	if _, dup := ops[string(op)]; dup {
		return &filter.Error{Param: filter.OpParam(name, op), Message: fmt.Sprintf(
			"Both %s and %s are given; they mean the same, give one.", filter.FieldParam(name), filter.OpParam(name, op))}
	}
	ops[string(op)] = value
	return nil
}
