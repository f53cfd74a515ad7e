package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// TestSubtestsBindEnv keeps env's helpers from failing a parent test from a subtest's
// goroutine: every t.Run body that uses the bundle e must begin with `e := e.with(t)`.
func TestSubtestsBindEnv(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Run" {
				return true
			}
			body, ok := call.Args[1].(*ast.FuncLit)
			if !ok || !usesIdent(body.Body, "e") || bindsEnv(body.Body) {
				return true
			}
			t.Errorf("%s: a subtest uses e without `e := e.with(t)` first", fset.Position(call.Pos()))
			return true
		})
	}
}

func usesIdent(n ast.Node, name string) (found bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// bindsEnv reports whether a block starts with `e := e.with(t)`.
func bindsEnv(b *ast.BlockStmt) bool {
	if len(b.List) == 0 {
		return false
	}
	as, ok := b.List[0].(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return false
	}
	if lhs, ok := as.Lhs[0].(*ast.Ident); !ok || lhs.Name != "e" {
		return false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "with" {
		return false
	}
	recv, ok := sel.X.(*ast.Ident)
	arg, ok2 := call.Args[0].(*ast.Ident)
	return ok && ok2 && recv.Name == "e" && arg.Name == "t"
}
