package collapse

import (
	"reflect"
	"testing"
)

type row struct{ key, val int }

func collapseRows(rows []row, hash func(int) uint64) []row {
	key := func(r *row) int { return r.key }
	merge := func(first, dup *row) { first.val = dup.val }
	if hash == nil {
		return Rows(rows, key, merge)
	}
	return collapse(rows, key, merge, hash)
}

func TestRows(t *testing.T) {
	in := []row{{1, 10}, {2, 20}, {1, 11}, {3, 30}, {2, 21}, {1, 12}}
	want := []row{{1, 12}, {2, 21}, {3, 30}}
	for name, hash := range map[string]func(int) uint64{
		"seeded hash":     nil,
		"distinct hashes": func(k int) uint64 { return uint64(k) * 0x9e3779b97f4a7c15 },
		"all collide":     func(int) uint64 { return 7 },
	} {
		got := collapseRows(append([]row(nil), in...), hash)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	if got := collapseRows(nil, nil); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}

func TestRowsMany(t *testing.T) {
	var in []row
	for i := 0; i < 5000; i++ {
		in = append(in, row{i % 1500, i})
	}
	got := collapseRows(in, func(k int) uint64 { return uint64(k) })
	if len(got) != 1500 {
		t.Fatalf("got %d rows, want 1500", len(got))
	}
	for i, r := range got {
		last := 3000 + i // the last i with i%1500 == key
		if i < 500 {
			last = 4500 + i
		}
		if r.key != i || r.val != last {
			t.Fatalf("row %d = %v, want {%d %d}", i, r, i, last)
		}
	}
}
