// Package collapse removes duplicate rows from tables as libotr does when it
// reads a fingerprints file: the first row of each key keeps its place and
// later duplicates are folded into it.
package collapse

import "hash/maphash"

// Rows collapses the rows with equal keys into the first of them, calling
// merge(first, duplicate) for each later one in order, and returns the
// shortened slice (the tail is cleared).
//
// It maps each key's 64-bit hash to its first row, so that a million rows
// cost a 16-byte map slot each rather than a copy of their key; keys whose
// hash is already taken by another key go into a second map keyed by the
// key itself.
func Rows[T any, K comparable](rows []T, key func(*T) K, merge func(first, dup *T)) []T {
	seed := maphash.MakeSeed()
	return collapse(rows, key, merge, func(k K) uint64 { return maphash.Comparable(seed, k) })
}

func collapse[T any, K comparable](rows []T, key func(*T) K, merge func(first, dup *T), hash func(K) uint64) []T {
	first := make(map[uint64]int32, len(rows))
	var collided map[K]int
	w := 0
	for i := range rows {
		k := key(&rows[i])
		h := hash(k)
		if j, taken := first[h]; !taken {
			first[h] = int32(w)
		} else if key(&rows[j]) == k {
			merge(&rows[j], &rows[i])
			continue
		} else if j, seen := collided[k]; seen {
			merge(&rows[j], &rows[i])
			continue
		} else {
			if collided == nil {
				collided = map[K]int{}
			}
			collided[k] = w
		}
		if w != i {
			rows[w] = rows[i]
		}
		w++
	}
	clear(rows[w:])
	return rows[:w]
}
