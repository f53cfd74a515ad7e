package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// MaxNumberDigits bounds a JSON number Relm accepts, counted written out in full (1e3 is
// 1000, four digits), which is how PostgreSQL stores and returns jsonb numbers. It is
// PostgreSQL's own bound on a declared numeric precision; beyond it a few bytes of input
// could become kilobytes of output on every read, and far beyond it PostgreSQL refuses the
// value.
const MaxNumberDigits = 1000

// maxExponent bounds the exponent NumberDigits reads; anything larger is refused anyway.
const maxExponent = 1_000_000

// UnmarshalExact is json.Unmarshal keeping numbers exact: a number decoded into an
// interface value (such as metadata's map[string]any) is a json.Number holding its
// literal, never a float64 rounded to 53 bits.
func UnmarshalExact(data []byte, v any) error {
	if emptyObject(data) && setEmpty(v) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], jsonSpace)) != 0 {
		return errors.New("schemas: data after the JSON value")
	}
	return nil
}

// jsonSpace is the white space JSON allows around values.
const jsonSpace = " \t\r\n"

// emptyObject reports whether data is the JSON empty object, white space aside: most
// records' metadata and field versions.
func emptyObject(data []byte) bool {
	data = bytes.Trim(data, jsonSpace)
	return len(data) >= 2 && data[0] == '{' && data[len(data)-1] == '}' && len(bytes.Trim(data[1:len(data)-1], jsonSpace)) == 0
}

// setEmpty does what json.Unmarshal does with an empty object for the destinations a
// record's jsonb columns scan into, reporting false for any other: a nil map becomes an
// empty one, a map keeps its entries, a nil interface holds an empty map[string]any.
func setEmpty(v any) bool {
	switch p := v.(type) {
	case *map[string]any:
		if *p == nil {
			*p = map[string]any{}
		}
		return true
	case *map[string]int64:
		if *p == nil {
			*p = map[string]int64{}
		}
		return true
	case *any:
		if *p == nil {
			*p = map[string]any{}
			return true
		}
	}
	return false
}

// StorableNumber reports whether the JSON number literal lit is one Relm stores exactly:
// at most MaxNumberDigits digits written out in full.
func StorableNumber(lit string) bool {
	n, ok := NumberDigits(lit)
	return ok && n <= MaxNumberDigits
}

// NumberDigits counts the digits of the JSON number literal lit written out in full, the
// way PostgreSQL prints a jsonb number: the integer part (at least one digit) and every
// fraction digit the literal implies, trailing zeros included (1.50 has three, 1.5e-3 has
// five: 0.0015). ok is false for a malformed literal or an exponent beyond ±1,000,000.
func NumberDigits(lit string) (n int, ok bool) {
	s := strings.TrimPrefix(lit, "-")
	mant, expText, hasExp := strings.Cut(s, "e")
	if !hasExp {
		mant, expText, hasExp = strings.Cut(s, "E")
	}
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e > maxExponent || e < -maxExponent {
			return 0, false
		}
		exp = e
	}
	whole, frac, hasPoint := strings.Cut(mant, ".")
	if whole == "" || !allDigits(whole) || !allDigits(frac) || hasPoint && frac == "" || len(whole) > 1 && whole[0] == '0' {
		return 0, false
	}
	scale := max(len(frac)-exp, 0)
	var intDigits int
	if w := strings.TrimLeft(whole, "0"); w != "" {
		intDigits = len(w) + exp
	} else if f := strings.TrimLeft(frac, "0"); f != "" {
		intDigits = exp - (len(frac) - len(f)) // the first significant digit is that far right of the point
	}
	return max(intDigits, 1) + scale, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
