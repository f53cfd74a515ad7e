package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
)

// TestImportsExcludeEvals keeps the HTTP edge independent of the eval runner: the recorder
// is a plug-in the command wires in (Config.MCPPlugins), so neither server nor anything it
// imports from this module may import evals.
func TestImportsExcludeEvals(t *testing.T) {
	const module = "github.com/relmcrm/relm/"
	seen := map[string][]string{} // package path → the chain that imports it
	queue := []string{module + "server"}
	seen[module+"server"] = nil
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if pkg == module+"evals" || strings.HasPrefix(pkg, module+"evals/") {
			t.Fatalf("server imports %s via %s", pkg, strings.Join(seen[pkg], " → "))
		}
		for _, imp := range moduleImports(t, filepath.Join("..", strings.TrimPrefix(pkg, module)), module) {
			if _, ok := seen[imp]; !ok {
				seen[imp] = append(append([]string(nil), seen[pkg]...), pkg)
				queue = append(queue, imp)
			}
		}
	}
}

// moduleImports returns the imports within module of the non-test Go files in dir.
func moduleImports(t *testing.T, dir, module string) []string {
	var imports []string
	for _, paths := range testkit.Imports(t, dir) {
		for _, path := range paths {
			if strings.HasPrefix(path, module) {
				imports = append(imports, path)
			}
		}
	}
	return imports
}
