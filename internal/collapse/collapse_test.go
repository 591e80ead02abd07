package collapse

import (
	"reflect"
	"testing"
)

type row struct{ key, val int }

func collapse(rows []row) []row {
	return Rows(rows, func(r *row) int { return r.key },
		func(first, dup *row) { first.val = dup.val })
}

func TestRows(t *testing.T) {
	in := []row{{1, 10}, {2, 20}, {1, 11}, {3, 30}, {2, 21}, {1, 12}}
	want := []row{{1, 12}, {2, 21}, {3, 30}}
	if got := collapse(append([]row(nil), in...)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := collapse(nil); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}

func TestRowsMany(t *testing.T) {
	var in []row
	for i := 0; i < 5000; i++ {
		in = append(in, row{i % 1500, i})
	}
	got := collapse(in)
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
