package wire

import (
	"math/rand/v2"
	"unicode/utf8"
)

// randFiller fills a message with random valid values: every visitor method
// draws its field. Strings mix ASCII, control characters, two-, three- and
// four-octet UTF-8, with lengths around the 128-octet step of the length
// determinant and up to the 1024-octet limit.
type randFiller struct {
	r *rand.Rand
	// asn1c refuses to encode the negative ratings; interop tests set this.
	nonNegativeRatings bool
	// maxList bounds list sizes.
	maxList int
	// shortStrings keeps strings at 0..40 octets, as in real messages.
	shortStrings bool
}

func (f *randFiller) tid(_ string, p *TID) {
	for i := range p {
		p[i] = byte(f.r.Uint32())
	}
}

func (f *randFiller) version(_ string, p *Version) {
	*p = Version{1, 2}
	if f.r.IntN(2) == 0 {
		p.Major = uint8(f.r.IntN(256))
	}
	if f.r.IntN(2) == 0 {
		p.Minor = uint8(f.r.IntN(256))
	}
}

func (f *randFiller) hash(_ string, p *string) {
	n := minHash + f.r.IntN(maxHash-minHash+1)
	switch f.r.IntN(4) {
	case 0:
		n = 40
	case 1:
		n = []int{16, 128, 32, 64}[f.r.IntN(4)]
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[f.r.IntN(16)]
	}
	*p = string(b)
}

func (f *randFiller) boolean(_ string, p *bool) { *p = f.r.IntN(2) == 1 }

func (f *randFiller) rating(_ string, p *Rating) {
	if f.nonNegativeRatings {
		*p = ratings[3+f.r.IntN(len(ratings)-3)]
	} else {
		*p = ratings[f.r.IntN(len(ratings))]
	}
}

var runeClasses = [][2]rune{
	{0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, // printable ASCII, including & < >
	{0x00, 0x1F}, {0x7F, 0x7F}, // control characters
	{0x80, 0x7FF},       // two octets
	{0x800, 0xD7FF},     // three octets
	{0xE000, 0xFFFD},    // three octets above the surrogates
	{0x10000, 0x10FFFF}, // four octets
}

func (f *randFiller) pstring(_ string, p *string) {
	var n int
	switch f.r.IntN(6) {
	case 0:
		n = 0
	case 1, 2:
		n = f.r.IntN(24)
	case 3:
		n = 120 + f.r.IntN(16) // around the 1- to 2-octet determinant step
	case 4:
		n = f.r.IntN(maxPString + 1)
	case 5:
		n = maxPString - f.r.IntN(4)
	}
	if f.shortStrings {
		n = f.r.IntN(41)
	}
	b := make([]byte, 0, n)
	for len(b) < n {
		c := runeClasses[f.r.IntN(len(runeClasses))]
		r := c[0] + rune(f.r.IntN(int(c[1]-c[0]+1)))
		if len(b)+utf8.RuneLen(r) > n {
			r = rune('a' + f.r.IntN(26))
		}
		b = utf8.AppendRune(b, r)
	}
	*p = string(b)
}

func (f *randFiller) uint8(_ string, p *uint8)  { *p = uint8(f.r.Uint32()) }
func (f *randFiller) flags(_ string, p *uint16) { *p = uint16(f.r.Uint32()) }
func (f *randFiller) lang(_ string, p *string)  { *p = langs[f.r.IntN(len(langs))] }
func (f *randFiller) seq(_ string, w walker)    { w.walk(f) }
func (f *randFiller) list(_ string, l list) {
	n := f.r.IntN(f.maxList + 1)
	if f.r.IntN(4) == 0 {
		n = min(1, n)
	}
	l.grow(n)
	for i := 0; i < n; i++ {
		l.elem(i).walk(f)
	}
}

func (f *randFiller) managedGroup(_ string, p *ManagedGroup) {
	w := distAlts[1+f.r.IntN(3)].new()
	w.walk(f)
	*p = w.(ManagedGroup)
}

// randSync returns a random Sync message of alternative i of syncAlts.
func (f *randFiller) randSync(i int) SyncMessage {
	w := syncAlts[i].new()
	w.walk(f)
	return w.(SyncMessage)
}

// randDistribution returns a random message of alternative i of distAlts.
func (f *randFiller) randDistribution(i int) DistributionMessage {
	w := distAlts[i].new()
	w.walk(f)
	return w.(DistributionMessage)
}

// flagClearer clears the flags of every identity, giving the value a
// legacy-variant decoder returns.
type flagClearer struct{}

func (c *flagClearer) flags(_ string, p *uint16) { *p = 0 }
func (c *flagClearer) seq(_ string, w walker)    { w.walk(c) }
func (c *flagClearer) list(_ string, l list) {
	for i := 0; i < l.len(); i++ {
		l.elem(i).walk(c)
	}
}
func (c *flagClearer) managedGroup(_ string, p *ManagedGroup) {
	if *p != nil {
		(*p).walk(c)
	}
}

// noop leaves scalar fields alone.
func (c *flagClearer) tid(string, *TID)         {}
func (c *flagClearer) version(string, *Version) {}
func (c *flagClearer) hash(string, *string)     {}
func (c *flagClearer) boolean(string, *bool)    {}
func (c *flagClearer) rating(string, *Rating)   {}
func (c *flagClearer) pstring(string, *string)  {}
func (c *flagClearer) uint8(string, *uint8)     {}
func (c *flagClearer) lang(string, *string)     {}

func clearFlags(w walker) { w.walk(&flagClearer{}) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }
