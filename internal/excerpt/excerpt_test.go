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
