package tools

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relmcrm/relm/store"
)

// idTag finds a struct tag that spells out an id pattern instead of using an id type.
var idTag = regexp.MustCompile(`pattern:"\^(\(|[a-z]+_)[^"]*"`)

// recordKindsEnum is the enum tag RecordKind replaces.
var recordKindsEnum = `enum:"` + strings.Join(store.RecordKinds, ",")

// TestIDPatternsWrittenOnce fails when an id's pattern is written outside ids.go, or the
// record kinds in an enum tag: fields take the id types and RecordKind, whose schemas carry them.
func TestIDPatternsWrittenOnce(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "ids.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if strings.Contains(line, idBody) {
				t.Errorf("%s:%d: id regex %s written out; use the id types of ids.go", f, i+1, idBody)
			}
			if strings.Contains(line, recordKindsEnum) {
				t.Errorf("%s:%d: record kinds written out; use RecordKind", f, i+1)
			}
			for _, m := range idTag.FindAllStringSubmatch(line, -1) {
				if m[1] == "(" || kindOfPrefix(m[1]) != "" {
					t.Errorf("%s:%d: id pattern tag %s; use the id types of ids.go", f, i+1, m[0])
				}
			}
		}
	}
}

func kindOfPrefix(prefix string) string {
	for _, k := range idKinds {
		if k.prefix == prefix {
			return k.kind
		}
	}
	return ""
}

// TestIDKinds checks the id kinds against the store's prefixes and the kinds messages name.
func TestIDKinds(t *testing.T) {
	for _, k := range idKinds {
		if _, ok := kindNames[k.kind]; !ok {
			t.Errorf("id kind %q has no names in kindNames", k.kind)
		}
		if strings.Count(k.prefix, "_") != 1 || !strings.HasSuffix(k.prefix, "_") {
			t.Errorf("id kind %q: prefix %q must end in its only _", k.kind, k.prefix)
		}
		if got := kindOfPattern(idPattern(k.kind)); got != k.kind {
			t.Errorf("kindOfPattern(idPattern(%q)) = %q", k.kind, got)
		}
		if !regexp.MustCompile(idPattern(k.kind)).MatchString(store.NewID(k.prefix)) {
			t.Errorf("store.NewID(%q) does not match %s", k.prefix, idPattern(k.kind))
		}
	}
	for _, kind := range store.RecordKinds {
		if got, want := store.AssociationTypes[kind], idPrefix(kind); got != want {
			t.Errorf("store.AssociationTypes[%q] = %q, id kinds say %q", kind, got, want)
		}
	}
	if want := `^(con|cmp|deal|act)_[a-z2-7]{26}$`; idPattern(store.RecordKinds...) != want {
		t.Errorf("record id pattern = %s, want %s", idPattern(store.RecordKinds...), want)
	}
}
