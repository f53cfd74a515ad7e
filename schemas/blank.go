package schemas

import (
	"strconv"
	"strings"
	"unicode"
)

// IsBlank reports whether s shows nothing: it is empty, or holds only whitespace and
// invisible control or format characters (such as U+200B, the zero-width space).
func IsBlank(s string) bool {
	return strings.TrimFunc(s, invisible) == ""
}

func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf)
}

// blankMessage is what a blank value of a string that must not be empty is told.
const blankMessage = "must not be blank: it holds only whitespace or invisible characters"

// blankStrings adds a FieldError for every string in value that schema requires to be
// non-empty (minLength of 1 or more) and that is blank: a value that must say something
// cannot say it with spaces. It follows properties and items, as the inlined input
// schemas nest them.
func blankStrings(schema map[string]any, value any, path string, out *[]FieldError) {
	switch v := value.(type) {
	case string:
		if minLength(schema) >= 1 && IsBlank(v) {
			*out = append(*out, FieldError{Field: path, Message: blankMessage})
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, item := range v {
			if sub, ok := props[k].(map[string]any); ok {
				blankStrings(sub, item, JoinField(path, k), out)
			}
		}
	case []any:
		if sub, ok := schema["items"].(map[string]any); ok {
			for i, item := range v {
				blankStrings(sub, item, JoinField(path, strconv.Itoa(i)), out)
			}
		}
	}
}

// minLength reads a schema's minLength, 0 when it has none.
func minLength(schema map[string]any) float64 {
	switch n := schema["minLength"].(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	return 0
}
