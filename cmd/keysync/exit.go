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

// unknownFlag adds a suggestion to pflag's error for an unknown long flag of
// c, such as "unknown flag: --form", when c has a flag of a close name.
func unknownFlag(c *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return usageError{err}
	}
	maxDist := 1
	if len(name) >= 4 {
		maxDist = 2
	}
	var close []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (editDistance(name, f.Name) <= maxDist || strings.HasPrefix(f.Name, name)) {
			close = append(close, "--"+f.Name)
		}
	})
	if len(close) == 0 {
		return usageError{err}
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

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
