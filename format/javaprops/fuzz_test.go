package javaprops

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse: no panic, linear work, every byte comes back, and a value
// that Set wrote reads back.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(strings.Repeat("\\\n", 10000)))
	f.Add([]byte(strings.Repeat("\\u0041", 10000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Bytes(), data) {
			t.Fatal("the input does not come back")
		}
		p.Set("k: €", "v\\ =\n")
		q, err := Parse(p.Bytes())
		if err != nil {
			t.Fatalf("after Set: %v", err)
		}
		if v, ok := q.Get("k: €"); !ok || v != "v\\ =\n" {
			t.Fatalf("after Set: %q", v)
		}
	})
}
