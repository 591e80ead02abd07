package collapse

import (
	"reflect"
	"testing"
)

type row struct{ key, val int }

func collapse(rows []row, hash func(*row) uint64) []row {
	return Rows(rows, hash,
		func(a, b *row) bool { return a.key == b.key },
		func(first, dup *row) { first.val = dup.val })
}

func TestRows(t *testing.T) {
	in := []row{{1, 10}, {2, 20}, {1, 11}, {3, 30}, {2, 21}, {1, 12}}
	want := []row{{1, 12}, {2, 21}, {3, 30}}
	for name, hash := range map[string]func(*row) uint64{
		"distinct hashes": func(r *row) uint64 { return uint64(r.key) * 0x9e3779b97f4a7c15 },
		"all collide":     func(*row) uint64 { return 7 },
	} {
		got := collapse(append([]row(nil), in...), hash)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	if got := collapse(nil, func(*row) uint64 { return 0 }); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}

func TestRowsMany(t *testing.T) {
	var in []row
	for i := 0; i < 5000; i++ {
		in = append(in, row{i % 1500, i})
	}
	got := collapse(in, func(r *row) uint64 { return uint64(r.key) })
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
