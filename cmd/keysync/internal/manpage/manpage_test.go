package manpage

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	md := `% TOOL(1) tool | User Commands

# NAME

tool - do a thing

# OPTIONS

<!-- a comment,
over two lines -->

**--from** *APP*[**:***DIR*]
:   A store, such as **pidgin:**.
    It may be *--from* given twice.

.start, 'quote and a back\\slash \* here

## Sub section

- one
  item
- two

1. first
   still first
2. second

Code:

    keysync show --from x
    .dot

    after a blank
`
	want := `.TH "TOOL" "1" "" "tool" "User Commands"
.nh
.ad l
.SH "NAME"
tool \- do a thing
.SH "OPTIONS"
.TP
\fB\-\-from\fR \fIAPP\fR[\fB:\fIDIR\fR]
A store, such as \fBpidgin:\fR.
It may be \fI\-\-from\fR given twice.
.PP
\&.start, 'quote and a back\eslash * here
.SS "Sub section"
.IP \(bu 2
one
item
.IP \(bu 2
two
.IP 1. 4
first
still first
.IP 2. 4
second
.PP
Code:
.PP
.RS 4
.nf
keysync show \-\-from x
\&.dot
\&
after a blank
.fi
.RE
`
	got, err := Render("t.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestInline(t *testing.T) {
	for _, c := range []struct{ md, roff string }{
		{"**bold** and *italic*", `\fBbold\fR and \fIitalic\fR`},
		{"***both***", `\f(BIboth\fR`},
		{"**bold *and italic* bold**", `\fBbold \f(BIand italic\fB bold\fR`},
		{"*APP***:***DIR*", `\fIAPP\fB:\fIDIR\fR`},
		{"*NAME***.keysync-backup**[**.***N*]", `\fINAME\fB.keysync\-backup\fR[\fB.\fIN\fR]`},
		{"a--b -c \\\\ C:\\\\x", `a\-\-b \-c \e C:\ex`},
		{"p≡p — …", `p\[u2261]p \[u2014] \[u2026]`},
		{"no\u00a0break", `no\ break`},
		{"run `go generate *x*` now", `run \fBgo generate *x*\fR now`},
		{"*in `code` italic*", `\fIin \fBcode\fI italic\fR`},
	} {
		var f fonts
		got, err := f.inline(c.md)
		if err != nil {
			t.Errorf("%q: %v", c.md, err)
			continue
		}
		if got != c.roff {
			t.Errorf("%q: got %s, want %s", c.md, got, c.roff)
		}
	}
}

// TestRenderRefuses checks that markup outside the subset is an error that
// names the line, not a page that reads differently than its source.
func TestRenderRefuses(t *testing.T) {
	for _, c := range []struct{ md, err string }{
		{"% tool\n", "t.md:1: title"},
		{"# A\n\nsome *open\n", "t.md:3: * or ** not closed"},
		{"# A\n\n**bold\nstill**\n\n*x\n", "t.md:6: * or ** not closed"},
		{"# A\n\nTERM\n:   body\n\n    code\n", "t.md:6: indented block right after a definition"},
		{"# A\n\none\ntwo\n:   body\n", "t.md:5: a definition's term is one line"},
		{"# A\n<!-- open\n", "t.md:2: comment not closed"},
		{"# A\n\nsome `code\nmore`\n", "t.md:3: ` not closed on its line"},
	} {
		_, err := Render("t.md", []byte(c.md))
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: error %v, want %q", c.md, err, c.err)
		}
	}
}
