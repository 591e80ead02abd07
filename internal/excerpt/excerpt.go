// Package excerpt shortens and escapes input quoted in messages, so that an
// error about a huge, binary or hostile value stays one short, printable
// line: no byte of the input reaches a terminal unescaped.
package excerpt

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxRunes is the most runes of the input Quote keeps: more than almost
// any real account name, short enough for one line.
const MaxRunes = 64

// prefix returns the length in bytes of s's first n runes. A byte that is
// not UTF-8 counts as one rune.
func prefix(s string, n int) int {
	i := 0
	for ; i < len(s) && n > 0; n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}

// Cut returns s's first n runes with every rune that is not printable
// (control bytes, newlines and tabs included, format characters such as
// U+202E) and every byte that is not UTF-8 written as a Go escape ("\x1b",
// "\n", "\u202e", "\xff"), and "…" appended when something was cut. Other
// bytes, quotes and backslashes included, are kept. It is for messages
// that quote input or another program's output in running text.
func Cut(s string, n int) string {
	i := prefix(s, n)
	var b strings.Builder
	for j := 0; j < i; {
		r, w := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == utf8.RuneError && w == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[j])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[j])&15, 16))
		case strconv.IsPrint(r):
			b.WriteString(s[j : j+w])
		default:
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
		}
		j += w
	}
	if i < len(s) {
		b.WriteString("…")
	}
	return b.String()
}

// Quote returns s as a Go-quoted string cut to its first MaxRunes runes;
// when something was cut, "…" follows the closing quote and the length in
// bytes is given: "aaaa"… (52428800 bytes).
func Quote(s string) string {
	i := prefix(s, MaxRunes)
	if i == len(s) {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:i]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}
