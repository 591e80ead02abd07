package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/atomicfile"
)

// Printing of show and convert: the text report, conflicts, dry runs.

// summary returns " (s)", or "" for an empty s.
func summary(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// writeDryRun prints what applying c would do. Secret files get counts
// only, never their lines.
func writeDryRun(w io.Writer, c app.FileChange) error {
	what := summary(c.Summary)
	if c.Op == atomicfile.Unchanged {
		fmt.Fprintf(w, "would leave %s unchanged%s\n", c.Path, what)
		return nil
	}
	added, removed, err := c.Lines()
	if err != nil {
		return err
	}
	counts := fmt.Sprintf("%d %s added, %d removed", len(added), plural(len(added), "line", "lines"), len(removed))
	if c.Secret {
		fmt.Fprintf(w, "would %s %s%s: %s (secret, contents not shown)\n", c.Op, c.Path, what, counts)
		return nil
	}
	fmt.Fprintf(w, "would %s %s%s: %s\n", c.Op, c.Path, what, counts)
	for _, l := range removed {
		fmt.Fprintf(w, "  - %s\n", displayLine(l))
	}
	for _, l := range added {
		fmt.Fprintf(w, "  + %s\n", displayLine(l))
	}
	return nil
}

func writeNotices(w io.Writer, notices []app.Notice) {
	for _, n := range notices {
		fmt.Fprintf(w, "note: %s\n", n.String())
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeReport prints the report for people. Names read from files are
// quoted when they hold spaces or unprintable characters.
func writeReport(w io.Writer, r *app.Report) error {
	b := bufio.NewWriter(w)
	q := quoteIfNeeded
	for _, s := range r.Sources {
		fmt.Fprintf(b, "source %s\n", q(s))
	}
	for i, a := range r.Accounts {
		fmt.Fprintf(b, "\naccount %s\n", q(a.Account))
		if a.Unmapped != "" {
			fmt.Fprintf(b, "  unmapped: %s\n", a.Unmapped)
		}
		for _, sp := range a.Spellings {
			fmt.Fprintf(b, "  spelling %s: %s %s\n", sp.App, strconv.Quote(sp.Name), q(sp.Protocol))
		}
		for _, k := range a.Keys {
			fmt.Fprintf(b, "  key %s from %s", k.Fingerprint, q(k.Source))
			if k.Invalid != "" {
				fmt.Fprintf(b, " INVALID: %s", k.Invalid)
			}
			b.WriteByte('\n')
		}
		for _, t := range a.InstanceTags {
			fmt.Fprintf(b, "  instance tag %s from %s\n", t.Tag, q(t.Source))
		}
		err := r.EachContact(i, func(c app.ContactReport) error {
			fmt.Fprintf(b, "  contact %s\n", q(c.Contact))
			for _, f := range c.Fingerprints {
				trust := q(f.Trust)
				if f.Trust == "" {
					trust = "(unverified)"
				}
				fmt.Fprintf(b, "    %s %s from %s\n", f.Fingerprint, trust, q(f.Source))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, k := range r.OpenPGPKeys {
		fmt.Fprintf(b, "\nopenpgp key %s from %s\n  ownertrust %s", k.Fingerprint, q(k.Source), k.Ownertrust)
		if k.HasSecret {
			b.WriteString(", secret key")
		}
		b.WriteByte('\n')
		for _, u := range k.UserIDs {
			fmt.Fprintf(b, "  user id %s\n", strconv.Quote(u))
		}
	}
	b.WriteByte('\n')
	if len(r.Conflicts) == 0 {
		b.WriteString("conflicts: none\n")
	} else {
		b.WriteString("conflicts:\n")
		for _, c := range r.Conflicts {
			writeConflict(b, c)
		}
	}
	if len(r.Notices) == 0 {
		b.WriteString("notices: none\n")
	} else {
		b.WriteString("notices:\n")
		for _, n := range r.Notices {
			fmt.Fprintf(b, "  %s\n", app.Notice{File: n.File, Line: n.Line, Msg: n.Message})
		}
	}
	return b.Flush()
}

// conflictLine describes a conflict in one line, without its values.
func conflictLine(c app.ConflictReport) string {
	s := c.Kind + " of " + quoteIfNeeded(c.Account)
	if c.Account == "" { // an OpenPGP key's ownertrust
		s = "ownertrust of OpenPGP key " + c.Fingerprint
		if c.Contact != "" {
			s += " " + strconv.Quote(c.Contact)
		}
	} else if c.Contact != "" {
		s += " for contact " + quoteIfNeeded(c.Contact) + " fingerprint " + c.Fingerprint
	}
	if c.Winner == "" {
		return s + ": unresolved"
	}
	return s + ": settled by --prefer " + quoteIfNeeded(c.Winner)
}

func writeConflict(w io.Writer, c app.ConflictReport) {
	fmt.Fprintf(w, "  %s\n", conflictLine(c))
	for _, v := range c.Values {
		val := quoteIfNeeded(v.Value)
		if c.Kind == string(keysync.KeyConflict) {
			val = v.Value // a human fingerprint, spaces and all
		} else if v.Value == "" {
			val = "(unverified)"
		}
		fmt.Fprintf(w, "    %s: %s\n", quoteIfNeeded(v.Source), val)
	}
}

// displayLine returns a line of a file as is, tabs included, or quoted if
// it holds other characters that are not printable or bytes that are not
// UTF-8.
func displayLine(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r != '\t' && !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// quoteIfNeeded returns s, or s quoted if it is empty or holds spaces,
// characters that are not printable or bytes that are not UTF-8, so that names from files cannot
// disguise themselves or drive the terminal.
func quoteIfNeeded(s string) string {
	if s == "" || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}
