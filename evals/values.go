package evals

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// vars are the values captured so far, by name.
type vars map[string]any

// refPattern finds {{name}} references in strings.
var refPattern = regexp.MustCompile(`\{\{\s*(` + captureName + `)\s*\}\}`)

// lookup returns the value captured as name.
func (v vars) lookup(name string) (any, error) {
	x, ok := v[name]
	if !ok {
		return nil, fmt.Errorf("nothing was captured as %q by an earlier step", name)
	}
	return x, nil
}

// interpolate replaces the {{name}} references in s. A string that is exactly one
// reference becomes the captured value itself, with its JSON type.
func (v vars) interpolate(s string) (any, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	if m := refPattern.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		return v.lookup(s[m[2]:m[3]])
	}
	var err error
	out := refPattern.ReplaceAllStringFunc(s, func(ref string) string {
		name := refPattern.FindStringSubmatch(ref)[1]
		x, lerr := v.lookup(name)
		if lerr != nil {
			err = lerr
			return ref
		}
		return text(x)
	})
	return out, err
}

// interpolateString is interpolate for places that need a string (paths, contains).
func (v vars) interpolateString(s string) (string, error) {
	x, err := v.interpolate(s)
	if err != nil {
		return "", err
	}
	return text(x), nil
}

// text is a value as it reads inside a string: strings as they are, anything else as JSON.
func text(x any) string {
	if s, ok := x.(string); ok {
		return s
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// argument resolves an argument value: {{name}} in strings, {"$ref": name} and
// {"$literal": value}, recursively.
func (v vars) argument(x any) (any, error) {
	switch x := x.(type) {
	case string:
		return v.interpolate(x)
	case map[string]any:
		if name, ok := x["$ref"].(string); ok && len(x) == 1 {
			return v.lookup(name)
		}
		if lit, ok := x["$literal"]; ok && len(x) == 1 {
			return lit, nil
		}
		if _, ok := x["$match"]; ok {
			return nil, fmt.Errorf("matchers ($match) belong in expectations, not in arguments")
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := v.argument(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := v.argument(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return x, nil
}

// arguments resolves a step's arguments.
func (v vars) arguments(args map[string]any) (map[string]any, error) {
	if args == nil {
		return map[string]any{}, nil
	}
	out, err := v.argument(args)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// pathSegment is one step of a capture path: an object key or array index, or a filter
// that picks the first array element whose field equals a value.
type pathSegment struct {
	key           string
	filter        bool
	field, equals string
}

var filterSegment = regexp.MustCompile(`^\[([^=\]]+)=(.*)\]$`)

// parsePath reads a capture path: "" for the whole result, or a JSON Pointer whose
// segments may also be [field=value] filters.
func parsePath(p string) ([]pathSegment, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q must be empty or start with /", p)
	}
	var segs []pathSegment
	for _, raw := range strings.Split(p[1:], "/") {
		for {
			// a key followed by a filter, as in data[email=ada@example.com]
			i := strings.Index(raw, "[")
			if i <= 0 || !filterSegment.MatchString(raw[i:]) {
				break
			}
			segs = append(segs, pathSegment{key: unescape(raw[:i])})
			raw = raw[i:]
		}
		if m := filterSegment.FindStringSubmatch(raw); m != nil {
			segs = append(segs, pathSegment{filter: true, field: unescape(m[1]), equals: unescape(m[2])})
			continue
		}
		segs = append(segs, pathSegment{key: unescape(raw)})
	}
	return segs, nil
}

func unescape(s string) string { return strings.NewReplacer("~1", "/", "~0", "~").Replace(s) }

// resolvePath returns the value at path p (already interpolated) in doc.
func resolvePath(doc any, p string) (any, error) {
	segs, err := parsePath(p)
	if err != nil {
		return nil, err
	}
	cur, at := doc, ""
	for _, s := range segs {
		switch c := cur.(type) {
		case map[string]any:
			if s.filter {
				return nil, fmt.Errorf("%s is an object, not a list to filter with [%s=%s]", orRoot(at), s.field, s.equals)
			}
			next, ok := c[s.key]
			if !ok {
				return nil, fmt.Errorf("no field %q at %s", s.key, orRoot(at))
			}
			cur, at = next, at+"/"+escape(s.key)
		case []any:
			if s.filter {
				i := findElement(c, s.field, s.equals)
				if i < 0 {
					return nil, fmt.Errorf("no element of %s has %s = %q", orRoot(at), s.field, s.equals)
				}
				cur, at = c[i], at+"/"+strconv.Itoa(i)
				continue
			}
			i, err := strconv.Atoi(s.key)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s has %d elements; there is no element %q", orRoot(at), len(c), s.key)
			}
			cur, at = c[i], at+"/"+s.key
		default:
			return nil, fmt.Errorf("%s is %s, which has no %q", orRoot(at), kindOf(cur), s.key)
		}
	}
	return cur, nil
}

func findElement(list []any, field, equals string) int {
	for i, e := range list {
		if obj, ok := e.(map[string]any); ok {
			if v, ok := obj[field]; ok && scalarText(v) == equals {
				return i
			}
		}
	}
	return -1
}

// scalarText is how a value compares in a [field=value] filter.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	}
	return text(v)
}

func escape(key string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(key) }

func orRoot(at string) string {
	if at == "" {
		return "the result"
	}
	return at
}

// kindOf names the JSON type of v for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
