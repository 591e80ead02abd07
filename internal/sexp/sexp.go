// Package sexp reads and prints S-expressions the way libgcrypt does.
//
// Parse accepts the full syntax of libgcrypt's gcry_sexp_new: tokens,
// "quoted" strings with escapes, #hex# with embedded whitespace, |base64|,
// len:raw, optional length prefixes and [display hints]. As in libgcrypt
// 1.10, the atoms of a display hint are kept as ordinary list elements.
// AppendAdvanced
// prints an expression byte for byte like gcry_sexp_sprint with
// GCRYSEXP_FMT_ADVANCED.
package sexp

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

// MaxDepth is the deepest list nesting Parse accepts.
const MaxDepth = 256

// Node is one element of an S-expression: an atom, or a list when IsList
// is set.
type Node struct {
	IsList bool
	Atom   []byte  // the atom's bytes after decoding; nil for a list
	List   []*Node // the list's elements; nil for an atom
	Line   int     // 1-based line where the element starts
}

// Error is a syntax error at a line of the input. Its message never quotes
// atom contents.
type Error struct {
	Line int
	Msg  string
}

// Error returns "line N: message".
func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// isTokenChar reports whether c may appear in a token.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '/', '_', ':', '*', '+', '=':
		return true
	}
	return false
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\v', '\f', '\r', '\n':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

type parser struct {
	data []byte
	pos  int
	line int
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// advance moves past n bytes, counting line feeds.
func (p *parser) advance(n int) {
	for _, c := range p.data[p.pos : p.pos+n] {
		if c == '\n' {
			p.line++
		}
	}
	p.pos += n
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) && isSpace(p.data[p.pos]) {
		if p.data[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
}

// Parse parses data, which must hold exactly one list, optionally
// surrounded by whitespace.
func Parse(data []byte) (*Node, error) {
	p := &parser{data: data, line: 1}
	p.skipSpace()
	if p.pos == len(data) {
		return nil, p.errf(p.line, "empty S-expression")
	}
	if data[p.pos] != '(' {
		return nil, p.errf(p.line, "S-expression does not start with '('")
	}
	n, err := p.parseList()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(data) {
		return nil, p.errf(p.line, "unexpected data after the closing ')'")
	}
	return n, nil
}

// parseList parses a list starting at '(' with an explicit stack.
func (p *parser) parseList() (*Node, error) {
	root := &Node{IsList: true, Line: p.line}
	p.pos++
	stack := []*Node{root}
	inHint := false
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errf(stack[len(stack)-1].Line, "unclosed '(' (missing ')')")
		}
		c := p.data[p.pos]
		top := stack[len(stack)-1]
		switch c {
		case '(', ')':
			if inHint {
				return nil, p.errf(p.line, "display hint without closing ']'")
			}
			if c == ')' {
				p.pos++
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return root, nil
				}
				continue
			}
			if len(stack) >= MaxDepth {
				return nil, p.errf(p.line, "lists nested deeper than %d", MaxDepth)
			}
			n := &Node{IsList: true, Line: p.line}
			top.List = append(top.List, n)
			stack = append(stack, n)
			p.pos++
			continue
		case '[':
			if inHint {
				return nil, p.errf(p.line, "nested display hint")
			}
			inHint = true
			p.pos++
			continue
		case ']':
			if !inHint {
				return nil, p.errf(p.line, "']' without '['")
			}
			inHint = false
			p.pos++
			continue
		}
		line := p.line
		a, err := p.parseAtom()
		if err != nil {
			return nil, err
		}
		top.List = append(top.List, &Node{Atom: a, Line: line})
	}
}

// parseAtom parses one atom at p.pos.
func (p *parser) parseAtom() ([]byte, error) {
	d := p.data
	if p.pos >= len(d) {
		return nil, p.errf(p.line, "unexpected end of input")
	}
	c := d[p.pos]
	if isDigit(c) {
		if c == '0' {
			return nil, p.errf(p.line, "length prefix starts with 0")
		}
		start := p.pos
		for p.pos < len(d) && isDigit(d[p.pos]) {
			p.pos++
		}
		if p.pos >= len(d) {
			return nil, p.errf(p.line, "length prefix at end of input")
		}
		switch d[p.pos] {
		case ':':
			n := 0
			for _, c := range d[start:p.pos] {
				n = n*10 + int(c-'0')
				if n > len(d) {
					return nil, p.errf(p.line, "raw atom longer than the input")
				}
			}
			p.pos++
			if n > len(d)-p.pos {
				return nil, p.errf(p.line, "raw atom longer than the input")
			}
			a := append([]byte{}, d[p.pos:p.pos+n]...)
			p.advance(n)
			return a, nil
		case '"', '#', '|':
			// libgcrypt ignores a length before these forms.
		default:
			return nil, p.errf(p.line, "invalid length prefix")
		}
		c = d[p.pos]
	}
	switch {
	case c == '"':
		return p.parseQuoted()
	case c == '#':
		return p.parseHex()
	case c == '|':
		return p.parseBase64()
	case isTokenChar(c):
		start := p.pos
		for p.pos < len(d) && isTokenChar(d[p.pos]) {
			p.pos++
		}
		return append([]byte{}, d[start:p.pos]...), nil
	}
	return nil, p.errf(p.line, "unexpected character %q", c)
}

func (p *parser) parseHex() ([]byte, error) {
	line := p.line
	d := p.data
	p.pos++ // '#'
	var out []byte
	var hi byte
	half := false
	for {
		if p.pos >= len(d) {
			return nil, p.errf(line, "hex atom without closing '#'")
		}
		c := d[p.pos]
		if c == '#' {
			p.pos++
			break
		}
		if isSpace(c) {
			if c == '\n' {
				p.line++
			}
			p.pos++
			continue
		}
		v, ok := hexVal(c)
		if !ok {
			return nil, p.errf(p.line, "invalid character in hex atom")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
		p.pos++
	}
	if half {
		return nil, p.errf(line, "odd number of hex digits")
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

func (p *parser) parseBase64() ([]byte, error) {
	line := p.line
	d := p.data
	p.pos++ // '|'
	end := bytes.IndexByte(d[p.pos:], '|')
	if end < 0 {
		return nil, p.errf(line, "base64 atom without closing '|'")
	}
	enc := d[p.pos : p.pos+end]
	p.pos += end + 1
	// libgcrypt takes padding as optional and no whitespace inside.
	enc = bytes.TrimRight(enc, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
	n, err := base64.RawStdEncoding.Decode(out, enc)
	if err != nil || len(enc) == 0 {
		return nil, p.errf(line, "invalid base64 atom")
	}
	return out[:n], nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func (p *parser) parseQuoted() ([]byte, error) {
	line := p.line
	d := p.data
	p.pos++ // '"'
	out := []byte{}
	for {
		if p.pos >= len(d) {
			return nil, p.errf(line, "quoted string without closing '\"'")
		}
		c := d[p.pos]
		switch c {
		case '"':
			p.pos++
			return out, nil
		case '\n':
			p.line++
		case '\\':
			if p.pos+1 >= len(d) {
				return nil, p.errf(line, "quoted string without closing '\"'")
			}
			e := d[p.pos+1]
			p.pos += 2
			switch e {
			case 'b':
				out = append(out, '\b')
			case 't':
				out = append(out, '\t')
			case 'v':
				out = append(out, '\v')
			case 'n':
				out = append(out, '\n')
			case 'f':
				out = append(out, '\f')
			case 'r':
				out = append(out, '\r')
			case '"', '\'', '\\':
				out = append(out, e)
			case '\r': // escaped line break: CR, optionally LF
				if p.pos < len(d) && d[p.pos] == '\n' {
					p.pos++
					p.line++
				}
			case '\n': // escaped line break: LF, optionally CR
				p.line++
				if p.pos < len(d) && d[p.pos] == '\r' {
					p.pos++
				}
			case 'x':
				if p.pos+1 >= len(d) {
					return nil, p.errf(p.line, "invalid \\x escape")
				}
				h, ok1 := hexVal(d[p.pos])
				l, ok2 := hexVal(d[p.pos+1])
				if !ok1 || !ok2 {
					return nil, p.errf(p.line, "invalid \\x escape")
				}
				out = append(out, h<<4|l)
				p.pos += 2
			default:
				if !isOctal(e) || p.pos+1 >= len(d) || !isOctal(d[p.pos]) || !isOctal(d[p.pos+1]) {
					return nil, p.errf(p.line, "invalid escape in quoted string")
				}
				v := int(e-'0')*64 + int(d[p.pos]-'0')*8 + int(d[p.pos+1]-'0')
				out = append(out, byte(v))
				p.pos += 2
			}
			continue
		}
		out = append(out, c)
		p.pos++
	}
}

// FindToken returns the first list, in document order and at any depth
// (n itself included), whose first element is the atom tok, or nil. This is
// gcry_sexp_find_token.
func (n *Node) FindToken(tok string) *Node {
	if n == nil || !n.IsList {
		return nil
	}
	if len(n.List) > 0 && !n.List[0].IsList && string(n.List[0].Atom) == tok {
		return n
	}
	for _, c := range n.List {
		if f := c.FindToken(tok); f != nil {
			return f
		}
	}
	return nil
}

// Head returns the atom that starts list n, or nil if n is not a list or
// does not start with an atom.
func (n *Node) Head() []byte {
	if n == nil || !n.IsList || len(n.List) == 0 || n.List[0].IsList {
		return nil
	}
	return n.List[0].Atom
}

// Nth returns the i-th element of list n, or nil.
func (n *Node) Nth(i int) *Node {
	if n == nil || !n.IsList || i < 0 || i >= len(n.List) {
		return nil
	}
	return n.List[i]
}

// atomForm is how libgcrypt prints an atom.
type atomForm int

// Atom forms, as chosen by libgcrypt's suitable_encoding.
const (
	hexForm atomForm = iota
	quotedForm
	tokenForm
)

// encodingOf returns the form libgcrypt's advanced printer uses for atom a.
func encodingOf(a []byte) atomForm {
	if len(a) == 0 {
		return quotedForm
	}
	if a[0]&0x80 != 0 || a[0] == 0 {
		return hexForm
	}
	token := true
	for _, c := range a {
		if (c < 0x20 || (c >= 0x7f && c <= 0xa0)) && !isQuotable(c) {
			return hexForm
		}
		if token && !isTokenChar(c) {
			token = false
		}
	}
	if token && !isDigit(a[0]) {
		return tokenForm
	}
	return quotedForm
}

func isQuotable(c byte) bool {
	switch c {
	case '\b', '\t', '\v', '\n', '\f', '\r', '"', '\'', '\\':
		return true
	}
	return false
}

const upperHex = "0123456789ABCDEF"
const lowerHex = "0123456789abcdef"

// appendAtom appends atom a to dst in the form libgcrypt's advanced printer
// chooses.
func appendAtom(dst, a []byte) []byte {
	switch encodingOf(a) {
	case tokenForm:
		return append(dst, a...)
	case quotedForm:
		dst = append(dst, '"')
		for _, c := range a {
			switch c {
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\v':
				dst = append(dst, '\\', 'v')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '"', '\'', '\\':
				dst = append(dst, '\\', c)
			default:
				if c < 0x20 || (c >= 0x7f && c <= 0xa0) {
					dst = append(dst, '\\', 'x', lowerHex[c>>4], lowerHex[c&15])
				} else {
					dst = append(dst, c)
				}
			}
		}
		return append(dst, '"')
	default:
		dst = append(dst, '#')
		for _, c := range a {
			dst = append(dst, upperHex[c>>4], upperHex[c&15])
		}
		return append(dst, '#')
	}
}

// AppendAdvanced appends n printed like gcry_sexp_sprint with
// GCRYSEXP_FMT_ADVANCED, including the final line feed.
func AppendAdvanced(dst []byte, n *Node) []byte {
	// Flatten into libgcrypt's tag stream, then print it.
	var items []item
	items = flatten(items, n)
	indent := 0
	for i, it := range items {
		var next kind = stop
		if i+1 < len(items) {
			next = items[i+1].k
		}
		switch it.k {
		case open:
			if indent > 0 {
				dst = append(dst, '\n')
				dst = appendSpaces(dst, indent)
			}
			dst = append(dst, '(')
			indent++
		case closing:
			dst = append(dst, ')')
			indent--
			if next != open && next != stop {
				dst = append(dst, '\n')
				dst = appendSpaces(dst, indent)
			}
		case data:
			dst = appendAtom(dst, it.atom)
			if next != closing {
				dst = append(dst, ' ')
			}
		}
	}
	return append(dst, '\n')
}

type kind int

const (
	stop kind = iota
	open
	closing
	data
)

type item struct {
	k    kind
	atom []byte
}

func flatten(items []item, n *Node) []item {
	if !n.IsList {
		return append(items, item{k: data, atom: n.Atom})
	}
	items = append(items, item{k: open})
	for _, c := range n.List {
		items = flatten(items, c)
	}
	return append(items, item{k: closing})
}

func appendSpaces(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}

// List returns a list node of the given elements.
func List(elems ...*Node) *Node { return &Node{IsList: true, List: elems} }

// Atom returns an atom node.
func Atom(a []byte) *Node { return &Node{Atom: a} }
