// Package manpage renders a manual page written in a small subset of
// pandoc's Markdown as roff for man(1), with every hyphen a minus sign
// (\-), so that flags such as --from read and copy as typed.
//
// The subset, each construct on lines of its own:
//
//	% NAME(SECTION) SOURCE | MANUAL    title, first line
//	# HEADING, ## HEADING              section, subsection
//	paragraph lines                    a filled paragraph
//	TERM                               a definition: TERM on one line,
//	:   BODY                           the body after ":   ", continued
//	    BODY ...                       on lines indented by four spaces
//	- ITEM                             a bulleted item, continued on lines
//	  ITEM ...                         indented by two spaces
//	1. ITEM                            a numbered item, continued on lines
//	   ITEM ...                        indented by three spaces
//	    code                           after a blank line: shown as is
//	<!-- comment -->                   left out
//
// and, within paragraphs, terms and items, **bold**, *italic*, `code`
// (literal, in bold) and backslash escapes (\\, \*). Every other character
// is literal. What the subset cannot say as pandoc would read it, such as
// an unclosed * or ` or a code block right after a definition, is an error
// naming the line, rather than a page that renders differently than the
// source reads.
package manpage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Render returns the roff source of the page md. name labels errors.
func Render(name string, md []byte) ([]byte, error) {
	r := renderer{name: name, lines: strings.Split(strings.TrimRight(string(md), "\n"), "\n")}
	if err := r.render(); err != nil {
		return nil, err
	}
	return r.out.Bytes(), nil
}

type renderer struct {
	name  string
	lines []string
	i     int // next line to read
	out   bytes.Buffer
	// afterDef is set after a definition, where pandoc would read an
	// indented block as more of the definition.
	afterDef bool
	// afterHeading is set after a heading, where a paragraph needs no .PP.
	afterHeading bool
}

func (r *renderer) errorf(line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", r.name, line+1, fmt.Sprintf(format, a...))
}

func (r *renderer) render() error {
	if len(r.lines) > 0 && strings.HasPrefix(r.lines[0], "% ") {
		if err := r.title(r.lines[0][2:]); err != nil {
			return err
		}
		r.i = 1
	}
	for r.i < len(r.lines) {
		line := r.lines[r.i]
		var err error
		switch {
		case strings.TrimSpace(line) == "":
			r.i++
			continue
		case strings.HasPrefix(line, "<!--"):
			err = r.comment()
		case strings.HasPrefix(line, "# "):
			r.macro("SH", line[2:])
			r.i++
			r.afterDef, r.afterHeading = false, true
			continue
		case strings.HasPrefix(line, "## "):
			r.macro("SS", line[3:])
			r.i++
			r.afterDef, r.afterHeading = false, true
			continue
		case strings.HasPrefix(line, "    "):
			err = r.code()
		case strings.HasPrefix(line, "- "):
			err = r.item(`\(bu`, "2", 2)
		case numbered(line) > 0:
			n := numbered(line)
			err = r.item(line[:n-1], "4", n)
		default:
			err = r.paragraph()
			if err != nil {
				return err
			}
			r.afterHeading = false
			continue
		}
		if err != nil {
			return err
		}
		r.afterDef, r.afterHeading = false, false
	}
	return nil
}

// numbered returns the length of a list number such as "1. " that starts
// line, or 0.
func numbered(line string) int {
	n := 0
	for n < len(line) && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	if n == 0 || !strings.HasPrefix(line[n:], ". ") {
		return 0
	}
	return n + 2
}

func (r *renderer) title(t string) error {
	head, rest, _ := strings.Cut(t, " ")
	open := strings.IndexByte(head, '(')
	if open <= 0 || !strings.HasSuffix(head, ")") {
		return r.errorf(0, "title %q does not start with NAME(SECTION)", t)
	}
	source, manual, _ := strings.Cut(rest, " | ")
	fmt.Fprintf(&r.out, ".TH %s %s \"\" %s %s\n.nh\n.ad l\n",
		quote(head[:open]), quote(head[open+1:len(head)-1]), quote(source), quote(manual))
	return nil
}

// macro writes a request whose argument is plain text, such as .SH.
func (r *renderer) macro(name, arg string) {
	fmt.Fprintf(&r.out, ".%s %s\n", name, quote(arg))
}

func (r *renderer) comment() error {
	for j := r.i; j < len(r.lines); j++ {
		if strings.Contains(r.lines[j], "-->") {
			r.i = j + 1
			return nil
		}
	}
	return r.errorf(r.i, "comment not closed")
}

// code writes lines indented by four spaces, up to one that is not, as
// they are.
func (r *renderer) code() error {
	if r.afterDef {
		return r.errorf(r.i, "indented block right after a definition (pandoc reads it as part of the definition): put a paragraph between them")
	}
	end := r.i
	for j := r.i; j < len(r.lines); j++ {
		if strings.HasPrefix(r.lines[j], "    ") {
			end = j + 1
		} else if strings.TrimSpace(r.lines[j]) != "" {
			break
		}
	}
	r.out.WriteString(".PP\n.RS 4\n.nf\n")
	for _, l := range r.lines[r.i:end] {
		r.textLine(escape(strings.TrimPrefix(l, "    ")))
	}
	r.out.WriteString(".fi\n.RE\n")
	r.i = end
	return nil
}

// item writes a list item that starts with a marker of width n and goes on
// over lines indented by n spaces.
func (r *renderer) item(tag, indent string, n int) error {
	start := r.i
	text := []string{r.lines[r.i][n:]}
	r.i++
	pad := strings.Repeat(" ", n)
	for r.i < len(r.lines) && strings.HasPrefix(r.lines[r.i], pad) && strings.TrimSpace(r.lines[r.i]) != "" {
		text = append(text, r.lines[r.i][n:])
		r.i++
	}
	fmt.Fprintf(&r.out, ".IP %s %s\n", tag, indent)
	return r.text(start, text)
}

// paragraph writes the lines up to a blank one or a heading, or, when the
// line after the first starts with ":   ", a definition.
func (r *renderer) paragraph() error {
	start := r.i
	if r.i+1 < len(r.lines) && strings.HasPrefix(r.lines[r.i+1], ":   ") {
		r.out.WriteString(".TP\n")
		if err := r.text(start, r.lines[start:start+1]); err != nil {
			return err
		}
		body := []string{r.lines[r.i+1][4:]}
		r.i += 2
		for r.i < len(r.lines) && strings.HasPrefix(r.lines[r.i], "    ") {
			body = append(body, r.lines[r.i][4:])
			r.i++
		}
		r.afterDef = true
		return r.text(start+1, body)
	}
	var text []string
	for r.i < len(r.lines) {
		l := r.lines[r.i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "<!--") {
			break
		}
		if r.i > start && strings.HasPrefix(l, ":   ") {
			return r.errorf(r.i, "a definition's term is one line")
		}
		text = append(text, l)
		r.i++
	}
	r.afterDef = false
	if !r.afterHeading {
		r.out.WriteString(".PP\n")
	}
	return r.text(start, text)
}

// text writes lines of inline Markdown that start at line first, one roff
// line each; bold and italic may span lines.
func (r *renderer) text(first int, lines []string) error {
	var f fonts
	for k, l := range lines {
		s, err := f.inline(strings.TrimSpace(l))
		if err != nil {
			return r.errorf(first+k, "%v", err)
		}
		r.textLine(s)
	}
	if f.bold || f.italic {
		return r.errorf(first+len(lines)-1, "* or ** not closed")
	}
	return nil
}

// textLine writes one line of text, kept from being read as a request.
func (r *renderer) textLine(s string) {
	if s == "" || s[0] == '.' || s[0] == '\'' {
		s = `\&` + s
	}
	r.out.WriteString(s + "\n")
}

// fonts is the state of emphasis within one block.
type fonts struct {
	bold, italic bool
	lastBold     bool // bold was opened after italic
}

// inline renders one line of inline Markdown.
func (f *fonts) inline(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\*_`[]#-.!+{}()", s[i+1]) >= 0:
			b.WriteString(escape(s[i+1 : i+2]))
			i += 2
		case c == '`':
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				return "", errors.New("` not closed on its line")
			}
			fmt.Fprintf(&b, `\fB%s%s`, escape(s[i+1:i+1+end]), f.font())
			i += end + 2
		case c == '*':
			n := 0
			for i+n < len(s) && s[i+n] == '*' {
				n++
			}
			if err := f.stars(n); err != nil {
				return "", err
			}
			b.WriteString(f.font())
			i += n
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(escape(s[i : i+size]))
			i += size
		}
	}
	return b.String(), nil
}

// stars applies a run of n asterisks: it closes what is open, innermost
// first, then opens with what is left (** bold, * italic).
func (f *fonts) stars(n int) error {
	for n > 0 {
		switch {
		case f.italic && (!f.lastBold || !f.bold || n == 1):
			f.italic = false
			n--
		case f.bold && n >= 2:
			f.bold = false
			n -= 2
		case !f.bold && n >= 2:
			f.bold, f.lastBold = true, f.italic
			n -= 2
		case !f.italic:
			f.italic, f.lastBold = true, false
			n--
		default:
			return fmt.Errorf("cannot read %s as emphasis (escape a literal * as \\*)", strings.Repeat("*", n))
		}
	}
	return nil
}

// font returns the roff escape that selects the current font.
func (f *fonts) font() string {
	switch {
	case f.bold && f.italic:
		return `\f(BI`
	case f.bold:
		return `\fB`
	case f.italic:
		return `\fI`
	}
	return `\fR`
}

// escape makes text literal in roff: backslashes and hyphens escaped (a
// hyphen is a minus sign, as in flags), a no-break space (U+00A0) as roff's,
// other than ASCII as \[uXXXX].
func escape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\\':
			b.WriteString(`\e`)
		case c == '-':
			b.WriteString(`\-`)
		case c == '\u00a0':
			b.WriteString(`\ `)
		case c >= utf8.RuneSelf:
			fmt.Fprintf(&b, `\[u%04X]`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// quote makes s one argument of a request.
func quote(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"`
}
