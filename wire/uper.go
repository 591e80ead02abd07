package wire

import (
	"sync"
	"unicode/utf8"

	"github.com/keysync/keysync/internal/per"
)

// Options selects the wire variant. The zero value is the current variant
// (Identity with flags).
type Options struct {
	// LegacyIdentity selects the older Identity without flags, spoken by
	// pEp 2.1/3.x and planck ≤ 3.3.20. Flags are not encoded and decode as 0.
	LegacyIdentity bool
}

// MarshalSync returns the UPER encoding of m as a Sync PDU, current variant.
func MarshalSync(m SyncMessage) ([]byte, error) { return Options{}.MarshalSync(m) }

// MarshalDistribution returns the UPER encoding of m as a Distribution PDU,
// current variant.
func MarshalDistribution(m DistributionMessage) ([]byte, error) {
	return Options{}.MarshalDistribution(m)
}

// UnmarshalSync decodes a Sync PDU and reports the variant it is in. It
// tries the current Identity variant, then the legacy one; each must
// consume the whole input (only zero padding bits may remain).
func UnmarshalSync(b []byte) (SyncMessage, Options, error) {
	return eitherVariant(b, Options.UnmarshalSync)
}

// UnmarshalDistribution decodes a Distribution PDU, trying both Identity
// variants like UnmarshalSync.
func UnmarshalDistribution(b []byte) (DistributionMessage, Options, error) {
	return eitherVariant(b, Options.UnmarshalDistribution)
}

// eitherVariant decodes b with the current Identity variant and, if that
// fails, with the legacy one; each must consume the whole input. It
// returns the variant that decoded b, or the current variant's error when
// both fail.
func eitherVariant[T any](b []byte, decode func(Options, []byte) (T, error)) (T, Options, error) {
	current, legacy := Options{}, Options{LegacyIdentity: true}
	m, err := decode(current, b)
	if err != nil {
		if m2, err2 := decode(legacy, b); err2 == nil {
			return m2, legacy, nil
		}
	}
	return m, current, err
}

// MarshalSync returns the UPER encoding of m as a Sync PDU in o's variant.
func (o Options) MarshalSync(m SyncMessage) ([]byte, error) {
	if m == nil {
		return nil, &FieldError{"Sync", errMissing}
	}
	e := getEncoder(o)
	defer putEncoder(e)
	e.top(&syncAlts[m.syncAlt()], syncOuterNames, m)
	return e.result()
}

// MarshalDistribution returns the UPER encoding of m as a Distribution PDU
// in o's variant.
func (o Options) MarshalDistribution(m DistributionMessage) ([]byte, error) {
	if m == nil {
		return nil, &FieldError{"Distribution", errMissing}
	}
	e := getEncoder(o)
	defer putEncoder(e)
	e.top(&distAlts[m.distAlt()], distOuterNames, m)
	return e.result()
}

// UnmarshalSync decodes a Sync PDU in o's variant only.
func (o Options) UnmarshalSync(b []byte) (SyncMessage, error) {
	d := getDecoder(o, b)
	defer putDecoder(d)
	w := d.top("Sync", syncAlts[:], syncOuterNames)
	if d.err != nil {
		return nil, d.err
	}
	d.setStrings()
	return w.(SyncMessage), nil
}

// UnmarshalDistribution decodes a Distribution PDU in o's variant only.
func (o Options) UnmarshalDistribution(b []byte) (DistributionMessage, error) {
	d := getDecoder(o, b)
	defer putDecoder(d)
	w := d.top("Distribution", distAlts[:], distOuterNames)
	if d.err != nil {
		return nil, d.err
	}
	d.setStrings()
	return w.(DistributionMessage), nil
}

var (
	encoders = sync.Pool{New: func() any { return new(perEncoder) }}
	decoders = sync.Pool{New: func() any { return new(perDecoder) }}
)

func getEncoder(o Options) *perEncoder {
	e := encoders.Get().(*perEncoder)
	e.w.Reset()
	e.legacy, e.err = o.LegacyIdentity, nil
	return e
}

func putEncoder(e *perEncoder) {
	if cap(e.w.Bytes()) <= 1<<16 {
		encoders.Put(e)
	}
}

// result returns a copy of the encoding, or the error.
func (e *perEncoder) result() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	b := e.w.Bytes()
	return append(make([]byte, 0, len(b)), b...), nil
}

func getDecoder(o Options, b []byte) *perDecoder {
	d := decoders.Get().(*perDecoder)
	d.legacy, d.err = o.LegacyIdentity, nil
	d.r.Reset(b)
	return d
}

// putDecoder returns d to the pool, keeping its buffers unless they grew
// large; it holds no reference to the input or the message.
func putDecoder(d *perDecoder) {
	d.r.Reset(nil)
	clear(d.strs)
	d.text, d.strs = d.text[:0], d.strs[:0]
	if cap(d.text) <= 1<<16 {
		decoders.Put(d)
	}
}

// perEncoder writes UPER. After the first error every method is a no-op;
// composite fields prefix the error's path with their name on the way out.
type perEncoder struct {
	w      per.Writer
	legacy bool
	err    error
}

func (e *perEncoder) fail(name string, err error) {
	if e.err == nil {
		e.err = &FieldError{name, err}
	}
}

// top writes the top-level CHOICE and the family CHOICE around m.
func (e *perEncoder) top(a *alt, outerNames []string, m walker) {
	if a.outer == 0 {
		e.w.WriteBits(0, 1) // extension bit; the root has one alternative
		e.choice(a, m)
	} else {
		// Extension addition: bit 1, normally small number, open type.
		e.w.WriteBits(1, 1)
		e.w.WriteBits(uint64(a.outer-1), 7)
		inner := getEncoder(Options{LegacyIdentity: e.legacy})
		defer putEncoder(inner)
		inner.choice(a, m)
		if inner.err != nil {
			e.err = within(inner.err, outerNames[a.outer])
			return
		}
		ot := inner.w.Bytes()
		if err := e.w.WriteLength(len(ot)); err != nil {
			e.fail(outerNames[a.outer], err)
			return
		}
		e.w.WriteOctets(ot)
		return
	}
	if e.err != nil {
		e.err = within(e.err, outerNames[a.outer])
	}
}

// choice writes an extensible family CHOICE holding m.
func (e *perEncoder) choice(a *alt, m walker) {
	e.w.WriteBits(uint64(a.index), 1+a.bits) // extension bit 0, index
	e.seq(a.name, m)
}

func (e *perEncoder) tid(name string, p *TID) {
	if e.err == nil {
		e.w.WriteOctets(p[:])
	}
}

func (e *perEncoder) version(name string, p *Version) {
	if e.err != nil {
		return
	}
	hasMajor, hasMinor := p.Major != 1, p.Minor != 2
	var bits uint64
	if hasMajor {
		bits |= 2
	}
	if hasMinor {
		bits |= 1
	}
	e.w.WriteBits(bits, 3)
	if hasMajor {
		e.w.WriteBits(uint64(p.Major), 8)
	}
	if hasMinor {
		e.w.WriteBits(uint64(p.Minor), 8)
	}
}

func (e *perEncoder) hash(name string, p *string) {
	if e.err != nil {
		return
	}
	s := *p
	if err := checkHash(s); err != nil {
		e.fail(name, err)
		return
	}
	e.w.WriteBits(uint64(len(s)-minHash), 7)
	i := 0
	for ; i+12 <= len(s); i += 12 {
		var v uint64
		for _, c := range []byte(s[i : i+12]) {
			v = v<<4 | uint64(hexIndex[c])
		}
		e.w.WriteBits(v, 48)
	}
	for ; i < len(s); i++ {
		e.w.WriteBits(uint64(hexIndex[s[i]]), 4)
	}
}

func (e *perEncoder) boolean(name string, p *bool) {
	if e.err == nil {
		e.w.WriteBool(*p)
	}
}

func (e *perEncoder) rating(name string, p *Rating) {
	if e.err != nil {
		return
	}
	i := ratingIndex(*p)
	if i < 0 {
		e.fail(name, errRating)
		return
	}
	e.w.WriteBits(uint64(i), 4)
}

func (e *perEncoder) pstring(name string, p *string) {
	if e.err != nil {
		return
	}
	if err := checkPString(*p); err != nil {
		e.fail(name, err)
		return
	}
	_ = e.w.WriteLength(len(*p)) // ≤ 1024
	e.w.WriteString(*p)
}

func (e *perEncoder) uint8(name string, p *uint8) {
	if e.err == nil {
		e.w.WriteBits(uint64(*p), 8)
	}
}

func (e *perEncoder) flags(name string, p *uint16) {
	if e.err == nil && !e.legacy {
		e.w.WriteBits(uint64(*p), 16)
	}
}

func (e *perEncoder) lang(name string, p *string) {
	if e.err != nil {
		return
	}
	s := *p
	if err := checkLang(s); err != nil {
		e.fail(name, err)
		return
	}
	e.w.WriteBits(uint64(s[0]-'a')<<5|uint64(s[1]-'a'), 10)
}

func (e *perEncoder) seq(name string, w walker) {
	if e.err != nil {
		return
	}
	e.w.WriteBits(0, 1) // extension bit
	w.walk(e)
	if e.err != nil {
		e.err = within(e.err, name)
	}
}

func (e *perEncoder) list(name string, l list) {
	if e.err != nil {
		return
	}
	n := l.len()
	if err := e.w.WriteLength(n); err != nil {
		e.fail(name, err)
		return
	}
	for i := 0; i < n && e.err == nil; i++ {
		e.w.WriteBits(0, 1)
		l.elem(i).walk(e)
		if e.err != nil {
			e.err = within(within(e.err, index(i)), name)
		}
	}
}

func (e *perEncoder) managedGroup(name string, p *ManagedGroup) {
	if e.err != nil {
		return
	}
	if *p == nil {
		e.fail(name, errMissing)
		return
	}
	e.choice(&distAlts[(*p).distAlt()], *p)
	if e.err != nil {
		e.err = within(e.err, name)
	}
}

// perDecoder reads UPER, mirroring perEncoder.
type perDecoder struct {
	r      per.Reader
	legacy bool
	err    error
	// text holds the octets of every string decoded so far; strs says
	// where each string's field is. setStrings cuts all of them from one
	// copy of text, so a message's strings cost one allocation. The
	// decoder allocates every struct and list before filling it, so the
	// field pointers stay valid until then.
	text []byte
	strs []pendingString
}

// pendingString is a decoded string not yet stored in its field.
type pendingString struct {
	p      *string
	off, n int
}

// str reads a string of n octets with fill into the field p and returns
// its octets, which stay valid until the next str.
func (d *perDecoder) str(p *string, n int, fill func([]byte)) []byte {
	off := len(d.text)
	d.text = append(d.text, make([]byte, n)...)
	b := d.text[off : off+n]
	fill(b)
	d.strs = append(d.strs, pendingString{p, off, n})
	return b
}

// setStrings stores the decoded strings in their fields.
func (d *perDecoder) setStrings() {
	all := string(d.text)
	for _, s := range d.strs {
		*s.p = all[s.off : s.off+s.n]
	}
}

func (d *perDecoder) fail(name string, err error) {
	if d.err == nil {
		d.err = &FieldError{name, err}
	}
}

func (d *perDecoder) bits(name string, n int) uint64 {
	v, err := d.r.ReadBits(n)
	if err != nil {
		d.fail(name, err)
	}
	return v
}

// top reads the top-level CHOICE; the whole input must be consumed.
func (d *perDecoder) top(pdu string, tab []alt, outerNames []string) walker {
	ext := d.bits(pdu, 1)
	if d.err != nil {
		return nil
	}
	var w walker
	if ext == 0 {
		w = d.choice(tab, 0)
		if d.err != nil {
			d.err = within(d.err, outerNames[0])
			return nil
		}
	} else {
		v := d.bits(pdu, 7)
		if d.err != nil {
			return nil
		}
		outer := int(v) + 1
		if v >= 64 || outer >= len(outerNames) {
			d.fail(pdu, errChoice)
			return nil
		}
		name := outerNames[outer]
		n, err := d.r.ReadLength()
		if err != nil {
			d.fail(name, err)
			return nil
		}
		if n > d.r.Remaining()/8 {
			d.fail(name, per.ErrShort)
			return nil
		}
		// Decode the open type from a reader over its octets (the
		// open type starts on an octet boundary: 1 + 7 + 8k bits).
		outerR := d.r
		d.r.Reset(outerR.Octets(n))
		w = d.choice(tab, outer)
		if d.err != nil {
			d.err = within(d.err, name)
		} else if err := d.r.Finish(); err != nil {
			d.fail(name, err)
		}
		d.r = outerR
		if d.err != nil {
			return nil
		}
	}
	if err := d.r.Finish(); err != nil {
		d.fail(pdu, err)
		return nil
	}
	return w
}

// choice reads a family CHOICE of the top-level alternative outer.
func (d *perDecoder) choice(tab []alt, outer int) walker {
	bits := tab[0].bits // the root alternative is first
	if outer > 0 {
		for i := range tab {
			if tab[i].outer == outer {
				bits = tab[i].bits
				break
			}
		}
	}
	v := d.bits("choice", 1+bits)
	if d.err != nil {
		return nil
	}
	if v>>uint(bits) != 0 {
		d.fail("choice", errExtension)
		return nil
	}
	i := findAlt(tab, outer, int(v))
	if i < 0 {
		d.fail("choice", errChoice)
		return nil
	}
	w := tab[i].new()
	d.seq(tab[i].name, w)
	return w
}

func (d *perDecoder) tid(name string, p *TID) {
	if d.err == nil {
		if err := d.r.ReadInto(p[:]); err != nil {
			d.fail(name, err)
		}
	}
}

func (d *perDecoder) version(name string, p *Version) {
	if d.err != nil {
		return
	}
	v := d.bits(name, 3)
	*p = Version{1, 2}
	if v&2 != 0 {
		p.Major = uint8(d.bits(name, 8))
	}
	if v&1 != 0 {
		p.Minor = uint8(d.bits(name, 8))
	}
	if v&4 != 0 && d.err == nil {
		d.skipExtensions()
		if d.err != nil {
			d.err = within(d.err, name)
		}
	}
}

func (d *perDecoder) hash(name string, p *string) {
	if d.err != nil {
		return
	}
	n := int(d.bits(name, 7)) + minHash
	if d.err != nil {
		return
	}
	if n > maxHash {
		d.fail(name, errHashLen)
		return
	}
	if 4*n > d.r.Remaining() {
		d.fail(name, per.ErrShort)
		return
	}
	d.str(p, n, d.readHash)
}

func (d *perDecoder) readHash(b []byte) {
	i := 0
	for ; i+12 <= len(b); i += 12 {
		v, _ := d.r.ReadBits(48)
		for k := 11; k >= 0; k-- {
			b[i+k] = hexDigits[v&15]
			v >>= 4
		}
	}
	for ; i < len(b); i++ {
		v, _ := d.r.ReadBits(4)
		b[i] = hexDigits[v]
	}
}

func (d *perDecoder) readOctets(b []byte) { _ = d.r.ReadInto(b) }

func (d *perDecoder) boolean(name string, p *bool) {
	if d.err == nil {
		*p = d.bits(name, 1) == 1
	}
}

func (d *perDecoder) rating(name string, p *Rating) {
	if d.err != nil {
		return
	}
	v := d.bits(name, 4)
	if d.err != nil {
		return
	}
	if v >= uint64(len(ratings)) {
		d.fail(name, errRating)
		return
	}
	*p = ratings[v]
}

func (d *perDecoder) pstring(name string, p *string) {
	if d.err != nil {
		return
	}
	n, err := d.r.ReadLength()
	if err != nil {
		d.fail(name, err)
		return
	}
	if n > maxPString {
		d.fail(name, errPStringLen)
		return
	}
	if n == 0 {
		*p = ""
		return
	}
	if n > d.r.Remaining()/8 {
		d.fail(name, per.ErrShort)
		return
	}
	if !utf8.Valid(d.str(p, n, d.readOctets)) {
		d.fail(name, errUTF8)
	}
}

func (d *perDecoder) uint8(name string, p *uint8) {
	if d.err == nil {
		*p = uint8(d.bits(name, 8))
	}
}

func (d *perDecoder) flags(name string, p *uint16) {
	if d.err == nil && !d.legacy {
		*p = uint16(d.bits(name, 16))
	}
}

func (d *perDecoder) lang(name string, p *string) {
	if d.err != nil {
		return
	}
	v := d.bits(name, 10)
	if d.err != nil {
		return
	}
	a, b := v>>5, v&31
	if a >= 26 || b >= 26 {
		d.fail(name, errLang)
		return
	}
	*p = langs[a*26+b]
}

// langs holds every two-letter code, so decoding lang does not allocate.
var langs = func() (t [26 * 26]string) {
	for i := range t {
		t[i] = string([]byte{'a' + byte(i/26), 'a' + byte(i%26)})
	}
	return
}()

func (d *perDecoder) seq(name string, w walker) {
	if d.err != nil {
		return
	}
	ext := d.bits(name, 1) != 0
	w.walk(d)
	if ext && d.err == nil {
		d.skipExtensions()
	}
	if d.err != nil {
		d.err = within(d.err, name)
	}
}

// skipExtensions skips the extension additions of a SEQUENCE sent by a
// newer peer (X.691 19.7–19.9): a normally small length, a presence bitmap
// and one open type per present addition, as asn1c does.
func (d *perDecoder) skipExtensions() {
	const name = "extension"
	v := d.bits(name, 7)
	if d.err != nil {
		return
	}
	if v >= 64 {
		d.fail(name, errExtension)
		return
	}
	present := d.bits(name, int(v)+1)
	for i := int(v); i >= 0 && d.err == nil; i-- {
		if present>>uint(i)&1 == 0 {
			continue
		}
		n, err := d.r.ReadLength()
		if err == nil && n > d.r.Remaining()/8 {
			err = per.ErrShort
		}
		if err != nil {
			d.fail(name, err)
			return
		}
		d.r.Skip(8 * n)
	}
}

func (d *perDecoder) list(name string, l list) {
	if d.err != nil {
		return
	}
	n, err := d.r.ReadLength()
	if err != nil {
		d.fail(name, err)
		return
	}
	// Refuse counts the remaining input cannot hold before allocating.
	if n*l.minBits() > d.r.Remaining() {
		d.fail(name, per.ErrShort)
		return
	}
	l.grow(n)
	for i := 0; i < n; i++ {
		ext := d.bits(name, 1) != 0
		if d.err != nil {
			return
		}
		l.elem(i).walk(d)
		if ext && d.err == nil {
			d.skipExtensions()
		}
		if d.err != nil {
			d.err = within(within(d.err, index(i)), name)
			return
		}
	}
}

func (d *perDecoder) managedGroup(name string, p *ManagedGroup) {
	if d.err != nil {
		return
	}
	w := d.choice(distAlts[:], 1)
	if d.err != nil {
		d.err = within(d.err, name)
		return
	}
	*p = w.(ManagedGroup)
}
