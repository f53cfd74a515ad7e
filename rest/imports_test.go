package rest_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoStoreImports: REST reaches the data only through the capabilities (package tools);
// no file of package rest imports a package under store, whose SQL stays behind them.
func TestNoStoreImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files found: %v", err)
	}
	const store = "github.com/relmcrm/relm/store"
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == store || strings.HasPrefix(path, store+"/") {
				t.Errorf("%s imports %s; go through a capability in package tools instead", name, path)
			}
		}
	}
}
