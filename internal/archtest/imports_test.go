package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/longrun/longrun"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// listPackages runs `go list -json` over the whole module.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: ", err)
	}
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

func local(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

func under(path, dir string) bool {
	r := rel(path)
	return r == dir || strings.HasPrefix(r, dir+"/")
}

// sdk reports whether a package is part of the SDK proper: not the fake,
// not a command, not an example, not a test helper, not this package.
func sdk(path string) bool {
	for _, d := range []string{"fake", "cmd", "examples", "testutil", "internal/archtest"} {
		if under(path, d) {
			return false
		}
	}
	return local(path)
}

func stdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestImportGraph(t *testing.T) {
	pkgs := listPackages(t)
	checked := 0
	for path, p := range pkgs {
		for _, imp := range p.Imports {
			switch {
			case under(path, "jobs") && !stdlib(imp):
				t.Errorf("%s imports %s: jobs depends on the standard library only", rel(path), imp)
			case sdk(path) && local(imp) && under(imp, "fake"):
				t.Errorf("%s imports %s: no SDK package imports the fake", rel(path), rel(imp))
			case under(path, "fake") && local(imp) && !under(imp, "fake"):
				t.Errorf("%s imports %s: the fake imports no SDK package (it is its own reading of each service)", rel(path), rel(imp))
			case (sdk(path) || under(path, "fake") || under(path, "cmd")) && local(imp) && under(imp, "testutil"):
				t.Errorf("%s imports %s: production code never reaches test helpers", rel(path), rel(imp))
			case imp == "testing" && !under(path, "testutil"):
				t.Errorf("%s imports testing: only test helpers (testutil/) may", rel(path))
			}
			checked++
		}
	}
	for path, p := range pkgs {
		if !under(path, "cmd") {
			continue
		}
		for _, d := range p.Deps {
			if d == "testing" {
				t.Errorf("%s links package testing", rel(path))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}

// TestRulesCatchViolations feeds the classifier the arrows the rules forbid,
// so a rule that silently stopped matching fails here.
func TestRulesCatchViolations(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	cases := []struct {
		from, to string
		bad      bool
	}{
		{m("jobs"), m("rest"), true},
		{m("jobs"), "time", false},
		{m("freezer"), m("fake"), true},
		{m("fake/freezer"), m("freezer"), true},
		{m("fake/freezer"), m("fake/sim"), false},
		{m("examples/clone-server"), m("fake"), false},
		{m("rest"), m("testutil/cstest"), true},
	}
	for _, c := range cases {
		bad := (under(c.from, "jobs") && !stdlib(c.to)) ||
			(sdk(c.from) && local(c.to) && under(c.to, "fake")) ||
			(under(c.from, "fake") && local(c.to) && !under(c.to, "fake")) ||
			((sdk(c.from) || under(c.from, "fake") || under(c.from, "cmd")) && local(c.to) && under(c.to, "testutil"))
		if bad != c.bad {
			t.Errorf("%s -> %s: violation %v, want %v", rel(c.from), rel(c.to), bad, c.bad)
		}
	}
}
