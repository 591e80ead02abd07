package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/keysync/keysync/cmd/keysync/internal/manpage"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The manual, keysync.1, is keysync.1.md with its SYNOPSIS and OPTIONS
// made from the command tree, rendered as roff. TestManPage checks that it
// is current; with KEYSYNC_UPDATE_MAN=1 (go generate) it writes it.

const manHeader = `.\" keysync.1: generated from keysync.1.md and the command tree by` + "\n" +
	`.\" go generate ./cmd/keysync. Edit keysync.1.md, not this file.` + "\n"

// TestManPage checks that keysync.1 is what keysync.1.md and the command
// tree make, or with KEYSYNC_UPDATE_MAN=1 writes it.
func TestManPage(t *testing.T) {
	want, err := manPage()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("KEYSYNC_UPDATE_MAN") == "1" {
		if err := os.WriteFile("keysync.1", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("keysync.1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("keysync.1 is not what keysync.1.md and the commands make; run go generate ./cmd/keysync")
	}
}

// manPage returns the roff source of keysync.1.
func manPage() ([]byte, error) {
	md, err := os.ReadFile("keysync.1.md")
	if err != nil {
		return nil, err
	}
	expanded, err := expandManPage(string(md), fullTree())
	if err != nil {
		return nil, err
	}
	roff, err := manpage.Render("keysync.1.md", []byte(expanded))
	if err != nil {
		return nil, err
	}
	return append([]byte(manHeader), roff...), nil
}

// fullTree returns the command tree with what cobra adds only when it
// executes: the help command and the --help flags.
func fullTree() *cobra.Command {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	walk(root, func(c *cobra.Command) { c.InitDefaultHelpFlag() })
	return root
}

// expandManPage puts the synopsis of root's commands in place of the
// synopsis marker of md, and an entry per flag in its OPTIONS section.
func expandManPage(md string, root *cobra.Command) (string, error) {
	const marker = "<!-- generated: synopsis, one line per command, from the command tree -->\n"
	if strings.Count(md, marker) != 1 {
		return "", errors.New("keysync.1.md: no synopsis marker, " + strings.TrimSpace(marker))
	}
	md = strings.Replace(md, marker, synopsis(root), 1)

	start := strings.Index(md, "\n# OPTIONS\n")
	if start < 0 {
		return "", errors.New("keysync.1.md: no OPTIONS section")
	}
	start += len("\n# OPTIONS\n")
	end := strings.Index(md[start:], "\n# ")
	if end < 0 {
		end = len(md)
	} else {
		end += start + 1
	}
	options, err := optionsSection(md[start:end], root)
	if err != nil {
		return "", err
	}
	return md[:start] + "\n" + options + md[end:], nil
}

// synopsis returns a paragraph per command that runs: its path, its
// arguments and flags as its Use says them, then the other flags. The
// commands of a group that take nothing but the same flags share one line,
// such as "keysync protocol table|dot".
func synopsis(root *cobra.Command) string {
	var b strings.Builder
	walk(root, func(c *cobra.Command) {
		switch {
		case c == root || c.Hidden || sharesLine(c.Parent()):
			// keysync itself, hidden, or in its group's line
		case sharesLine(c):
			var names []string
			for _, sub := range c.Commands() {
				if !sub.Hidden {
					names = append(names, "**"+sub.Name()+"**")
				}
			}
			fmt.Fprintf(&b, "**%s** %s%s\n\n", c.CommandPath(), strings.Join(names, "|"), otherFlags(c.Commands()[0]))
		case !c.HasSubCommands():
			line := "**" + c.CommandPath() + "**"
			if _, args, _ := strings.Cut(c.Use, " "); args != "" {
				line += " " + useMarkdown(args)
			}
			fmt.Fprintf(&b, "%s%s\n\n", line, otherFlags(c))
		}
	})
	return b.String()
}

// sharesLine reports whether c is a group below keysync whose commands take
// no arguments and the same flags, so that the synopsis says them in one
// line.
func sharesLine(c *cobra.Command) bool {
	if c == nil || !c.HasParent() || !c.HasSubCommands() {
		return false
	}
	subs := c.Commands()
	for _, sub := range subs {
		if sub.HasSubCommands() || sub.Use != sub.Name() || otherFlags(sub) != otherFlags(subs[0]) {
			return false
		}
	}
	return true
}

// otherFlags returns the flags of c that its Use does not mention, each as
// " [**--name** VALUE]", leaving out --help and --version.
func otherFlags(c *cobra.Command) string {
	var b strings.Builder
	visit := func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" || f.Name == "version" || mentions(c.Use, f.Name) {
			return
		}
		b.WriteString(" [**--" + f.Name + "**")
		if v := valueMarkdown(c, f); v != "" {
			b.WriteString("\u00a0" + v)
		}
		b.WriteString("]")
	}
	c.LocalFlags().VisitAll(visit)
	for p := c.Parent(); p != nil; p = p.Parent() {
		p.PersistentFlags().VisitAll(visit)
	}
	return b.String()
}

// mentions reports whether use names the flag --name.
func mentions(use, name string) bool {
	return regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `($|[^a-z0-9-])`).MatchString(use)
}

// valueMarkdown returns how f's value is written: as the Use of a command
// owning it says (APP[:DIR]), as its fixed values (sync|distribution), as
// its value name in capitals, or "" for a boolean flag.
func valueMarkdown(c *cobra.Command, f *pflag.Flag) string {
	for ; c != nil; c = c.Parent() {
		if v := useValue(c.Use, f.Name); v != "" {
			return useMarkdown(v)
		}
	}
	if vs, ok := fixedValues[f.Name]; ok {
		return useMarkdown(strings.Join(vs, "|"))
	}
	if f.Value.Type() == "bool" {
		return ""
	}
	name, _ := pflag.UnquoteUsage(f)
	return "*" + strings.ToUpper(name) + "*"
}

// useValue returns the value that use gives the flag --name, such as
// "APP[:DIR]" for "from" in "show --from APP[:DIR] ...", or "".
func useValue(use, name string) string {
	_, after, ok := strings.Cut(use+" ", "--"+name+" ")
	if !ok || strings.HasPrefix(after, "-") || strings.HasPrefix(after, "[") || strings.HasPrefix(after, "...") {
		return ""
	}
	v, _, _ := strings.Cut(after, " ")
	for strings.Count(v, "]") > strings.Count(v, "[") {
		v = v[:len(v)-1]
	}
	return v
}

// useToken is one token of a Use line: a flag, a placeholder, a literal
// word, or one other character.
var useToken = regexp.MustCompile(`--[a-z0-9-]+|[A-Z][A-Z0-9_]*|[a-z][a-z0-9-]*|\.\.\.|.`)

// useMarkdown writes a Use line as the synopsis does: flags, literal words
// and colons in bold, placeholders in italics, a no-break space between a
// flag and its value.
func useMarkdown(use string) string {
	toks := useToken.FindAllString(use, -1)
	var b strings.Builder
	for i, t := range toks {
		switch {
		case t == " " && i > 0 && strings.HasPrefix(toks[i-1], "--") && i+1 < len(toks) && toks[i+1] != "..." && toks[i+1] != "[":
			b.WriteString("\u00a0")
		case strings.HasPrefix(t, "--") || t == ":" || t[0] >= 'a' && t[0] <= 'z':
			b.WriteString("**" + t + "**")
		case t[0] >= 'A' && t[0] <= 'Z':
			b.WriteString("*" + t + "*")
		default:
			b.WriteString(t)
		}
	}
	return b.String()
}

// optionEntry matches a hand-written entry's term, the flag's name alone.
var optionEntry = regexp.MustCompile(`^\*\*--([a-z0-9-]+)\*\*$`)

// optionsSection returns the OPTIONS section: an entry per flag of the
// tree, those section describes first, in its order, with its descriptions.
func optionsSection(section string, root *cobra.Command) (string, error) {
	described := map[string][]string{}
	var order []string
	lines := strings.Split(section, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch m := optionEntry.FindStringSubmatch(l); {
		case strings.TrimSpace(l) == "":
		case strings.HasPrefix(l, "<!--"):
			for i < len(lines) && !strings.Contains(lines[i], "-->") {
				i++
			}
		case m != nil && i+1 < len(lines) && strings.HasPrefix(lines[i+1], ":   "):
			if _, dup := described[m[1]]; dup {
				return "", fmt.Errorf("keysync.1.md: OPTIONS describes --%s twice", m[1])
			}
			body := []string{lines[i+1][4:]}
			for i += 2; i < len(lines) && strings.HasPrefix(lines[i], "    "); i++ {
				body = append(body, lines[i][4:])
			}
			i--
			described[m[1]] = body
			order = append(order, m[1])
		default:
			return "", fmt.Errorf("keysync.1.md: OPTIONS holds %q; it holds only entries **--name** followed by :   description", l)
		}
	}

	owners := map[string][]*cobra.Command{}
	flags := map[string]*pflag.Flag{}
	var all []*cobra.Command
	walk(root, func(c *cobra.Command) {
		all = append(all, c)
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			if _, ok := flags[f.Name]; !ok {
				flags[f.Name] = f
				if !slices.Contains(order, f.Name) {
					order = append(order, f.Name)
				}
			}
			owners[f.Name] = append(owners[f.Name], c)
		})
	})
	var b strings.Builder
	for _, name := range order {
		f, ok := flags[name]
		if !ok {
			return "", fmt.Errorf("keysync.1.md: OPTIONS describes --%s, which no command has", name)
		}
		term := "**--" + name + "**"
		if f.Shorthand != "" {
			term = "**-" + f.Shorthand + "**, " + term
		}
		if v := valueMarkdown(owners[name][0], f); v != "" {
			term += " " + v
		}
		body := described[name]
		if body == nil {
			body = []string{sentence(f.Usage)}
		}
		if ws := ownerNames(owners[name], len(all)); ws != "" {
			body = append([]string{"(" + ws + ") " + body[0]}, body[1:]...)
		}
		fmt.Fprintf(&b, "%s\n:   %s\n\n", term, strings.Join(body, "\n    "))
	}
	return b.String(), nil
}

// ownerNames returns the commands that have a flag, as "**show**,
// **convert**", or "" when that is keysync itself or every command.
func ownerNames(cs []*cobra.Command, all int) string {
	if len(cs) == all || len(cs) == 1 && !cs[0].HasParent() {
		return ""
	}
	var names []string
	for _, c := range cs {
		names = append(names, "**"+strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")+"**")
	}
	return strings.Join(names, ", ")
}

// sentence makes a flag's help text a sentence.
func sentence(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// TestManPageFlags checks the roff source: every flag of every command is
// in OPTIONS, no hyphen is left for roff to turn into a dash, and every
// command is in SYNOPSIS.
func TestManPageFlags(t *testing.T) {
	roff, err := manPage()
	if err != nil {
		t.Fatal(err)
	}
	src := string(roff)
	opts := src[strings.Index(src, `.SH "OPTIONS"`):]
	opts = opts[:strings.Index(opts[1:], ".SH ")]
	walk(fullTree(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if want := `\fB\-\-` + strings.ReplaceAll(f.Name, "-", `\-`) + `\fR`; !strings.Contains(opts, want) {
				t.Errorf("OPTIONS lacks %s of %s (%q)", f.Name, c.CommandPath(), want)
			}
		})
		if !c.Hidden && c.HasParent() {
			if !strings.Contains(src[:strings.Index(src, `.SH "DESCRIPTION"`)], c.Name()) {
				t.Errorf("SYNOPSIS lacks %s", c.CommandPath())
			}
		}
	})
	bareHyphen := regexp.MustCompile(`(^|[^\\])-`)
	for i, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, `.\"`) {
			continue
		}
		if bareHyphen.MatchString(l) {
			t.Errorf("keysync.1:%d: a - that is not \\-: %s", i+1, l)
		}
	}
	for _, want := range []string{
		`\fBkeysync show\fR \fB\-\-from\fR\ \fIAPP\fR[\fB:\fIDIR\fR] ... [\fB\-\-json\fR]`,
		`\fBkeysync wire\fR \fBdecode\fR|\fBencode\fR [\fB\-\-pdu\fR\ \fBsync\fR|\fBdistribution\fR] [\fB\-\-hex\fR]`,
		`\fB\-h\fR, \fB\-\-help\fR`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("keysync.1 lacks %s", want)
		}
	}
}

// TestManPageReads formats keysync.1 with man(1) and groff, as a reader
// would: groff warns of nothing, and every flag reads as typed. Without
// man and groff it is skipped, unless KEYSYNC_REQUIRE_PEERS=1.
func TestManPageReads(t *testing.T) {
	for _, p := range []string{"man", "groff"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("KEYSYNC_REQUIRE_PEERS") == "1" {
				t.Fatalf("%s not found (Debian package man-db)", p)
			}
			t.Skipf("%s not found (Debian package man-db)", p)
		}
	}
	lint := exec.Command("groff", "-man", "-ww", "-z", "keysync.1")
	if out, err := lint.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww -z keysync.1: %v\n%s", err, out)
	}
	man := exec.Command("man", "-P", "cat", "-l", "keysync.1")
	man.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "MANWIDTH=100", "MAN_KEEP_FORMATTING=")
	out, err := man.Output()
	if err != nil {
		t.Fatalf("man -l keysync.1: %v", err)
	}
	text := string(out)
	for _, want := range []string{
		"keysync show --from APP[:DIR] ... [--json]",
		"keysync convert --from APP[:DIR] ... --to APP[:DIR] ... [--prefer APP[:DIR]] [--dry-run]",
		"--dry-run", "--pdu sync|distribution", "-h, --help", "keysync completion bash|zsh|fish",
		"adium:C:\\Users\\me\\Adium", "p≡p",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("man -l keysync.1 lacks %q", want)
		}
	}
	for _, dash := range []string{"\u2010", "\u2013", "\u2212"} {
		if strings.Contains(text, dash) {
			t.Errorf("man -l keysync.1 has %U where a - was written", []rune(dash)[0])
		}
	}
}
