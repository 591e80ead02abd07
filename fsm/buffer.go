package fsm

import (
	"fmt"
	"slices"

	"github.com/keysync/keysync/wire"
)

// Buffer is the KeySync I/O buffer of doc/protocol.md §5: the union of the
// fields of all KeySync messages. Which message carries which field
// follows from the schema (wire.EachField), by the fields' ASN.1 names.
type Buffer struct {
	Challenge, Response, Negotiation wire.TID
	IsGroup                          bool
	Key                              string
	OwnIdentities                    []wire.Identity
	Rating                           wire.Rating
}

// field returns the buffer field that holds a message field with ASN.1
// name name, or nil; the version is not a buffer field.
func (b *Buffer) field(name string) any {
	switch name {
	case "challenge":
		return &b.Challenge
	case "response":
		return &b.Response
	case "negotiation":
		return &b.Negotiation
	case "is-group":
		return &b.IsGroup
	case "key":
		return &b.Key
	case "ownIdentities":
		return &b.OwnIdentities
	case "rating":
		return &b.Rating
	}
	return nil
}

// copyField sets *dst to *src when both point to the same type; lists are
// copied.
func copyField(dst, src any) {
	switch s := src.(type) {
	case *wire.TID:
		set(dst, *s)
	case *bool:
		set(dst, *s)
	case *string:
		set(dst, *s)
	case *wire.Rating:
		set(dst, *s)
	case *[]wire.Identity:
		set(dst, slices.Clone(*s))
	}
}

func set[T any](dst any, v T) {
	if d, ok := dst.(*T); ok {
		*d = v
	}
}

// Load overwrites exactly the fields that m carries (update_Sync_state).
// The version is not stored; Accept checks it.
func (b *Buffer) Load(m wire.Message) {
	wire.EachField(m, func(name string, p any) {
		if f := b.field(name); f != nil {
			copyField(f, p)
		}
	})
}

// Build returns a new message of kind k with its fields copied from the
// buffer (update_Sync_message); version fields get v.
func (b *Buffer) Build(k wire.Kind, v wire.Version) (wire.Message, error) {
	m, ok := wire.NewMessage(k)
	if !ok {
		return nil, fmt.Errorf("no message of kind %d", k)
	}
	wire.EachField(m, func(name string, p any) {
		if name == "version" {
			set(p, v)
		} else if f := b.field(name); f != nil {
			copyField(p, f)
		}
	})
	return m, nil
}

// messageVersion returns the version a message carries, if it has one.
func messageVersion(m wire.Message) (v wire.Version, ok bool) {
	wire.EachField(m, func(name string, p any) {
		if pv, isVersion := p.(*wire.Version); isVersion && name == "version" {
			v, ok = *pv, true
		}
	})
	return v, ok
}

// messageNegotiation returns the negotiation TID a message carries, if any.
func messageNegotiation(m wire.Message) (t wire.TID, ok bool) {
	wire.EachField(m, func(name string, p any) {
		if pt, isTID := p.(*wire.TID); isTID && name == "negotiation" {
			t, ok = *pt, true
		}
	})
	return t, ok
}
