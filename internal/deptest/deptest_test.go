// Package deptest checks what the module's packages import: library code
// uses the standard library only (pgx is for the PostgreSQL store alone,
// go.yaml.in/yaml/v3 for scheme files alone, and no library package
// imports schemefile, so that nothing else depends on YAML), and test-only
// packages (testing, testify, go-cmp) stay out of everything
// a host links into its binary, except the helpers meant for tests.
//
// It parses the sources itself rather than asking "go list", so that the
// test cache sees every file it depends on.
package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/orgauthz/orgauthz"

// testHelpers are the packages meant to be imported from tests only; they
// may use testing and go-cmp.
var testHelpers = map[string]bool{
	"policy/policytest":    true,
	"store/storetest":      true,
	"store/pgstore/pgtest": true,
}

func TestLibraryImports(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Examples are programs, and other modules (benchmarks/) and
			// testdata have rules of their own.
			if rel == "examples" || rel == "internal/deptest" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		pkg := path.Dir(rel)
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if msg := verdict(pkg, imp); msg != "" {
				t.Errorf("%s: imports %s: %s", rel, imp, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}

// verdict says what is wrong with package pkg (a path relative to the
// module root) importing imp, or "".
func verdict(pkg, imp string) string {
	switch {
	case imp == module+"/schemefile":
		if pkg == "cmd" || strings.HasPrefix(pkg, "cmd/") {
			return ""
		}
		return "only commands may use schemefile: a library package would make hosts depend on YAML"
	case strings.HasPrefix(imp, module):
		return ""
	case !strings.Contains(strings.SplitN(imp, "/", 2)[0], "."): // the standard library
		if imp == "testing" && !testHelpers[pkg] {
			return "only test helpers may import testing"
		}
		return ""
	case strings.HasPrefix(imp, "github.com/jackc/pgx/"):
		if pkg == "store/pgstore" || strings.HasPrefix(pkg, "store/pgstore/") {
			return ""
		}
		return "only store/pgstore may use pgx"
	case imp == "go.yaml.in/yaml/v3":
		if pkg == "schemefile" {
			return ""
		}
		return "only schemefile may use YAML"
	case imp == "github.com/google/go-cmp/cmp" && testHelpers[pkg]:
		return ""
	}
	return "library code uses the standard library only"
}

func TestVerdict(t *testing.T) {
	for _, tt := range []struct {
		pkg, imp string
		ok       bool
	}{
		{"role", "fmt", true},
		{"role", "testing", false},
		{"policy/policytest", "testing", true},
		{"policy/policytest", "github.com/google/go-cmp/cmp", true},
		{"policy", "github.com/google/go-cmp/cmp", false},
		{"role", "github.com/stretchr/testify/assert", false},
		{"store/pgstore", "github.com/jackc/pgx/v5/pgxpool", true},
		{"store/pgstore", "testing", false},
		{"store/pgstore/pgtest", "testing", true},
		{"store/pgstore/pgtest", "github.com/jackc/pgx/v5", true},
		{"store", "github.com/jackc/pgx/v5", false},
		{"policy", module + "/edition", true},
		{"schemefile", "go.yaml.in/yaml/v3", true},
		{"edition", "go.yaml.in/yaml/v3", false},
		{"schemefile", "github.com/jackc/pgx/v5", false},
		{".", module + "/schemefile", false},
		{"httpauthz", module + "/schemefile", false},
		{"cmd/orgauthz", module + "/schemefile", true},
	} {
		if got := verdict(tt.pkg, tt.imp) == ""; got != tt.ok {
			t.Errorf("verdict(%q, %q) ok = %v, want %v", tt.pkg, tt.imp, got, tt.ok)
		}
	}
}
