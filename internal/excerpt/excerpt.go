// Package excerpt shortens input quoted in messages, so that an error about
// a huge or binary value stays one short, printable line.
package excerpt

import (
	"strconv"
	"unicode/utf8"
)

// MaxRunes is the most runes of the input Quote keeps: more than almost
// any real account name, short enough for one line.
const MaxRunes = 64

// Cut returns s cut to its first n runes, with "…" appended when something
// was cut. A byte that is not UTF-8 counts as one rune. It is for messages
// of other packages that may quote input at length.
func Cut(s string, n int) string {
	i := 0
	for ; i < len(s) && n > 0; n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	if i == len(s) {
		return s
	}
	return s[:i] + "…"
}

// Quote returns s as a Go-quoted string cut to its first MaxRunes runes;
// when something was cut, "…" follows the closing quote and the length in
// bytes is given: "aaaa"… (52428800 bytes).
func Quote(s string) string {
	short := Cut(s, MaxRunes)
	if len(short) == len(s) {
		return strconv.Quote(s)
	}
	return strconv.Quote(short[:len(short)-len("…")]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}
