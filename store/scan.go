package store

import (
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
)

// scanPlan scans rows whose columns are exactly names into a struct, each column into the
// field at its index path, matched once when the table is built rather than on every row.
// The matching mirrors pgx.RowToStructByName (pgx v5.12.0): a result with any other
// columns is scanned by pgx by name, so it errors or succeeds exactly as before.
type scanPlan struct {
	names []string
	paths [][]int // nil: some column or field has no counterpart; always scan by name
}

// newScanPlan matches the columns names to the fields of struct t as pgx does.
func newScanPlan(t reflect.Type, names []string) scanPlan {
	paths := make([][]int, len(names))
	if missing := matchFields(t, names, paths, nil); missing {
		return scanPlan{names: names}
	}
	for _, p := range paths {
		if p == nil {
			return scanPlan{names: names}
		}
	}
	return scanPlan{names: names, paths: paths}
}

// matchFields sets paths[i] to the index path of the field of t (under prefix) that pgx
// would scan column names[i] into; missing reports a field no column matches, which pgx
// refuses. Like pgx it skips unexported fields and `db:"-"`, descends into embedded
// structs (not pointers), and maps an untagged field by its name.
func matchFields(t reflect.Type, names []string, paths [][]int, prefix []int) (missing bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.PkgPath != "" && !sf.Anonymous {
			continue
		}
		path := append(prefix[:len(prefix):len(prefix)], i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			missing = matchFields(sf.Type, names, paths, path) || missing
			continue
		}
		tag, tagged := sf.Tag.Lookup("db")
		if tagged {
			tag, _, _ = strings.Cut(tag, ",")
		}
		if tag == "-" {
			continue
		}
		if !tagged {
			tag = sf.Name
		}
		pos := columnPos(names, tag, !tagged)
		if pos == -1 {
			missing = true
			continue
		}
		paths[pos] = path
	}
	return missing
}

// columnPos is pgx's fieldPosByName: the first column named field, exactly and then
// case-insensitively, or ignoring underscores too for an untagged field; -1 if none.
func columnPos(names []string, field string, normalize bool) int {
	if normalize {
		field = strings.ReplaceAll(field, "_", "")
	} else {
		for i, n := range names {
			if n == field {
				return i
			}
		}
	}
	for i, n := range names {
		if normalize && strings.EqualFold(strings.ReplaceAll(n, "_", ""), field) ||
			!normalize && strings.EqualFold(n, field) {
			return i
		}
	}
	return -1
}

// fits reports whether the plan can scan rows: it has a path for every column and rows'
// columns are its names, in order.
func (p *scanPlan) fits(rows pgx.Rows) bool {
	if p.paths == nil {
		return false
	}
	fds := rows.FieldDescriptions()
	if len(fds) != len(p.names) {
		return false
	}
	for i, fd := range fds {
		if fd.Name != p.names[i] {
			return false
		}
	}
	return true
}

// scanner scans the current row of rows into a struct, reusing its targets from row to row.
type scanner[R any] struct {
	plan    *scanPlan // nil: scan by name
	started bool
	targets []any
}

// scanInto scans the current row into dst: by the plan when it fits rows (decided on the
// first row), else by name with pgx.
func (s *scanner[R]) scanInto(rows pgx.Rows, dst *R) error {
	if !s.started {
		s.started = true
		if !s.plan.fits(rows) {
			s.plan = nil
		} else {
			s.targets = make([]any, len(s.plan.paths))
		}
	}
	if s.plan == nil {
		r, err := pgx.RowToStructByName[R](rows)
		*dst = r
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	for i, p := range s.plan.paths {
		s.targets[i] = v.FieldByIndex(p).Addr().Interface()
	}
	return rows.Scan(s.targets...)
}
