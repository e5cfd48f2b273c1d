package arrows

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/vpcprobe/vpcprobe"

// marker opens the README's block of layers.
const marker = "<!-- arrows:"

// pkg is what `go list -json` says of one package, as far as the test reads it.
type pkg struct {
	ImportPath string
	Doc        string
	Imports    []string
}

// layers reads the README's block: one layer a line, top first, each line's packages (comma
// separated) before two spaces and a description. internal/* is the helpers' line.
func layers(readme []byte) ([][]string, error) {
	_, rest, ok := bytes.Cut(readme, []byte(marker))
	if !ok {
		return nil, errors.New("README.md has no " + marker + " block")
	}
	_, rest, _ = bytes.Cut(rest, []byte("```\n"))
	block, _, ok := bytes.Cut(rest, []byte("```"))
	if !ok {
		return nil, errors.New("the arrows block is not closed")
	}
	gap := regexp.MustCompile(`\s{2,}`)
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(block))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		names := gap.Split(line, 2)
		if len(names) != 2 {
			return nil, fmt.Errorf("layer %q has no description after two spaces", line)
		}
		var layer []string
		for _, n := range strings.Split(names[0], ",") {
			layer = append(layer, strings.TrimSuffix(strings.TrimSpace(n), "/"))
		}
		out = append(out, layer)
	}
	return out, sc.Err()
}

// goList lists every package of the module with its (non-test) imports.
func goList(t *testing.T) (string, []pkg) {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-json=ImportPath,Doc,Imports", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return root, pkgs
}

// rel is a package's path inside the module ("launch/ecstask").
func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

// check returns every import of pkgs the layers do not allow, and every package they do not
// name: a package imports only packages of lower layers, and internal helpers; a helper imports
// only other helpers and the packages its line names.
func check(ls [][]string, pkgs []pkg) []string {
	layerOf := map[string]int{}
	helpers := -1
	for i, l := range ls {
		for _, n := range l {
			if n == "internal/*" {
				helpers = i
				continue
			}
			layerOf[n] = i
		}
	}
	var bad []string
	// A helper is an internal package the map does not name; one it names (a test world
	// built on the product's lower layers) is layered like any other package.
	internal := func(p string) bool {
		_, named := layerOf[p]
		return strings.HasPrefix(p, "internal/") && !named
	}
	for _, p := range pkgs {
		from := rel(p.ImportPath)
		fl, named := layerOf[from]
		if !named && !(internal(from) && helpers >= 0) {
			bad = append(bad, fmt.Sprintf("%s is not in the README's package map", from))
			continue
		}
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := rel(imp)
			tl, toNamed := layerOf[to]
			switch {
			case internal(from) && (internal(to) || to == "schema"):
			case internal(from):
				bad = append(bad, fmt.Sprintf("%s → %s: a helper imports only helpers and schema", from, to))
			case internal(to):
			case !toNamed:
				bad = append(bad, fmt.Sprintf("%s → %s: not in the package map", from, to))
			case tl <= fl:
				bad = append(bad, fmt.Sprintf("%s → %s: an arrow up or sideways (layer %d to %d)", from, to, fl+1, tl+1))
			}
		}
	}
	return bad
}

// TestArrows (issue 16, item 1): the README's layers are the import graph. Every package of the
// module is in the map, and imports only what the layers below it hold (and internal helpers).
func TestArrows(t *testing.T) {
	root, pkgs := goList(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := layers(readme)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range check(ls, pkgs) {
		t.Error(b)
	}
}

// TestDocs: every package says its job in its doc comment, starting "Package <name>" (or
// "Command <name>" for a main package).
func TestDocs(t *testing.T) {
	_, pkgs := goList(t)
	for _, p := range pkgs {
		name := filepath.Base(p.ImportPath)
		if !strings.HasPrefix(p.Doc, "Package "+name+" ") && !strings.HasPrefix(p.Doc, "Command "+name+" ") {
			t.Errorf("%s: doc comment %q does not start with its name", rel(p.ImportPath), p.Doc)
		}
	}
}

// TestCheckCatches holds check to what it must refuse: an arrow up, one sideways, a package the
// map does not name, a helper importing a product package; and to what it allows.
func TestCheckCatches(t *testing.T) {
	ls := [][]string{{"cmd/vpcprobe"}, {"launch"}, {"inspect", "probe"}, {"report"}, {"schema"}, {"internal/*"}}
	p := func(path string, imports ...string) pkg {
		for i, imp := range imports {
			imports[i] = module + "/" + imp
		}
		return pkg{ImportPath: module + "/" + path, Imports: append(imports, "fmt", "github.com/aws/aws-sdk-go-v2/aws")}
	}
	if bad := check(ls, []pkg{p("cmd/vpcprobe", "launch", "report", "internal/moto"), p("launch", "probe", "inspect"),
		p("inspect", "report"), p("internal/moto", "internal/netns", "schema")}); len(bad) != 0 {
		t.Errorf("allowed imports refused: %v", bad)
	}
	for name, pk := range map[string]pkg{
		"up":         p("report", "probe"),
		"sideways":   p("probe", "inspect"),
		"unnamed":    p("fleet"),
		"to unnamed": p("launch", "fleet"),
		"helper up":  p("internal/moto", "report"),
	} {
		if bad := check(ls, []pkg{pk}); len(bad) == 0 {
			t.Errorf("%s: not refused", name)
		}
	}
}
