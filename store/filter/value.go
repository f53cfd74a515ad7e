package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relmcrm/relm/schemas"
)

// badValue says why a value was rejected, as a predicate ("must be an integer") that the
// caller completes with the parameter's name, and the accepted values when they are a set.
type badValue struct {
	must    string
	options []string
}

// reject builds the badValue for a predicate.
func reject(must string) *badValue { return &badValue{must: must} }

// parseValue turns one value for field into what is bound for it: a string, int64,
// time.Time, bool or (for a Number) the json.Number of its exact literal.
func parseValue(f Field, v any) (any, *badValue) {
	switch f.Kind {
	case Text, CIText:
		return textValue(v)
	case ID:
		return idValue(v)
	case Integer:
		return integerValue(v)
	case Date:
		return dateValue(v)
	case Timestamp:
		return timestampValue(v)
	case Enum:
		return enumValue(v, f.Values)
	case Bool:
		return boolValue(v)
	case Number:
		n, bad := numberValue(v)
		if bad != nil {
			return nil, bad
		}
		return n, nil
	}
	return nil, reject("cannot be filtered on (the field has an unknown kind)")
}

// stringValue checks that v is a string that can be bound as PostgreSQL text.
func stringValue(v any) (string, *badValue) {
	s, ok := v.(string)
	if !ok {
		return "", reject("must be a string")
	}
	return s, checkString(s)
}

// checkString rejects strings PostgreSQL text cannot hold, and ones over the size limit.
func checkString(s string) *badValue {
	switch {
	case len(s) > maxStringBytes:
		return reject(fmt.Sprintf("must be at most %d bytes long", maxStringBytes))
	case !utf8.ValidString(s):
		return reject("must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return reject("must not contain NUL characters")
	}
	return nil
}

// textValue reads a Text or CIText value.
func textValue(v any) (any, *badValue) { return stringValue(v) }

// idValue reads an ID value: a non-empty string of at most 64 characters.
func idValue(v any) (any, *badValue) {
	s, bad := stringValue(v)
	switch {
	case bad != nil:
		return nil, bad
	case s == "":
		return nil, reject("must be a non-empty id")
	case utf8.RuneCountInString(s) > maxIDChars:
		return nil, reject(fmt.Sprintf("must be an id of at most %d characters", maxIDChars))
	}
	return s, nil
}

// jsonNumber matches the number syntax of JSON, the only number syntax filters accept.
var jsonNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

// errOutOfRange marks a number too large for the type it must fit.
var errOutOfRange = errors.New("out of range")

// integerValue reads an Integer value as an int64, from a number or a decimal string.
func integerValue(v any) (any, *badValue) {
	var n int64
	var err error
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case float64:
		n, err = floatToInt(x)
	case json.Number:
		n, err = parseInteger(string(x))
	case string:
		if bad := checkString(x); bad != nil {
			return nil, bad
		}
		n, err = parseInteger(x)
	default:
		err = strconv.ErrSyntax
	}
	switch {
	case errors.Is(err, errOutOfRange):
		return nil, reject(fmt.Sprintf("must be an integer between %d and %d", math.MinInt64, math.MaxInt64))
	case err != nil:
		return nil, reject("must be an integer")
	}
	return n, nil
}

// parseInteger reads a decimal integer, also written as a whole JSON number such as 12.0
// or 1e3, exactly.
func parseInteger(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if !jsonNumber.MatchString(s) {
		return 0, strconv.ErrSyntax
	}
	if errors.Is(err, strconv.ErrRange) || !schemas.StorableNumber(s) {
		return 0, errOutOfRange
	}
	r, ok := new(big.Rat).SetString(s)
	switch {
	case !ok || !r.IsInt():
		return 0, strconv.ErrSyntax
	case !r.Num().IsInt64():
		return 0, errOutOfRange
	}
	return r.Num().Int64(), nil
}

// floatToInt converts a whole float64 that fits an int64.
func floatToInt(f float64) (int64, error) {
	switch {
	case f != math.Trunc(f) || math.IsNaN(f):
		return 0, strconv.ErrSyntax
	case f < -(1<<63) || f >= 1<<63:
		return 0, errOutOfRange
	}
	return int64(f), nil
}

// dateValue reads a Date value, "YYYY-MM-DD", as midnight UTC.
func dateValue(v any) (any, *badValue) {
	s, bad := stringValue(v)
	if bad != nil {
		return nil, reject("must be a date like 2026-01-31")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, reject("must be a date like 2026-01-31")
	}
	return t, nil
}

// timestampValue reads a Timestamp value, RFC 3339 or "YYYY-MM-DD" (midnight UTC), in UTC.
func timestampValue(v any) (any, *badValue) {
	const must = "must be a timestamp like 2026-01-31T09:30:00Z (RFC 3339) or a date like 2026-01-31"
	s, bad := stringValue(v)
	if bad != nil {
		return nil, reject(must)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return nil, reject(must)
}

// enumValue reads an Enum value, which must be one of values.
func enumValue(v any, values []string) (any, *badValue) {
	s, ok := v.(string)
	for _, allowed := range values {
		if ok && s == allowed {
			return s, nil
		}
	}
	return nil, &badValue{must: "must be one of: " + strings.Join(values, ", "), options: values}
}

// boolValue reads a Bool value: a JSON bool, or "true" or "false".
func boolValue(v any) (any, *badValue) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if x == "true" || x == "false" {
			return x == "true", nil
		}
	}
	return nil, reject("must be true or false")
}

// listValues splits the value of an in into its items: a JSON array, or a comma-separated
// string; a single number or bool is a list of one.
func listValues(v any) ([]any, *badValue) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		items = make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
	case string:
		if x == "" {
			break
		}
		if strings.Count(x, ",") >= maxInValues {
			return nil, reject(fmt.Sprintf("must list at most %d values", maxInValues))
		}
		for _, s := range strings.Split(x, ",") {
			items = append(items, s)
		}
	case bool, float64, json.Number, int, int64, int32:
		items = []any{x}
	default:
		return nil, reject("must be a list of values: a JSON array or a comma-separated string")
	}
	switch {
	case len(items) == 0:
		return nil, reject("must list at least one value")
	case len(items) > maxInValues:
		return nil, reject(fmt.Sprintf("must list at most %d values", maxInValues))
	}
	return items, nil
}
