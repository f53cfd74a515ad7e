package schemas

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// Nullable is a PATCH field: absent (leave unchanged), null (clear) or a value (set).
// Declare it with `json:",omitzero"` so absence is representable.
type Nullable[T any] struct {
	Set   bool // the field was present in the request
	Null  bool // the field was present and null
	Value T
}

// IsZero reports absence, for `omitzero`.
func (n Nullable[T]) IsZero() bool { return !n.Set }

// Ptr returns nil for null or absent, else a pointer to the value.
func (n Nullable[T]) Ptr() *T {
	if !n.Set || n.Null {
		return nil
	}
	v := n.Value
	return &v
}

// UnmarshalJSON records presence and nullness; numbers in the value stay exact.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return UnmarshalExact(b, &n.Value)
}

// MarshalJSON writes null or the value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Null || !n.Set {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// Schema is T's schema, with null allowed.
func (n Nullable[T]) Schema(r huma.Registry) *huma.Schema {
	s := r.Schema(reflect.TypeFor[T](), true, "")
	if s.Ref != "" {
		// Nullable references need anyOf; Relm only makes scalars nullable.
		panic("schemas: Nullable supports scalar types only")
	}
	cp := *s
	cp.Nullable = true
	return &cp
}
