package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Input limits every capability enforces on both surfaces, before schema validation
// (documented in docs/api.md "Limits").
const (
	MaxNesting     = 32        // levels of JSON objects and arrays
	MaxStringBytes = 64 << 10  // one string value or object key
	MaxInputBytes  = 1 << 20   // a whole input, as REST bodies are capped
	maxSafeJSONInt = 1<<53 - 1 // integers beyond this lose precision in JavaScript clients
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
// (JSON body, MCP arguments, query string): deep nesting, oversized or non-UTF-8 strings.
func checkLimits(v any, path string, depth int) *Error {
	if depth > MaxNesting {
		e := NewError(CodeBadRequest, "The input is nested more than %d levels deep at %s. Flatten it.", MaxNesting, orRoot(path))
		e.Param = path
		return e
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			e := NewError(CodeBadRequest, "The value of %s is not valid UTF-8. Encode text as UTF-8.", orRoot(path))
			e.Param = path
			return e
		}
		if len(x) > MaxStringBytes {
			e := NewError(CodeValidationFailed, "Invalid input: %s is longer than %d bytes.", orRoot(path), MaxStringBytes)
			e.Param = path
			return e
		}
	case map[string]any:
		for k, item := range x {
			if len(k) > MaxStringBytes || !utf8.ValidString(k) {
				return NewError(CodeValidationFailed, "Invalid input: an object key at %s is longer than %d bytes or not UTF-8.", orRoot(path), MaxStringBytes)
			}
			if err := checkLimits(item, join(path, k), depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, item := range x {
			if err := checkLimits(item, join(path, fmt.Sprint(i)), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
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

func join(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}
