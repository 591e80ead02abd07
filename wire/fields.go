package wire

// NewMessage returns a zero KeySync message of kind k, or false if k is
// not a KeySync kind.
func NewMessage(k Kind) (Message, bool) {
	if k < KindBeacon || int(k)-2 >= len(syncAlts) || syncAlts[k-2].outer != 0 {
		return nil, false
	}
	return syncAlts[k-2].new().(Message), true
}

// EachField calls fn for every field of m in schema order, with its ASN.1
// identifier (such as "negotiation" or "ownIdentities") and a pointer to
// its value: *TID, *Version, *bool, *Rating, *string (a Hash) or
// *[]Identity.
func EachField(m Message, fn func(name string, p any)) {
	m.walk(fieldVisitor(fn))
}

// fieldVisitor hands each top-level field of a message to a function.
type fieldVisitor func(name string, p any)

func (f fieldVisitor) tid(name string, p *TID)                   { f(name, p) }
func (f fieldVisitor) version(name string, p *Version)           { f(name, p) }
func (f fieldVisitor) hash(name string, p *string)               { f(name, p) }
func (f fieldVisitor) boolean(name string, p *bool)              { f(name, p) }
func (f fieldVisitor) rating(name string, p *Rating)             { f(name, p) }
func (f fieldVisitor) pstring(name string, p *string)            { f(name, p) }
func (f fieldVisitor) uint8(name string, p *uint8)               { f(name, p) }
func (f fieldVisitor) flags(name string, p *uint16)              { f(name, p) }
func (f fieldVisitor) lang(name string, p *string)               { f(name, p) }
func (f fieldVisitor) seq(name string, w walker)                 { f(name, w) }
func (f fieldVisitor) list(name string, l list)                  { f(name, l.ptr()) }
func (f fieldVisitor) managedGroup(name string, p *ManagedGroup) { f(name, p) }
