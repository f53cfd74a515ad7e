package store

import (
	"strconv"

	"github.com/relmcrm/relm/schemas"
)

// query accumulates bound parameters so SQL text never contains caller input.
type query struct {
	args []any
}

// arg binds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// mergeMetadata returns the SQL expression for a metadata PATCH: null clears it, an
// object merges into it, and keys set to null are removed.
func mergeMetadata(q *query, m schemas.Nullable[map[string]any]) string {
	if m.Null {
		return "'{}'::jsonb"
	}
	set := map[string]any{}
	var remove []string
	for k, v := range m.Value {
		if v == nil {
			remove = append(remove, k)
		} else {
			set[k] = v
		}
	}
	if remove == nil {
		remove = []string{}
	}
	return "(metadata || " + q.arg(set) + "::jsonb) - " + q.arg(remove) + "::text[]"
}
