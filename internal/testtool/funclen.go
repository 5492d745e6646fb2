package testtool

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// CheckFunctionLength fails t for every function of the package in the current directory (tests aside)
// longer than max lines, so that each can be read at once (issue 14). allow names functions that may
// be longer, each with the one-line reason the code gives.
func CheckFunctionLength(t *testing.T, max int, allow ...string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, a := range allow {
		allowed[a] = true
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || allowed[fd.Name.Name] {
				continue
			}
			if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > max {
				t.Errorf("%s: %s is %d lines long (at most %d: split it)", f, fd.Name.Name, n, max)
			}
		}
	}
}
