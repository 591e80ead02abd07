// Package bplisttest builds binary property lists object by object, for
// tests that need hostile ones (deep, shared, with bad counts) that no
// encoder writes.
package bplisttest

import "encoding/binary"

// Build returns a binary property list of the given encoded objects, the
// object numbered top at its root; offsets and references are 4 bytes wide.
func Build(objects [][]byte, top int) []byte {
	b := []byte("bplist00")
	var offs []uint32
	for _, o := range objects {
		offs = append(offs, uint32(len(b)))
		b = append(b, o...)
	}
	table := len(b)
	for _, o := range offs {
		b = binary.BigEndian.AppendUint32(b, o)
	}
	b = append(b, 0, 0, 0, 0, 0, 0, 4, 4)
	b = binary.BigEndian.AppendUint64(b, uint64(len(objects)))
	b = binary.BigEndian.AppendUint64(b, uint64(top))
	return binary.BigEndian.AppendUint64(b, uint64(table))
}

// Array encodes an array object of up to 14 references to other objects.
func Array(refs ...int) []byte {
	b := []byte{0xA0 | byte(len(refs))}
	for _, r := range refs {
		b = binary.BigEndian.AppendUint32(b, uint32(r))
	}
	return b
}
