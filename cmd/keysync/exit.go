package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses, as the man page's EXIT STATUS section lists them. Status 3
// (unresolved conflicts, nothing written) comes from convert's error through
// its ExitCode method.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// exitStatus returns the status keysync exits with after err: 0 for nil, the
// ExitCode of the first error in err's chain that has one, else 1.
func exitStatus(err error) int {
	if err == nil {
		return exitOK
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return exitError
}

// usageError is a mistake in the command line itself: an unknown command or
// flag, a wrong argument, a missing flag. keysync exits 2 after one.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// ExitCode returns 2, the status of a usage error.
func (e usageError) ExitCode() int { return exitUsage }

// usageErrorf returns a usageError with a message formatted as by fmt.Errorf.
func usageErrorf(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// unknownCommand is the error for name, given where parent expects one of
// its commands. It suggests the commands name is close to.
func unknownCommand(parent *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, parent.CommandPath())
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + orList(s) + "?"
	}
	return usageError{errors.New(msg)}
}

// unknownWord is the error for word, given where one of valid is expected;
// what is the kind of word, such as "shell". It suggests the close ones.
func unknownWord(what, word string, valid []string) error {
	if close := closeWords(word, valid); len(close) > 0 {
		return usageErrorf("unknown %s %q; did you mean %s?", what, word, orList(close))
	}
	return usageErrorf("unknown %s %q (want %s)", what, word, strings.Join(valid, ", "))
}

// closeWords returns the words of valid that word may be a typo of: one
// edit away (a letter added, left out, changed, or two swapped), or
// starting with word.
func closeWords(word string, valid []string) []string {
	var close []string
	for _, v := range valid {
		if editDistance(word, v) <= 1 || word != "" && strings.HasPrefix(v, word) {
			close = append(close, v)
		}
	}
	return close
}

// unknownFlag adds a suggestion to pflag's error for an unknown long flag of
// c, such as "unknown flag: --form", when c has a flag of a close name.
//
// When c only groups other commands and a word that names none of them came
// before the flag (keysync handshake frobnicate --home X), that word is the
// mistake: the flag belongs to the command it was meant to name.
func unknownFlag(c *cobra.Command, err error) error {
	if c.HasSubCommands() {
		if args := c.Flags().Args(); len(args) > 0 {
			return unknownCommand(c, args[0])
		}
	}
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return usageError{err}
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	close := closeWords(name, names)
	if len(close) == 0 {
		return usageError{err}
	}
	for i, n := range close {
		close[i] = "--" + n
	}
	return usageErrorf("%w; did you mean %s?", err, orList(close))
}

// orList quotes words and joins them as `"a", "b" or "c"`.
func orList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// editDistance is the number of edits that make a into b, each edit adding,
// removing or changing one byte or swapping two adjacent ones (the optimal
// string alignment distance).
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
