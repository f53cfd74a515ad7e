package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/relmcrm/relm/schemas"
)

// metadataKey matches the metadata keys a filter may name.
var metadataKey = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`)

// metadataOps are the ops a metadata key takes; gt, gte, lt and lte compare numbers only.
var metadataOps = []Op{Eq, Neq, Gt, Gte, Lt, Lte, Ilike, In}

// metadataCondition compiles one op on key of the JSONB column mc. The key is bound, never
// written into the SQL. Equality uses containment (mc @> {"key": value}) so an index on mc
// can serve it.
func metadataCondition(mc, key string, o opValue) (condition, *Error) {
	switch o.op {
	case Eq, Neq:
		docs, bad := metadataDocs(key, o.value)
		if bad != nil {
			return nil, invalidValue(o, bad)
		}
		return func(bind func(any) string) string {
			if o.op == Neq {
				return "NOT (" + containsAny(mc, docs, bind) + ")"
			}
			return containsAny(mc, docs, bind)
		}, nil
	case In:
		return metadataIn(mc, key, o)
	case Ilike:
		s, bad := stringValue(o.value)
		if bad == nil {
			bad = checkPattern(s)
		}
		if bad != nil {
			return nil, invalidValue(o, bad)
		}
		return func(bind func(any) string) string {
			return "(" + mc + "->>" + bind(key) + "::text) ILIKE " + bind(s)
		}, nil
	case Gt, Gte, Lt, Lte:
		n, bad := numberValue(o.value)
		if bad != nil {
			if bad.must == mustBeNumber {
				bad = reject(mustBeNumber + " (gt, gte, lt and lte compare numbers only)")
			}
			return nil, invalidValue(o, bad)
		}
		return numberRange(mc, key, o.op, n), nil
	}
	return nil, unknownOp(o, metadataOps)
}

// numberRange compares the metadata key key of the JSONB column mc with the number n,
// exactly, counting only numeric JSON values, so values of other types never match nor
// make the comparison fail. The comparison is of JSONB values (numbers compare as
// numerics, at any precision), written so that an index on (mc->'key') can serve it beneath row-level security:
// -> and the jsonb comparisons are marked leakproof (store/leakproof.go), while a cast to
// numeric, which can fail, would rule the index out. The type check comes after it.
func numberRange(mc, key string, op Op, n json.Number) condition {
	return func(bind func(any) string) string {
		val := mc + "->" + bind(key) + "::text"
		return "(" + val + " " + sqlOps[op] + " " + bind(jsonText(n)) + "::jsonb AND " + check("jsonb_typeof("+val+") = 'number'") + ")"
	}
}

// check is cond as a separate condition that the planner counts as true for half the rows.
// Written plainly, a type or format check on an expression without statistics counts for
// 0.5% of them, which made the planner read and sort all of a large tenant's records for a
// common range instead of reading the newest until a page is full (measured: 100 ms, not 1).
func check(cond string) string {
	return "CASE WHEN " + cond + " THEN TRUE ELSE FALSE END"
}

// jsonText is the JSON text of v, a string, bool or json.Number (valid, as numberValue
// returns them), which always marshal.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("filter: marshal metadata value: " + err.Error())
	}
	return string(b)
}

// metadataIn compiles an in on a metadata key: containment of any of the documents its
// values give, bound as one jsonb array.
func metadataIn(mc, key string, o opValue) (condition, *Error) {
	items, bad := listValues(o.value)
	if bad != nil {
		return nil, invalidValue(o, bad)
	}
	var docs []string
	for i, item := range items {
		d, bad := metadataDocs(key, item)
		if bad != nil {
			return nil, invalidItem(o, i, bad)
		}
		docs = append(docs, d...)
	}
	return func(bind func(any) string) string {
		return mc + " @> ANY(" + bind(docs) + "::jsonb[])"
	}, nil
}

// containsAny is the SQL matching a row whose mc contains any of docs.
func containsAny(mc string, docs []string, bind func(any) string) string {
	parts := make([]string, len(docs))
	for i, d := range docs {
		parts[i] = mc + " @> " + bind(d) + "::jsonb"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// metadataDocs returns the JSON documents {"key": value} a metadata row must contain to equal
// v. A string that also reads as a number or a bool matches either form, since REST values
// are always strings: "3" matches a stored 3 and "3".
func metadataDocs(key string, v any) ([]string, *badValue) {
	switch x := v.(type) {
	case string:
		if bad := checkString(x); bad != nil {
			return nil, bad
		}
		docs := []string{metadataDoc(key, x)}
		if n, ok := parseNumber(x); ok {
			docs = append(docs, metadataDoc(key, n))
		} else if x == "true" || x == "false" {
			docs = append(docs, metadataDoc(key, x == "true"))
		}
		return docs, nil
	case bool:
		return []string{metadataDoc(key, x)}, nil
	}
	n, bad := numberValue(v)
	if bad != nil {
		return nil, reject("must be a string, number or boolean")
	}
	return []string{metadataDoc(key, n)}, nil
}

// metadataDoc is the JSON text of {"key": v}. v is a string, bool or json.Number.
func metadataDoc(key string, v any) string {
	return jsonText(map[string]any{key: v})
}

// numberValue reads a number to compare or match metadata with, exactly, as the
// json.Number of its JSON literal: from a JSON number, a Go integer or finite float, or a
// string in JSON's number syntax. A number Relm could not store (schemas.StorableNumber)
// matches nothing stored, so it is refused.
func numberValue(v any) (json.Number, *badValue) {
	var lit string
	switch x := v.(type) {
	case int:
		lit = strconv.Itoa(x)
	case int64:
		lit = strconv.FormatInt(x, 10)
	case int32:
		lit = strconv.FormatInt(int64(x), 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", reject(mustBeNumber)
		}
		lit = strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		lit = string(x)
	case string:
		if len(x) > maxStringBytes {
			return "", reject(mustBeNumber)
		}
		lit = x
	default:
		return "", reject(mustBeNumber)
	}
	if !jsonNumber.MatchString(lit) {
		return "", reject(mustBeNumber)
	}
	n, ok := parseNumber(lit)
	if !ok {
		return "", reject(fmt.Sprintf("must be a number of at most %d digits written out in full", schemas.MaxNumberDigits))
	}
	return n, nil
}

const mustBeNumber = "must be a number"

// parseNumber reads a JSON number literal exactly, if Relm could store it.
func parseNumber(s string) (json.Number, bool) {
	if !jsonNumber.MatchString(s) || !schemas.StorableNumber(s) {
		return "", false
	}
	return json.Number(s), true
}
