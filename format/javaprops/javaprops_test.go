package javaprops

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/peer"
)

const sample = "../../testdata/fixtures/jitsi/sip-communicator.properties"

// TestSample reads the Jitsi sample (doc/formats.md §11.3): every byte
// comes back, the first line is the date comment, and the OTR properties
// are on lines 210–220 with \= unescaped.
func TestSample(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Bytes(), data) {
		t.Error("the file does not come back byte for byte")
	}
	var otr []int
	for _, e := range f.Entries() {
		if strings.HasPrefix(e.Key, "net.java.sip.communicator.plugin.otr.") {
			otr = append(otr, e.Line)
		}
	}
	if want := []int{210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220}; !slices.Equal(otr, want) {
		t.Errorf("OTR properties on lines %v, want %v", otr, want)
	}
	v, ok := f.Get("net.java.sip.communicator.plugin.otr.hans_eds_org_publicKey")
	if !ok || !strings.HasSuffix(v, "t4nINg==") || strings.Contains(v, `\`) {
		t.Errorf("hans_eds_org_publicKey = …%q", v[max(0, len(v)-10):])
	}
	if v, _ := f.Get("net.java.sip.communicator.plugin.reconnectplugin.ATLEAST_ONE_SUCCESSFUL_CONNECTION.Google Talk:guardianproject@gmail.com@talk.google.com"); v != "false" {
		t.Errorf("a key with escaped space and colon: %q", v)
	}
	if v, _ := f.Get("net.java.sip.communicator.impl.gui.accounts.acc1321499605290"); v != "Jabber:gptest@jabber.org@jabber.org" {
		t.Errorf("ACCOUNT_UID-like value %q", v)
	}
}

// loadCases are inputs with what Properties.load makes of them (key=value
// pairs in order, last wins) and edge cases of its line reader.
var loadCases = []struct {
	in   string
	want []string // "key=value" of Entries, in order
}{
	{"a=b\n", []string{"a=b"}},
	{"a b", []string{"a=b"}},
	{"a\tb\n", []string{"a=b"}},
	{"a:b\r\n", []string{"a=b"}},
	{"  a  =  b  \n", []string{"a=b  "}},
	{"a = = b\n", []string{"a== b"}},
	{"a\n", []string{"a="}},
	{"a=\n", []string{"a="}},
	{"=b\n", []string{"=b"}},
	{"# c\n! d\n  # e\n\n \t\f\na=1", []string{"a=1"}},
	{"a=b\\\n   c\n", []string{"a=bc"}},
	{"a=b\\\r\n  c\\\r  d\n", []string{"a=bcd"}},
	{"a=b\\\\\nc=d\n", []string{`a=b\`, "c=d"}},
	{"a=b\\\n# not a comment\n", []string{"a=b# not a comment"}},
	{"a=b\\\n\nc=d", []string{"a=b", "c=d"}},
	{"a=b\\", []string{"a=b"}},
	{"\\\n#x=y\nz", []string{"z="}},
	{"\\\n\nk=v", []string{"k=v"}},
	{`a\=b\:c\ d=e\tf\ng\rh\fi\\j\#\!\q`, []string{"a=b:c d=e\tf\ng\rh\fi\\j#!q"}},
	{`\u0041\u00e9=\u20ac\ud83d\ude00`, []string{"Aé=€😀"}},
	{"\xe9=\xff", []string{"é=ÿ"}},
	{"# only a comment", nil},
	{"a=1\na=2\n", []string{"a=1", "a=2"}},
}

func entryStrings(f *File) []string {
	var got []string
	for _, e := range f.Entries() {
		got = append(got, e.Key+"="+e.Value)
	}
	return got
}

func TestLoadCases(t *testing.T) {
	for _, c := range loadCases {
		f, err := Parse([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := entryStrings(f); !slices.Equal(got, c.want) {
			t.Errorf("%q: entries %q, want %q", c.in, got, c.want)
		}
		if !bytes.Equal(f.Bytes(), []byte(c.in)) {
			t.Errorf("%q: comes back as %q", c.in, f.Bytes())
		}
	}
	for _, in := range []string{`a=\u00`, `a=\u12G4`, "x=1\n\\uzzzz=b"} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: error %v, want one naming the line", in, err)
		}
	}
}

// TestSetDelete changes entries and keeps every other line byte for byte.
func TestSetDelete(t *testing.T) {
	in := "#Wed Nov 16 22:22:25 EST 2011\r\nx=1\r\n  # keep\r\nk = old\\\r\n  er\r\ny:2\r\nk=dup\r\nz=3"
	f, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	f.Set("k", "new=val:ue")
	f.Set("n ew", " lead")
	if !f.Delete("y") || f.Delete("absent") {
		t.Error("Delete reports wrongly")
	}
	want := "#Wed Nov 16 22:22:25 EST 2011\r\nx=1\r\n  # keep\r\nk=new\\=val\\:ue\r\nz=3\r\nn\\ ew=\\ lead\r\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if v, _ := f.Get("k"); v != "new=val:ue" {
		t.Errorf("Get after Set: %q", v)
	}
	g, err := Parse(f.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entryStrings(g), []string{"x=1", "k=new=val:ue", "z=3", "n ew= lead"}; !slices.Equal(got, want) {
		t.Errorf("read back: %q, want %q", got, want)
	}
	empty, _ := Parse(nil)
	empty.Set("a", "b")
	if got := string(empty.Bytes()); got != "a=b\n" {
		t.Errorf("new file %q", got)
	}
}

// java compiles testdata/Props.java into a temporary folder and returns a
// function that runs it with stdin.
func java(t *testing.T) func(stdin string, args ...string) string {
	t.Helper()
	javac := peer.Need(t, "javac")
	javaBin := peer.Need(t, "java")
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/Props.java")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(javac, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(javaBin, append([]string{"-cp", dir, "Props"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Logf("%s", ee.Stderr)
			}
			t.Fatalf("java Props %s: %v", args[0], err)
		}
		return string(out)
	}
}

// codePoints is Props.java's form of a string.
func codePoints(s string) string {
	if s == "" {
		return "-"
	}
	var b []string
	for _, r := range s {
		b = append(b, fmt.Sprintf("%x", r))
	}
	return strings.Join(b, ".")
}

// loaded is what Props.java prints for one file.
func loaded(name string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\n", name)
	f, err := Parse(data)
	if err != nil {
		b.WriteString("ERROR\n")
		return b.String()
	}
	last := map[string]string{}
	for _, e := range f.Entries() {
		last[e.Key] = e.Value
	}
	var lines []string
	for k, v := range last {
		lines = append(lines, codePoints(k)+" "+codePoints(v))
	}
	slices.Sort(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// randomProps returns text made of the characters that matter to the
// line reader.
func randomProps(r *rand.Rand) []byte {
	pieces := []string{"a", "b", "Z", "0", "=", ":", " ", "\t", "\f", "\n", "\r", "\r\n", "\\", "\\\n", "\\\\",
		"#", "!", "\\u0041", "\\u00e9", "\\u", "\\ud83d\\ude00", "\xe9", "\xff", "\\t", "\\=", "\\ "}
	var b []byte
	for range r.IntN(40) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return b
}

// TestJavaLoad: Properties.load and Parse agree on the cases above, the
// Jitsi sample, random text, and files that Set wrote.
func TestJavaLoad(t *testing.T) {
	run := java(t)
	dir := t.TempDir()
	var inputs [][]byte
	for _, c := range loadCases {
		inputs = append(inputs, []byte(c.in))
	}
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, data)
	r := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		inputs = append(inputs, randomProps(r))
	}
	for range 100 {
		f, err := Parse(randomProps(r))
		if err != nil {
			continue
		}
		for range 3 {
			f.Set(randomText(r), randomText(r))
		}
		inputs = append(inputs, f.Bytes())
	}
	args := []string{"load"}
	var want strings.Builder
	for i, in := range inputs {
		name := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(name, in, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, name)
		want.WriteString(loaded(name, in))
	}
	got := run("", args...)
	if got != want.String() {
		g, w := strings.Split(got, "\n== "), strings.Split(want.String(), "\n== ")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("Java and Parse differ on %q:\nJava:  %q\nParse: %q", inputs[i], g[i], w[i])
			}
		}
		t.Fatalf("Java and Parse differ in length")
	}
}

// randomText returns a key or value with characters that need escapes.
func randomText(r *rand.Rand) string {
	chars := []rune{'a', 'Z', '9', ' ', '\t', '\n', '\r', '\f', '=', ':', '#', '!', '\\', 'é', '€', '😀', 0x7f, 0x01, '~', '+', '/'}
	var b []rune
	for range r.IntN(12) {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return string(b)
}

// TestJavaStore: EscapeKey and EscapeValue write what Properties.store
// writes.
func TestJavaStore(t *testing.T) {
	run := java(t)
	r := rand.New(rand.NewPCG(3, 4))
	var in, want strings.Builder
	for range 300 {
		k, v := randomText(r), randomText(r)
		fmt.Fprintf(&in, "%s %s\n", codePoints(k), codePoints(v))
		fmt.Fprintf(&want, "%s=%s\n", EscapeKey(k), EscapeValue(v))
	}
	got := run(in.String(), "store")
	gl, wl := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			t.Fatalf("line %d: Java stores %q, Escape gives %q", i+1, gl[i], wl[i])
		}
	}
	if len(gl) != len(wl) {
		t.Fatalf("Java wrote %d lines, want %d", len(gl), len(wl))
	}
}

// BenchmarkSet measures building a file of 100k keys with Set, as a
// store written from a large model is built.
func BenchmarkSet(b *testing.B) {
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = fmt.Sprintf("net.java.sip.communicator.plugin.otr.contact%d_fingerprints", i)
	}
	for b.Loop() {
		f, _ := Parse(nil)
		for _, k := range keys {
			f.Set(k, "FF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8")
		}
	}
}
