// Package per reads and writes the bit fields of ASN.1 unaligned PER
// (X.691, UPER): bits, constrained integers, unconstrained length
// determinants and octet runs, all unaligned.
package per

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// MaxLength is the largest length determinant without fragmentation
// (X.691 11.9.3.8); longer values are refused.
const MaxLength = 16383

// ErrShort reports input that ends before a field does.
var ErrShort = errors.New("input too short")

// Writer appends bits to a byte slice, most significant bit first.
// The zero value is ready to use.
type Writer struct {
	buf []byte
	acc uint64 // pending bits, right-aligned
	n   uint   // number of pending bits, below 8 between calls
}

// Reset empties w, keeping its buffer.
func (w *Writer) Reset() { w.buf, w.acc, w.n = w.buf[:0], 0, 0 }

// Bytes pads the bits written with zero bits to whole octets and returns
// them. The result aliases w's buffer; further writes start on the next
// octet.
func (w *Writer) Bytes() []byte {
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc<<(8-w.n)))
		w.acc, w.n = 0, 0
	}
	return w.buf
}

// WriteBool writes one bit.
func (w *Writer) WriteBool(b bool) {
	var v uint64
	if b {
		v = 1
	}
	w.WriteBits(v, 1)
}

// WriteBits writes the n (0..64) low bits of v.
func (w *Writer) WriteBits(v uint64, n int) {
	if n > 56 {
		w.WriteBits(v>>32, n-32)
		v, n = v&0xFFFFFFFF, 32
	}
	w.acc = w.acc<<uint(n) | v&(1<<uint(n)-1)
	w.n += uint(n)
	for w.n >= 8 {
		w.n -= 8
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
}

// WriteOctets writes p, unaligned.
func (w *Writer) WriteOctets(p []byte) { writeOctets(w, p) }

// WriteString writes the octets of s, unaligned.
func (w *Writer) WriteString(s string) { writeOctets(w, s) }

func writeOctets[T string | []byte](w *Writer, p T) {
	if w.n == 0 {
		w.buf = append(w.buf, p...)
		return
	}
	w.buf = slices.Grow(w.buf, len(p))
	for i := 0; i < len(p); i++ {
		w.acc = w.acc<<8 | uint64(p[i])
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
}

// WriteLength writes an unconstrained length determinant (X.691 11.9.4.2)
// for n up to MaxLength.
func (w *Writer) WriteLength(n int) error {
	switch {
	case n < 0 || n > MaxLength:
		return fmt.Errorf("length %d out of range 0..%d", n, MaxLength)
	case n < 128:
		w.WriteBits(uint64(n), 8)
	default:
		w.WriteBits(0x8000|uint64(n), 16)
	}
	return nil
}

// Reader reads bits from a byte slice, most significant bit first.
type Reader struct {
	buf []byte
	pos int // bit position
}

// Reset makes r read b from its start.
func (r *Reader) Reset(b []byte) { r.buf, r.pos = b, 0 }

// Remaining returns the number of unread bits.
func (r *Reader) Remaining() int { return 8*len(r.buf) - r.pos }

// ReadBits reads n (0..64) bits.
func (r *Reader) ReadBits(n int) (uint64, error) {
	if n > r.Remaining() {
		return 0, ErrShort
	}
	if i := r.pos >> 3; n <= 56 && i+8 <= len(r.buf) {
		v := binary.BigEndian.Uint64(r.buf[i:]) << uint(r.pos&7) >> uint(64-n)
		r.pos += n
		return v, nil
	}
	var v uint64
	for n > 0 {
		c := r.buf[r.pos>>3]
		avail := 8 - r.pos&7
		take := min(avail, n)
		v = v<<uint(take) | uint64(c>>uint(avail-take))&(1<<uint(take)-1)
		n -= take
		r.pos += take
	}
	return v, nil
}

// ReadInto fills p with the next len(p) octets.
func (r *Reader) ReadInto(p []byte) error {
	if len(p) > r.Remaining()/8 {
		return ErrShort
	}
	r.readInto(p)
	return nil
}

func (r *Reader) readInto(p []byte) {
	i, sh := r.pos>>3, uint(r.pos&7)
	if sh == 0 {
		copy(p, r.buf[i:])
	} else {
		for k := range p {
			p[k] = r.buf[i+k]<<sh | r.buf[i+k+1]>>(8-sh)
		}
	}
	r.pos += 8 * len(p)
}

// ReadLength reads an unconstrained length determinant; fragmented
// lengths (16384 and above) are refused.
func (r *Reader) ReadLength() (int, error) {
	b, err := r.ReadBits(8)
	if err != nil {
		return 0, err
	}
	switch {
	case b < 0x80:
		return int(b), nil
	case b < 0xC0:
		lo, err := r.ReadBits(8)
		if err != nil {
			return 0, err
		}
		return int(b&0x3F)<<8 | int(lo), nil
	default:
		return 0, errors.New("fragmented length not supported")
	}
}

// Finish reports whether the input is fully consumed: fewer than 8 bits
// remain and all of them are zero padding.
func (r *Reader) Finish() error {
	rem := r.Remaining()
	if rem >= 8 {
		return fmt.Errorf("%d trailing octets", rem/8)
	}
	if rem > 0 && r.buf[len(r.buf)-1]&(1<<uint(rem)-1) != 0 {
		return errors.New("non-zero padding bits")
	}
	return nil
}

// Octets returns the next n octets without copying, for an octet-aligned
// reader; the caller has checked that n octets remain.
func (r *Reader) Octets(n int) []byte {
	i := r.pos >> 3
	r.pos += 8 * n
	return r.buf[i : i+n : i+n]
}

// Skip advances over n bits; the caller has checked that they remain.
func (r *Reader) Skip(n int) { r.pos += n }
