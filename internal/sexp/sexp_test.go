package sexp

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	in := "  (a \"q\\t\\101\\x41\\\n\" #41 4\n2# |QUJD| 3:a b 5\"xy\" 2#4142# [h]tok\t\"\")\n"
	n, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range n.List {
		got = append(got, string(e.Atom))
	}
	want := []string{"a", "q\tAA", "AB", "ABC", "a b", "xy", "AB", "h", "tok", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("atoms %q, want %q", got, want)
	}
	if n.List[2].Line != 2 || n.List[3].Line != 3 {
		t.Errorf("lines %d %d", n.List[2].Line, n.List[3].Line)
	}
}

func TestFindToken(t *testing.T) {
	n, err := Parse([]byte("(top (a (name inner)) (name outer) (x (y one)))"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(n.FindToken("name").Nth(1).Atom); got != "inner" {
		t.Errorf("FindToken(name) = %s, want the first in document order", got)
	}
	if n.FindToken("top") != n {
		t.Error("FindToken does not match the list itself")
	}
	if n.FindToken("y") == nil || n.FindToken("one") != nil || n.FindToken("zz") != nil {
		t.Error("FindToken depth or non-head match wrong")
	}
}

func TestEncoding(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"", `""`},
		{"prpl-jabber", "prpl-jabber"},
		{"a.b/c_d:e*f+g=h", "a.b/c_d:e*f+g=h"},
		{"1", `"1"`},
		{"me@host/Res", `"me@host/Res"`},
		{"\x00\x01", "#0001#"},
		{"\x80", "#80#"},
		{"a\x1fb", "#611F62#"},
		{"a\x7f", "#617F#"},
		{"a\xa0", "#61A0#"},
		{"a\xa1", "\"a\xa1\""},
		{"\b\t\v\n\f\r\"'\\", `"\b\t\v\n\f\r\"\'\\"`},
	}
	for _, c := range cases {
		if got := string(appendAtom(nil, []byte(c.in))); got != c.want {
			t.Errorf("AppendAtom(%q) = %s, want %s", c.in, got, c.want)
		}
		n, err := Parse([]byte("(" + c.want + ")"))
		if err != nil || !bytes.Equal(n.List[0].Atom, []byte(c.in)) {
			t.Errorf("Parse(%s) = %v, %v", c.want, n, err)
		}
	}
}

func TestAppendAdvanced(t *testing.T) {
	n, err := Parse([]byte("(private-key(dsa(p #00AB#)(q 1:q))(x y)z)"))
	if err != nil {
		t.Fatal(err)
	}
	want := "(private-key \n (dsa \n  (p #00AB#)\n  (q q)\n  )\n (x y)\n z)\n"
	if got := string(AppendAdvanced(nil, n)); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "line 1: empty"},
		{"abc", "does not start with '('"},
		{"(a))", "unexpected data after"},
		{"(a\n(b", "line 2: unclosed"},
		{"(a ]", "']' without '['"},
		{"(a [b (c)])", "display hint without closing ']'"},
		{"(a [b)", "display hint without closing ']'"},
		{"(a |QU=JD|)", "invalid base64"},
		{"(a |QU JD|)", "invalid base64"},
		{"(a ||)", "invalid base64"},
		{"(a |QUJD", "without closing '|'"},
		{"(a #41", "without closing '#'"},
		{"(a 12)", "invalid length prefix"},
		{"(a 12", "length prefix at end"},
		{"(a \"\\0\")", "invalid escape"},
		{"(a \"\\", "without closing"},
		{"(a &)", "unexpected character"},
		{strings.Repeat("(", MaxDepth+1), "nested deeper"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.30q) error = %v, want containing %q", c.in, err, c.want)
		}
	}
}

// FuzzParse checks that Parse never panics and that printing and parsing
// again yields the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"(privkeys\n (account\n(name \"a@b/\")\n(protocol prpl-jabber)\n(private-key \n (dsa \n  (p #00B2#)\n  )\n )\n )\n)\n",
		"(a \"q\\t\\101\\x41\\\n\" #41 4\n2# |QUJD| 3:a b 5\"xy\" [h]tok \"\")",
		"((()))", "(a [b]c)", "(\"\\r\\n\")",
		// Past the depth limit; a balanced MaxDepth prints quadratically
		// long and slows the fuzzer ten times.
		strings.Repeat("(", MaxDepth+1),
		"(a 1024:" + strings.Repeat("x", 1024) + ")",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			return
		}
		out := AppendAdvanced(nil, n)
		m, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if again := AppendAdvanced(nil, m); !bytes.Equal(again, out) {
			t.Fatalf("print not stable:\n%q\n%q", out, again)
		}
	})
}
