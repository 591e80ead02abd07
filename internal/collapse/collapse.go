// Package collapse removes duplicate rows from large tables in linear time
// and little memory, as libotr does when it reads a fingerprints file: the
// first row of each key keeps its place and later duplicates are folded
// into it.
package collapse

import "runtime"

// Rows collapses the rows that same reports equal into the first of them,
// calling merge(first, duplicate) for each later one in order, and returns
// the shortened slice (the tail is cleared). hash must agree with same.
//
// It probes an open-addressing table of 32-bit row indexes (8 bytes per
// row) in batches: the first loop of a batch only loads the table slots,
// so that their cache misses overlap.
func Rows[T any](rows []T, hash func(*T) uint64, same func(a, b *T) bool, merge func(first, dup *T)) []T {
	size := 1024
	for size < 2*len(rows) {
		size *= 2
	}
	table := make([]int32, size)
	mask := uint64(size - 1)
	w := 0
	const batch = 32
	var sink int32
	var hs [batch]uint64
	for b := 0; b < len(rows); b += batch {
		end := min(b+batch, len(rows))
		for i := b; i < end; i++ {
			h := hash(&rows[i])
			hs[i-b] = h
			sink += table[h&mask]
		}
		for i := b; i < end; i++ {
			for j := hs[i-b] & mask; ; j = (j + 1) & mask {
				e := table[j]
				if e == 0 {
					table[j] = int32(w + 1)
					rows[w] = rows[i]
					w++
					break
				}
				if o := &rows[e-1]; same(o, &rows[i]) {
					merge(o, &rows[i])
					break
				}
			}
		}
	}
	runtime.KeepAlive(sink)
	clear(rows[w:])
	return rows[:w]
}
