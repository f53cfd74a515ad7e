package automations

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/relmcrm/relm/tools"
)

// Lookup finds a condition's field in an event's data: previous_attributes and the fields
// an event adds beside its record (new_stage) in the data, anything else in the record
// (data.object), by dot-path.
func Lookup(data map[string]any, path string) (any, bool) {
	root, _, _ := strings.Cut(path, ".")
	var cur any = data
	if obj, ok := data["object"].(map[string]any); ok && root != "previous_attributes" {
		if _, inObject := obj[root]; inObject || data[root] == nil {
			cur = obj
		}
	}
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Matches reports whether every condition holds for data, and if not, which fails.
func Matches(conds []tools.Condition, data map[string]any) (bool, string) {
	for i, c := range conds {
		got, present := Lookup(data, c.Field)
		present = present && got != nil
		ok := false
		switch c.Op {
		case "eq":
			ok = present && same(got, c.Value.V)
		case "neq":
			ok = !present || !same(got, c.Value.V)
		case "contains":
			ok = present && contains(got, c.Value.V)
		case "exists":
			want, _ := c.Value.V.(bool)
			ok = present == (c.Value.V == nil || want)
		case "in":
			list, _ := c.Value.V.([]any)
			for _, v := range list {
				ok = ok || (present && same(got, v))
			}
		}
		if !ok {
			return false, fmt.Sprintf("condition %d (%s %s %s) does not hold", i, c.Field, c.Op, tools.Encode(c.Value.V))
		}
	}
	return true, ""
}

// same compares two JSON values, numbers by value.
func same(a, b any) bool {
	return reflect.DeepEqual(normal(a), normal(b))
}

func normal(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normal(e)
		}
		return out
	}
	return v
}

// contains is substring (case-insensitive) for text, membership for lists.
func contains(got, want any) bool {
	switch g := got.(type) {
	case string:
		w, ok := want.(string)
		return ok && strings.Contains(strings.ToLower(g), strings.ToLower(w))
	case []any:
		for _, e := range g {
			if same(e, want) {
				return true
			}
		}
	}
	return false
}

// Context names the records an event is about, for actions: the record itself ("self" is
// its kind) and the contact, deal and company it links to.
func Context(evType string, data map[string]any) map[string]string {
	kind, _, _ := strings.Cut(evType, ".")
	obj, _ := data["object"].(map[string]any)
	str := func(k string) string { s, _ := obj[k].(string); return s }
	refs := map[string]string{}
	switch kind {
	case "contact":
		refs["contact"], refs["company"] = str("id"), str("company_id")
	case "company":
		refs["company"] = str("id")
	case "deal":
		refs["deal"], refs["company"], refs["contact"] = str("id"), str("company_id"), str("primary_contact_id")
	case "activity":
		refs["activity"], refs["contact"], refs["deal"], refs["company"] = str("id"), str("contact_id"), str("deal_id"), str("company_id")
	}
	if _, ok := refs[kind]; ok && strings.HasSuffix(evType, ".deleted") {
		delete(refs, kind) // a deleted record cannot be acted on
	} else if ok {
		refs["self"] = kind
	}
	return refs
}
