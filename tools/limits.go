package tools

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/relmcrm/relm/schemas"
)

// Input limits every capability enforces on both surfaces, before schema validation
// (documented in docs/api.md "Limits").
const (
	MaxNesting     = 32       // levels of JSON objects and arrays
	MaxStringBytes = 64 << 10 // one string value or object key
	MaxInputBytes  = 1 << 20  // a whole input, as REST bodies are capped
)

// checkRaw rejects encoded input that no capability accepts: too large, or not UTF-8
// (which JSON decoding would otherwise silently replace).
func checkRaw(raw []byte) *Error {
	if len(raw) > MaxInputBytes {
		return NewError(CodeTooLarge, "The input is larger than %d bytes. Send less data per request.", MaxInputBytes)
	}
	if !utf8.Valid(raw) {
		return NewError(CodeBadRequest, "The input is not valid UTF-8. Encode text as UTF-8.")
	}
	return nil
}

// checkLimits rejects decoded input that no capability accepts, wherever it came from
// (JSON body, MCP arguments, query string, path): deep nesting; strings or object keys
// that are oversized, not UTF-8 or hold a NUL (which PostgreSQL text cannot store); and
// numbers Relm cannot store exactly (schemas.StorableNumber).
func checkLimits(v any, path string, depth int) *Error {
	if depth > MaxNesting {
		return nestingError(path)
	}
	switch x := v.(type) {
	case string:
		return checkString(x, path, "The value of "+orRoot(path))
	case json.Number:
		if !schemas.StorableNumber(string(x)) {
			e := NewError(CodeValidationFailed, "Invalid input: %s is a number Relm cannot store exactly: written out in full "+
				"(as it is stored and returned) it has more than %d digits.", orRoot(path), schemas.MaxNumberDigits)
			e.Param = path
			return e
		}
	case map[string]any:
		for k, item := range x {
			if err := checkString(k, schemas.JoinField(path, k), "An object key at "+orRoot(path)); err != nil {
				return err
			}
			if err := checkLimits(item, schemas.JoinField(path, k), depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, item := range x {
			if err := checkLimits(item, schemas.JoinField(path, strconv.Itoa(i)), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkString applies the limits of every string, value or key, naming it path; what
// introduces it in messages.
func checkString(s, path, what string) *Error {
	var e *Error
	switch {
	case !utf8.ValidString(s):
		e = NewError(CodeBadRequest, "%s is not valid UTF-8. Encode text as UTF-8.", what)
	case len(s) > MaxStringBytes:
		e = NewError(CodeValidationFailed, "Invalid input: %s is longer than %d bytes.", strings.ToLower(what[:1])+what[1:], MaxStringBytes)
	case strings.IndexByte(s, 0) >= 0:
		e = NewError(CodeValidationFailed, "Invalid input: %s contains a NUL character (\\u0000), which cannot be stored. Remove it.", strings.ToLower(what[:1])+what[1:])
	default:
		return nil
	}
	e.Param = path
	return e
}

// nestingError refuses input nested deeper than MaxNesting, at path.
func nestingError(path string) *Error {
	e := NewError(CodeBadRequest, "The input is nested more than %d levels deep at %s. Flatten it.", MaxNesting, orRoot(path))
	e.Param = path
	return e
}

// decodeError explains why validated arguments did not fit the capability's Go types:
// in practice a number out of the range of its field.
func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		e := NewError(CodeValidationFailed, "Invalid input: %s must be a %s within range.", te.Field, te.Type.Kind())
		e.Param = te.Field
		return e
	}
	return NewError(CodeValidationFailed, "Invalid input: it does not fit the expected types. Check the numbers are within range.")
}

func orRoot(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
