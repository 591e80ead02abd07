// Package collapse removes duplicate rows from tables as libotr does when it
// reads a fingerprints file: the first row of each key keeps its place and
// later duplicates are folded into it.
package collapse

// Rows collapses the rows with equal keys into the first of them, calling
// merge(first, duplicate) for each later one in order, and returns the
// shortened slice (the tail is cleared). It takes one map lookup per row.
func Rows[T any, K comparable](rows []T, key func(*T) K, merge func(first, dup *T)) []T {
	first := make(map[K]int, len(rows))
	w := 0
	for i := range rows {
		k := key(&rows[i])
		if j, seen := first[k]; seen {
			merge(&rows[j], &rows[i])
			continue
		}
		first[k] = w
		rows[w] = rows[i]
		w++
	}
	clear(rows[w:])
	return rows[:w]
}
