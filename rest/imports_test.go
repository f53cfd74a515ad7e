package rest_test

import (
	"strings"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
)

// TestNoStoreImports: REST reaches the data only through the capabilities (package tools);
// no file of package rest imports a package under store, whose SQL stays behind them.
func TestNoStoreImports(t *testing.T) {
	const store = "github.com/relmcrm/relm/store"
	files := testkit.Imports(t, ".")
	if len(files) == 0 {
		t.Fatal("no Go files found")
	}
	for name, imports := range files {
		for _, path := range imports {
			if path == store || strings.HasPrefix(path, store+"/") {
				t.Errorf("%s imports %s; go through a capability in package tools instead", name, path)
			}
		}
	}
}
