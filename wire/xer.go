package wire

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// XER is the BASIC-XER text form (X.693) of the two PDUs, laid out exactly
// as asn1c's converter prints it: four spaces of indentation per level,
// one element per line, OCTET STRING in upper-case hex separated by
// spaces, BOOLEAN and ENUMERATED as empty elements (<true/>, <reliable/>),
// DEFAULT members always printed, and control characters in strings as
// asn1c's escapes (<nul/>, <soh/>, …).

// MarshalSyncXER returns the XER form of m (current variant).
func MarshalSyncXER(m SyncMessage) ([]byte, error) { return Options{}.MarshalSyncXER(m) }

// MarshalDistributionXER returns the XER form of m (current variant).
func MarshalDistributionXER(m DistributionMessage) ([]byte, error) {
	return Options{}.MarshalDistributionXER(m)
}

// UnmarshalSyncXER parses the XER form of a Sync PDU and reports its
// variant. Identities must all carry <flags> (current variant) or all omit
// it (legacy variant).
func UnmarshalSyncXER(b []byte) (SyncMessage, Options, error) {
	return eitherVariant(b, Options.UnmarshalSyncXER)
}

// UnmarshalDistributionXER parses the XER form of a Distribution PDU, in
// either variant like UnmarshalSyncXER.
func UnmarshalDistributionXER(b []byte) (DistributionMessage, Options, error) {
	return eitherVariant(b, Options.UnmarshalDistributionXER)
}

// MarshalSyncXER returns the XER form of m; in the legacy variant
// identities have no <flags>.
func (o Options) MarshalSyncXER(m SyncMessage) ([]byte, error) {
	if m == nil {
		return nil, &FieldError{"Sync", errMissing}
	}
	w := &xerWriter{legacy: o.LegacyIdentity}
	w.top("Sync", syncAlts[m.syncAlt()], syncOuterNames, m)
	return w.b, w.err
}

// MarshalDistributionXER returns the XER form of m in o's variant.
func (o Options) MarshalDistributionXER(m DistributionMessage) ([]byte, error) {
	if m == nil {
		return nil, &FieldError{"Distribution", errMissing}
	}
	w := &xerWriter{legacy: o.LegacyIdentity}
	w.top("Distribution", distAlts[m.distAlt()], distOuterNames, m)
	return w.b, w.err
}

// UnmarshalSyncXER parses the XER form of a Sync PDU in o's variant only.
func (o Options) UnmarshalSyncXER(b []byte) (SyncMessage, error) {
	r := &xerReader{s: b, legacy: o.LegacyIdentity}
	w := r.top("Sync", syncAlts[:], syncOuterNames)
	if r.err != nil {
		return nil, r.err
	}
	return w.(SyncMessage), nil
}

// UnmarshalDistributionXER parses the XER form of a Distribution PDU in o's
// variant only.
func (o Options) UnmarshalDistributionXER(b []byte) (DistributionMessage, error) {
	r := &xerReader{s: b, legacy: o.LegacyIdentity}
	w := r.top("Distribution", distAlts[:], distOuterNames)
	if r.err != nil {
		return nil, r.err
	}
	return w.(DistributionMessage), nil
}

// xerWriter prints XER and checks every constraint, like perEncoder.
type xerWriter struct {
	b      []byte
	depth  int
	legacy bool
	err    error
}

func (w *xerWriter) fail(name string, err error) {
	if w.err == nil {
		w.err = &FieldError{name, err}
	}
}

func (w *xerWriter) indent() {
	for i := 0; i < w.depth; i++ {
		w.b = append(w.b, "    "...)
	}
}

func (w *xerWriter) open(name string) {
	w.indent()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, ">\n"...)
	w.depth++
}

func (w *xerWriter) close(name string) {
	w.depth--
	w.indent()
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ">\n"...)
}

// leafOpen starts a one-line element; leafClose ends it.
func (w *xerWriter) leafOpen(name string) {
	w.indent()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xerWriter) leafClose(name string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ">\n"...)
}

func (w *xerWriter) leaf(name, value string) {
	w.leafOpen(name)
	w.b = append(w.b, value...)
	w.leafClose(name)
}

func (w *xerWriter) top(pdu string, a alt, outerNames []string, m walker) {
	w.open(pdu)
	w.open(outerNames[a.outer])
	w.seq(a.name, m)
	w.close(outerNames[a.outer])
	w.close(pdu)
	if w.err != nil {
		w.b = nil
		w.err = within(w.err, outerNames[a.outer])
	}
}

func (w *xerWriter) tid(name string, p *TID) {
	if w.err != nil {
		return
	}
	w.leafOpen(name)
	for i, c := range p {
		if i > 0 {
			w.b = append(w.b, ' ')
		}
		w.b = append(w.b, hexDigits[c>>4], hexDigits[c&15])
	}
	w.leafClose(name)
}

func (w *xerWriter) version(name string, p *Version) {
	if w.err != nil {
		return
	}
	w.open(name)
	w.leaf("major", strconv.Itoa(int(p.Major)))
	w.leaf("minor", strconv.Itoa(int(p.Minor)))
	w.close(name)
}

func (w *xerWriter) hash(name string, p *string) {
	if w.err != nil {
		return
	}
	if err := checkHash(*p); err != nil {
		w.fail(name, err)
		return
	}
	w.leaf(name, *p)
}

func (w *xerWriter) boolean(name string, p *bool) {
	if w.err != nil {
		return
	}
	if *p {
		w.leaf(name, "<true/>")
	} else {
		w.leaf(name, "<false/>")
	}
}

func (w *xerWriter) rating(name string, p *Rating) {
	if w.err != nil {
		return
	}
	i := ratingIndex(*p)
	if i < 0 {
		w.fail(name, errRating)
		return
	}
	w.leaf(name, "<"+ratingNames[i]+"/>")
}

// controlNames are asn1c's XER escapes of the C0 control characters;
// tab, line feed and carriage return are printed as they are.
var controlNames = [32]string{
	"nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel", "bs", "", "", "vt", "ff", "", "so", "si",
	"dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb", "can", "em", "sub", "esc", "is4", "is3", "is2", "is1",
}

func (w *xerWriter) pstring(name string, p *string) {
	if w.err != nil {
		return
	}
	s := *p
	if err := checkPString(s); err != nil {
		w.fail(name, err)
		return
	}
	w.leafOpen(name)
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c < 32 && controlNames[c] != "":
			esc = "<" + controlNames[c] + "/>"
		default:
			continue
		}
		w.b = append(w.b, s[start:i]...)
		w.b = append(w.b, esc...)
		start = i + 1
	}
	w.b = append(w.b, s[start:]...)
	w.leafClose(name)
}

func (w *xerWriter) uint8(name string, p *uint8) {
	if w.err == nil {
		w.leaf(name, strconv.Itoa(int(*p)))
	}
}

func (w *xerWriter) flags(name string, p *uint16) {
	if w.err == nil && !w.legacy {
		w.leaf(name, strconv.Itoa(int(*p)))
	}
}

func (w *xerWriter) lang(name string, p *string) {
	if w.err != nil {
		return
	}
	if err := checkLang(*p); err != nil {
		w.fail(name, err)
		return
	}
	w.leaf(name, *p)
}

func (w *xerWriter) seq(name string, s walker) {
	if w.err != nil {
		return
	}
	w.open(name)
	s.walk(w)
	w.close(name)
	if w.err != nil {
		w.err = within(w.err, name)
	}
}

func (w *xerWriter) list(name string, l list) {
	if w.err != nil {
		return
	}
	w.open(name)
	for i := 0; i < l.len() && w.err == nil; i++ {
		w.seq(l.elemName(), l.elem(i))
		if w.err != nil {
			w.err = within(within(unwrapOne(w.err), index(i)), name)
		}
	}
	w.close(name)
}

// unwrapOne drops the first path element (the element type name that seq
// added), so list errors read "ownIdentities[1].lang".
func unwrapOne(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		for i := 0; i < len(fe.Field); i++ {
			if fe.Field[i] == '.' {
				fe.Field = fe.Field[i+1:]
				return fe
			}
		}
	}
	return err
}

func (w *xerWriter) managedGroup(name string, p *ManagedGroup) {
	if w.err != nil {
		return
	}
	if *p == nil {
		w.fail(name, errMissing)
		return
	}
	w.open(name)
	w.seq(distAlts[(*p).distAlt()].name, *p)
	w.close(name)
	if w.err != nil {
		w.err = within(w.err, name)
	}
}

// xerReader parses XER as asn1c prints it, with any whitespace between
// elements, empty-element tags for empty values (<username/>), the five
// XML entities and numeric character references in strings, and DEFAULT
// members of Version omitted.
type xerReader struct {
	s      []byte
	pos    int
	legacy bool
	err    error
}

var errSyntax = errors.New("malformed XER")

func (r *xerReader) fail(name string, err error) {
	if r.err == nil {
		r.err = &FieldError{name, err}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (r *xerReader) ws() {
	for r.pos < len(r.s) && isSpace(r.s[r.pos]) {
		r.pos++
	}
}

// peek returns the name of the start tag that follows (after whitespace),
// or "" if something else follows.
func (r *xerReader) peek() string {
	r.ws()
	i := r.pos
	if i >= len(r.s) || r.s[i] != '<' {
		return ""
	}
	i++
	j := i
	for j < len(r.s) && !isSpace(r.s[j]) && r.s[j] != '>' && r.s[j] != '/' {
		j++
	}
	if j == i {
		return ""
	}
	return string(r.s[i:j])
}

// open consumes the start tag <name> or the empty-element tag <name/>
// (empty is then true).
func (r *xerReader) open(name string) (empty bool) {
	if r.err != nil {
		return false
	}
	r.ws()
	s, p := r.s, r.pos
	if p+1+len(name) > len(s) || s[p] != '<' || string(s[p+1:p+1+len(name)]) != name {
		r.fail(name, errors.New("expected <"+name+">"))
		return false
	}
	p += 1 + len(name)
	for p < len(s) && isSpace(s[p]) {
		p++
	}
	switch {
	case p < len(s) && s[p] == '>':
		r.pos = p + 1
		return false
	case p+1 < len(s) && s[p] == '/' && s[p+1] == '>':
		r.pos = p + 2
		return true
	}
	r.fail(name, errors.New("expected <"+name+">"))
	return false
}

// close consumes </name>.
func (r *xerReader) close(name string) {
	if r.err != nil {
		return
	}
	r.ws()
	s, p := r.s, r.pos
	if p+2+len(name) > len(s) || s[p] != '<' || s[p+1] != '/' || string(s[p+2:p+2+len(name)]) != name {
		r.fail(name, errors.New("expected </"+name+">"))
		return
	}
	p += 2 + len(name)
	for p < len(s) && isSpace(s[p]) {
		p++
	}
	if p >= len(s) || s[p] != '>' {
		r.fail(name, errors.New("expected </"+name+">"))
		return
	}
	r.pos = p + 1
}

// content returns the raw text up to the next '<', trimmed of whitespace.
func (r *xerReader) content(name string) []byte {
	if r.open(name) {
		return nil
	}
	i := r.pos
	for r.pos < len(r.s) && r.s[r.pos] != '<' {
		r.pos++
	}
	v := r.s[i:r.pos]
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	r.close(name)
	return v
}

// emptyContent reads <name> <value/> </name> and returns value.
func (r *xerReader) emptyContent(name string) string {
	if r.open(name) {
		r.fail(name, errMissing)
		return ""
	}
	v := r.peek()
	if v == "" || !r.open(v) {
		r.fail(name, errSyntax)
		return ""
	}
	r.close(name)
	return v
}

func (r *xerReader) uint(name string, max uint64) uint64 {
	v := r.content(name)
	if r.err != nil {
		return 0
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil || n > max {
		r.fail(name, errors.New("not an integer in 0.."+strconv.FormatUint(max, 10)))
		return 0
	}
	return n
}

func (r *xerReader) top(pdu string, tab []alt, outerNames []string) walker {
	if r.open(pdu) {
		r.fail(pdu, errMissing)
		return nil
	}
	outer := -1
	on := r.peek()
	for i, n := range outerNames {
		if n == on {
			outer = i
		}
	}
	if r.err != nil {
		return nil
	}
	if outer < 0 {
		r.fail(pdu, errChoice)
		return nil
	}
	r.open(on)
	w := r.choice(tab, outer)
	if r.err != nil {
		r.err = within(r.err, on)
		return nil
	}
	r.close(on)
	r.close(pdu)
	r.ws()
	if r.err == nil && r.pos != len(r.s) {
		r.fail(pdu, errors.New("trailing data"))
	}
	if r.err != nil {
		return nil
	}
	return w
}

func (r *xerReader) choice(tab []alt, outer int) walker {
	name := r.peek()
	for i := range tab {
		if tab[i].outer == outer && tab[i].name == name {
			w := tab[i].new()
			r.seq(name, w)
			return w
		}
	}
	r.fail("choice", errChoice)
	return nil
}

func (r *xerReader) tid(name string, p *TID) {
	v := r.content(name)
	if r.err != nil {
		return
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isSpace(c) {
			continue
		}
		d := hexIndex[c]
		if c >= 'a' && c <= 'f' {
			d = c - 'a' + 10
		}
		if d == 0xFF || n >= 32 {
			r.fail(name, errors.New("not 16 octets in hex"))
			return
		}
		p[n/2] = p[n/2]<<4 | d
		n++
	}
	if n != 32 {
		r.fail(name, errors.New("not 16 octets in hex"))
	}
}

func (r *xerReader) version(name string, p *Version) {
	*p = Version{1, 2}
	if r.open(name) {
		return
	}
	if r.peek() == "major" {
		p.Major = uint8(r.uint("major", 255))
	}
	if r.peek() == "minor" {
		p.Minor = uint8(r.uint("minor", 255))
	}
	if r.err != nil {
		r.err = within(r.err, name)
		return
	}
	r.close(name)
}

func (r *xerReader) hash(name string, p *string) {
	v := r.content(name)
	if r.err != nil {
		return
	}
	s := string(v)
	if err := checkHash(s); err != nil {
		r.fail(name, err)
		return
	}
	*p = s
}

func (r *xerReader) boolean(name string, p *bool) {
	switch r.emptyContent(name) {
	case "true":
		*p = true
	case "false":
		*p = false
	default:
		r.fail(name, errors.New("expected <true/> or <false/>"))
	}
}

func (r *xerReader) rating(name string, p *Rating) {
	v := r.emptyContent(name)
	if r.err != nil {
		return
	}
	for i, n := range ratingNames {
		if n == v {
			*p = ratings[i]
			return
		}
	}
	r.fail(name, errRating)
}

var entities = map[string]rune{"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\''}

func (r *xerReader) pstring(name string, p *string) {
	if r.open(name) || r.err != nil {
		*p = ""
		return
	}
	var b []byte
	s := r.s
	for {
		i := r.pos
		for r.pos < len(s) && s[r.pos] != '<' && s[r.pos] != '&' {
			r.pos++
		}
		b = append(b, s[i:r.pos]...)
		if len(b) > maxPString {
			r.fail(name, errPStringLen)
			return
		}
		if r.pos >= len(s) {
			r.fail(name, errors.New("unterminated"))
			return
		}
		if s[r.pos] == '&' {
			end := r.pos + 1
			for end < len(s) && end-r.pos < 12 && s[end] != ';' {
				end++
			}
			if end >= len(s) || s[end] != ';' {
				r.fail(name, errors.New("bad character reference"))
				return
			}
			ref := string(s[r.pos+1 : end])
			c, ok := entities[ref]
			if !ok && len(ref) > 1 && ref[0] == '#' {
				var n uint64
				var err error
				if ref[1] == 'x' {
					n, err = strconv.ParseUint(ref[2:], 16, 32)
				} else {
					n, err = strconv.ParseUint(ref[1:], 10, 32)
				}
				c, ok = rune(n), err == nil && utf8.ValidRune(rune(n))
			}
			if !ok {
				r.fail(name, errors.New("bad character reference"))
				return
			}
			b = utf8.AppendRune(b, c)
			r.pos = end + 1
			continue
		}
		// '<': the end tag or a control character escape.
		if r.pos+1 < len(s) && s[r.pos+1] == '/' {
			break
		}
		ctl := r.peek()
		c := -1
		for k, n := range controlNames {
			if n != "" && n == ctl {
				c = k
			}
		}
		if c < 0 || !r.open(ctl) {
			r.fail(name, errSyntax)
			return
		}
		b = append(b, byte(c))
	}
	r.close(name)
	if r.err != nil {
		return
	}
	str := string(b)
	if err := checkPString(str); err != nil {
		r.fail(name, err)
		return
	}
	*p = str
}

func (r *xerReader) uint8(name string, p *uint8) { *p = uint8(r.uint(name, 255)) }

func (r *xerReader) flags(name string, p *uint16) {
	if r.legacy {
		if r.err == nil && r.peek() == name {
			r.fail(name, errors.New("flags in the legacy variant"))
		}
		return
	}
	*p = uint16(r.uint(name, 65535))
}

func (r *xerReader) lang(name string, p *string) {
	v := r.content(name)
	if r.err != nil {
		return
	}
	if err := checkLang(string(v)); err != nil {
		r.fail(name, err)
		return
	}
	*p = langs[int(v[0]-'a')*26+int(v[1]-'a')]
}

// fieldCounter counts the fields of a SEQUENCE.
type fieldCounter int

func (c *fieldCounter) tid(string, *TID)                   { *c++ }
func (c *fieldCounter) version(string, *Version)           { *c++ }
func (c *fieldCounter) hash(string, *string)               { *c++ }
func (c *fieldCounter) boolean(string, *bool)              { *c++ }
func (c *fieldCounter) rating(string, *Rating)             { *c++ }
func (c *fieldCounter) pstring(string, *string)            { *c++ }
func (c *fieldCounter) uint8(string, *uint8)               { *c++ }
func (c *fieldCounter) flags(string, *uint16)              { *c++ }
func (c *fieldCounter) lang(string, *string)               { *c++ }
func (c *fieldCounter) seq(string, walker)                 { *c++ }
func (c *fieldCounter) list(string, list)                  { *c++ }
func (c *fieldCounter) managedGroup(string, *ManagedGroup) { *c++ }

func (r *xerReader) seq(name string, w walker) {
	if r.err != nil {
		return
	}
	if r.open(name) {
		var n fieldCounter
		w.walk(&n)
		if n > 0 {
			r.fail(name, errMissing)
		}
		return
	}
	w.walk(r)
	if r.err != nil {
		r.err = within(r.err, name)
		return
	}
	r.close(name)
}

func (r *xerReader) list(name string, l list) {
	if r.err != nil || r.open(name) {
		return
	}
	for i := 0; r.err == nil && r.peek() == l.elemName(); i++ {
		r.seq(l.elemName(), l.add())
		if r.err != nil {
			r.err = within(within(unwrapOne(r.err), index(i)), name)
		}
	}
	r.close(name)
}

func (r *xerReader) managedGroup(name string, p *ManagedGroup) {
	if r.err != nil {
		return
	}
	if r.open(name) {
		r.fail(name, errMissing)
		return
	}
	w := r.choice(distAlts[:], 1)
	if r.err != nil {
		r.err = within(r.err, name)
		return
	}
	r.close(name)
	if r.err == nil {
		*p = w.(ManagedGroup)
	}
}
