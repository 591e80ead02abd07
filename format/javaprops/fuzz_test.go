package javaprops

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

// FuzzParse: no panic, linear work, every byte comes back, and after
// Delete and Set the file reads back as the edited one holds it.
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
		if es := p.Entries(); len(es) > 0 {
			p.Delete(es[0].Key)
			if len(es) > 1 {
				p.Set(es[len(es)-1].Key, "changed")
			}
		}
		p.Set("k: €", "v\\ =\n")
		q, err := Parse(p.Bytes())
		if err != nil {
			t.Fatalf("after Set: %v", err)
		}
		if v, ok := q.Get("k: €"); !ok || v != "v\\ =\n" {
			t.Fatalf("after Set: %q", v)
		}
		// What was changed reads back as the edited file holds it.
		want, got := map[string]string{}, map[string]string{}
		for _, e := range p.Entries() {
			want[e.Key] = e.Value
		}
		for _, e := range q.Entries() {
			got[e.Key] = e.Value
		}
		if !maps.Equal(want, got) {
			t.Fatalf("edited file reads back as %q, want %q", got, want)
		}
	})
}
