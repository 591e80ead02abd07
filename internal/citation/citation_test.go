package citation

import (
	"bytes"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// root is the repository root, seen from this package's folder.
const root = "../.."

// sampleDoc is a reference document with sections 1, 1.1 and 2, list
// items 2.1 and 2.2, and deviation D1.
const sampleDoc = `# Sample

<a id="s1"></a>
## 1. One

<a id="s1.1"></a>
### 1.1 One one

See [§2](#s2).

<a id="s2"></a>
## 2. Two

1. <a id="s2.1"></a>first
2. <a id="s2.2"></a>second

<a id="d1"></a>
### D1. A deviation
`

func sampleRepo(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"doc/protocol.md": {Data: []byte(sampleDoc)}}
	for n, s := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

func check(t *testing.T, fsys fstest.MapFS) []string {
	t.Helper()
	problems, err := Check(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func TestCheckResolves(t *testing.T) {
	fsys := sampleRepo(map[string]string{
		"a.go": "// Package a follows doc/protocol.md §1.1 and §2, with D1\n" +
			"// (doc/protocol.md D1) and the range doc/protocol.md §1–2.\npackage a\n",
		"b.go":           "package b\n\n// Old forms: protocol.md §2.1, ../shared/docs/protocol.md §2.2.\n// x\n\n// Later, bare: §1.\n",
		"c.txt":          "# see doc/protocol.md\n# §2 after a wrapped line\n",
		"README.md":      "The [protocol](doc/protocol.md#s1.1) and [D1](doc/protocol.md#d1).\n",
		"sub/x.md":       "[up](../doc/protocol.md#s2)\n",
		"doc/README.md":  "[p](protocol.md), `doc/protocol.md §2` and §1.\n",
		"doc/vectors.md": "<a id=\"s1\"></a>\n## 1. V\n\nUnlike [protocol.md §1](protocol.md#s1), §1 here is this file's.\n",
	})
	if p := check(t, fsys); len(p) != 0 {
		t.Errorf("problems in a consistent sample:\n%s", strings.Join(p, "\n"))
	}
}

// TestCheckFails shows that each kind of broken citation is reported.
func TestCheckFails(t *testing.T) {
	for _, tc := range []struct {
		name, file, src, want string
	}{
		{"missing section", "a.go", "// See doc/protocol.md §3.\n", "a.go:1: doc/protocol.md §3: doc/protocol.md has no §3"},
		{"missing subsection", "a.go", "// See protocol.md §1.2.\n", "a.go:1: protocol.md §1.2: doc/protocol.md has no §1.2"},
		{"missing deviation", "a.go", "// See doc/protocol.md D2.\n", "a.go:1: doc/protocol.md D2: doc/protocol.md has no D2"},
		{"range end", "a.go", "// doc/protocol.md §1–3\n", "a.go:1: doc/protocol.md §1–3: doc/protocol.md has no §3"},
		{"bare deviation", "a.go", "// doc/protocol.md §1 (D1, D4)\n", "a.go:1: D4: doc/protocol.md has no D4"},
		{"bare in block", "a.fsm", "// doc/protocol.md §1 and §4\n", "a.fsm:1: §4: doc/protocol.md has no §4"},
		{"bare from file", "a.go", "// doc/protocol.md §1\npackage a\n\n// §4\n", "a.go:4: §4: doc/protocol.md has no §4"},
		{"bare without document", "a.go", "// As §2 says.\n", "a.go:1: §2: no document named before it; write doc/<file>.md §2"},
		{"missing document", "a.md", "See doc/formats.md §1.\n", "a.md:1: doc/formats.md §1: doc/formats.md does not exist"},
		{"other document", "a.md", "See architecture.md §1.\n", "a.md:1: architecture.md §1: doc/architecture.md does not exist"},
		{"broken link", "a.md", "[x](doc/protocol.md#s9)\n", `a.md:1: link doc/protocol.md#s9: doc/protocol.md has no anchor "s9"`},
		{"link to missing file", "a.md", "[x](doc/nothing.md)\n", "a.md:1: link doc/nothing.md: doc/nothing.md does not exist"},
		{"bare in doc", "doc/x.md", "Text §1.\n", "doc/x.md:1: §1: doc/x.md has no §1"},
		{"heading without anchor", "doc/x.md", "## 3. Three\n", `doc/x.md:1: heading "## 3. Three" needs the anchor <a id="s3"></a> on the line before it`},
		{"anchor of another heading", "doc/x.md", "<a id=\"s4\"></a>\n## 3. Three\n", `doc/x.md:1: anchor "s4" is not followed by its numbered heading
doc/x.md:2: heading "## 3. Three" needs the anchor <a id="s3"></a> on the line before it`},
		{"deviation anchor", "doc/x.md", "<a id=\"d2\"></a>\n### D1. One\n", `doc/x.md:1: anchor "d2" is not followed by its numbered heading
doc/x.md:2: heading "### D1. One" needs the anchor <a id="d1"></a> on the line before it`},
		{"anchor before text", "doc/x.md", "<a id=\"s1\"></a>\nText.\n", `doc/x.md:1: anchor "s1" is not followed by its numbered heading`},
		{"list item anchor", "doc/x.md", "3. <a id=\"s5.4\"></a>item\n", `doc/x.md:1: anchor "s5.4" starts list item 3`},
		{"anchor twice", "doc/x.md", "<a id=\"s1\"></a>\n## 1. A\n<a id=\"s1\"></a>\n## 1. B\n", `doc/x.md:3: anchor "s1" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := check(t, sampleRepo(map[string]string{tc.file: tc.src}))
			if strings.Join(p, "\n") != tc.want {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(p, "\n"), tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	src := "// protocol.md §10.3–10.4, then §5 and formats.md §6.2; §2 and vectors.md D1.\n" +
		"// wire/protocol.md is another file; docs/formats.md is not.\n" +
		"// protocol.md §1 (D5, D7); formats.md §9: D1 = MD5(pw ‖ salt).\n" +
		"var D2 = 0 // no citation before it in its block\n"
	var got []string
	for _, c := range find("x.go", []byte(src)) {
		got = append(got, strconv.Itoa(c.Line)+" "+c.Text+" "+c.Doc+" "+strings.Join(c.Refs, ","))
	}
	want := []string{
		"1 protocol.md §10.3–10.4 protocol.md s10.3,s10.4",
		"1 §5 protocol.md s5",
		"1 formats.md §6.2 formats.md s6.2",
		"1 §2 formats.md s2",
		"1 vectors.md D1 vectors.md d1",
		"2 docs/formats.md formats.md ",
		"3 protocol.md §1 protocol.md s1",
		"3 D5 protocol.md d5",
		"3 D7 protocol.md d7",
		"3 formats.md §9 formats.md s9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Find:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRewrite(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"x.go", "// protocol.md §8 with D1 and D2 of §17.\n", "// doc/protocol.md §8 with D1 and D2 of §17.\n"},
		{"x.go", "// protocol.md D8.\n", "// doc/protocol.md D8.\n"},
		{"x.go", "// vectors.md §1.\nvar x = 1\n\n// The second (§2).\n", "// doc/vectors.md §1.\nvar x = 1\n\n// The second (doc/vectors.md §2).\n"},
		{"x.go", "// protocol.md §3:\n//   - a (§3.3); b (§3.2)\n", "// doc/protocol.md §3:\n//   - a (§3.3); b (§3.2)\n"},
		{"x.go", "// as §10.3 says\n", "// as §10.3 says\n"},
		{"x.go", "Long: \"machine (protocol.md §8)\"", "Long: \"machine (doc/protocol.md §8)\""},
		{"x.txt", "# protocol.md §8, with\n# D1 of §17 applied\n", "# doc/protocol.md §8, with\n# D1 of §17 applied\n"},
		{"x.txt", "# vectors.md §5\nexec x\n# (§4)\n", "# doc/vectors.md §5\nexec x\n# (doc/vectors.md §4)\n"},
		{"README.md", "Listed in `../../docs/formats.md`.\n", "Listed in `doc/formats.md`.\n"},
		{"README.md", "See ../shared/docs/protocol.md §10.3 and docs/vectors.md.\n", "See doc/protocol.md §10.3 and doc/vectors.md.\n"},
		{"README.md", "The protocol's `vectors.md`, not wire/vectors.md.\n", "The protocol's `doc/vectors.md`, not wire/vectors.md.\n"},
		{"README.md", "doc/protocol.md §1\n\n§2 and §3\n", "doc/protocol.md §1\n\ndoc/protocol.md §2 and §3\n"},
		{"x.go", "// see protocol.md\n// §5 for the buffer\n", "// see doc/protocol.md\n// §5 for the buffer\n"},
		{"doc/x.md", "protocol.md §1 in doc/ stays\n", "protocol.md §1 in doc/ stays\n"},
		{"x.go", "// in protocol.md §16 and the asn1 README.\n", "// in doc/protocol.md §16.\n"},
		{"x.go", "// asn1/README.md: the older Identity\n// tried first (asn1/README.md).\n", "// doc/protocol.md §16: the older Identity\n// tried first (doc/protocol.md §16).\n"},
		{"x.go", "// see the asn1 README\n", "// see doc/protocol.md §16\n"},
		{"x.go", "// testdata/wire/asn1/README.md is another file\n", "// testdata/wire/asn1/README.md is another file\n"},
	} {
		got := string(Rewrite(tc.name, []byte(tc.in)))
		if got != tc.want {
			t.Errorf("Rewrite(%s, %q) =\n%q\nwant\n%q", tc.name, tc.in, got, tc.want)
		}
		if again := string(Rewrite(tc.name, []byte(got))); again != got {
			t.Errorf("Rewrite(%s) is not idempotent: %q then %q", tc.name, got, again)
		}
	}
}

// TestRepository checks every citation of the repository against doc/.
func TestRepository(t *testing.T) {
	problems, err := Check(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestRepositoryRewritten checks that the rewrite of the repository is
// idempotent and leaves every citation resolving.
func TestRepositoryRewritten(t *testing.T) {
	fsys := fstest.MapFS{}
	err := Walk(os.DirFS(root), func(name string, src []byte) error {
		out := Rewrite(name, src)
		if again := Rewrite(name, out); !bytes.Equal(again, out) {
			t.Errorf("%s: rewriting twice changes it again", name)
		}
		for _, l := range retiredLines(out) {
			t.Errorf("%s:%d: still refers to a file the repository does not have", name, l)
		}
		fsys[name] = &fstest.MapFile{Data: out}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range check(t, fsys) {
		t.Error(p)
	}
}

// hexOctets matches a string of hex octets separated by whitespace.
var hexOctets = regexp.MustCompile(`^\s*[0-9a-f]{2}(\s+[0-9a-f]{2})+\s*$`)

// octets returns the hex digits of s as space-separated pairs.
func octets(s string) string {
	h := strings.Join(strings.Fields(s), "")
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// testVectors returns the byte vectors of the tests, by where they are: the
// hex string literals of wire's tests and the .hex files of the command's
// testscripts.
func testVectors(t *testing.T) map[string]string {
	t.Helper()
	vectors := map[string]string{}
	goFiles, _ := filepath.Glob(root + "/wire/*_test.go")
	for _, f := range goFiles {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var s scanner.Scanner
		s.Init(fset.AddFile(f, -1, len(src)), src, nil, 0)
		for {
			pos, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if v, err := strconv.Unquote(lit); tok == token.STRING && err == nil && hexOctets.MatchString(v) {
				vectors[fset.Position(pos).String()] = octets(v)
			}
		}
	}
	scripts, _ := filepath.Glob(root + "/cmd/keysync/testdata/*.txt")
	for _, f := range scripts {
		a, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range a.Files {
			if strings.HasSuffix(file.Name, ".hex") {
				vectors[f+": "+file.Name] = octets(string(file.Data))
			}
		}
	}
	return vectors
}

// TestVectorsInDoc checks that the byte vectors the tests use are the ones
// doc/vectors.md lists: each occurs in one of the document's vectors.
func TestVectorsInDoc(t *testing.T) {
	doc, err := os.ReadFile(root + "/doc/vectors.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, v := range regexp.MustCompile("(?s)`([0-9a-f ]+)`|```\n([0-9a-f \n]+)```").FindAllStringSubmatch(string(doc), -1) {
		listed = append(listed, octets(v[1]+v[2]))
	}
	used := testVectors(t)
	for where, v := range used {
		found := false
		for _, d := range listed {
			found = found || strings.Contains(d, v)
		}
		if !found {
			t.Errorf("%s: vector %s is not in doc/vectors.md", where, v)
		}
	}
	if len(used) < 25 {
		t.Errorf("found %d vectors in the tests, want at least 25", len(used))
	}
}

// TestCanonical holds every citation of the repository to the one form,
// such as doc/protocol.md §10.3, that the rewrite produces.
func TestCanonical(t *testing.T) {
	err := Walk(os.DirFS(root), func(name string, src []byte) error {
		if !bytes.Equal(Rewrite(name, src), src) {
			t.Errorf("%s: a citation is not in the form doc/protocol.md §10.3; run go run ./internal/citation/rewrite", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
