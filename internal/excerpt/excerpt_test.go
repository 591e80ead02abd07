package excerpt

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"me@host/Res", `"me@host/Res"`},
		{"a\nb\x00\xff", `"a\nb\x00\xff"`},
		{strings.Repeat("a", MaxRunes), `"` + strings.Repeat("a", MaxRunes) + `"`},
		{strings.Repeat("a", MaxRunes+1), `"` + strings.Repeat("a", MaxRunes) + `"… (65 bytes)`},
		{strings.Repeat("é", 70), `"` + strings.Repeat("é", MaxRunes) + `"… (140 bytes)`},
		{strings.Repeat("\xff", 70), `"` + strings.Repeat(`\xff`, MaxRunes) + `"… (70 bytes)`},
	}
	for _, c := range cases {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%.60q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestCut(t *testing.T) {
	if got := Cut("short", 5); got != "short" {
		t.Errorf("Cut(short, 5) = %q", got)
	}
	if got := Cut("ééé", 2); got != "éé…" {
		t.Errorf("Cut(ééé, 2) = %q", got)
	}
	long := strings.Repeat("x", 50<<20)
	if got := Cut(long, 3); got != "xxx…" {
		t.Errorf("Cut of 50 MB = %.60q", got)
	}
	if got := Quote(long); len(got) > 100 {
		t.Errorf("Quote of 50 MB is %d bytes", len(got))
	}
}

// Cut escapes what a terminal would act on, and keeps the rest.
func TestCutEscapes(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"prpl-\x1b]0;pwned\x07jabber", 64, `prpl-\x1b]0;pwned\ajabber`},
		{"a\nb\tc\x00\x7f", 64, `a\nb\tc\x00\x7f`},
		{"caf\xe9 \xff", 64, `caf\xe9 \xff`},
		{"rtl \u202e evil", 64, `rtl \u202e evil`},
		{`gpg: key "x" \ ok é`, 64, `gpg: key "x" \ ok é`},
		{"\x1b\x1b\x1b", 2, `\x1b\x1b…`},
		{"é\xffé", 2, `é\xff…`},
	}
	for _, c := range cases {
		if got := Cut(c.in, c.n); got != c.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
