package per

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func reader(b []byte) *Reader { return &Reader{buf: b} }

func TestWriterBits(t *testing.T) {
	var w Writer
	w.WriteBits(0, 1)    // 0
	w.WriteBits(1, 1)    // 1
	w.WriteBits(5, 3)    // 101
	w.WriteBool(true)    // 1
	w.WriteBits(0x3F, 4) // 1111 (only the low 4 bits)
	w.WriteOctets([]byte{0xA5})
	// 0110 1111 | 1110 1001 | 01 + padding
	if got, want := w.Bytes(), []byte{0x6F, 0xE9, 0x40}; !bytes.Equal(got, want) {
		t.Fatalf("Bytes = %x, want %x", got, want)
	}
}

func TestLength(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte
	}{{0, []byte{0}}, {127, []byte{0x7F}}, {128, []byte{0x80, 0x80}}, {1024, []byte{0x84, 0x00}}, {16383, []byte{0xBF, 0xFF}}} {
		var w Writer
		if err := w.WriteLength(c.n); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Bytes(), c.want) {
			t.Errorf("length %d: %x, want %x", c.n, w.Bytes(), c.want)
		}
		n, err := reader(c.want).ReadLength()
		if err != nil || n != c.n {
			t.Errorf("ReadLength(%x) = %d, %v", c.want, n, err)
		}
	}
	var w Writer
	if err := w.WriteLength(16384); err == nil {
		t.Error("16384 accepted")
	}
	if _, err := reader([]byte{0xC1}).ReadLength(); err == nil {
		t.Error("fragmented length accepted")
	}
	if _, err := reader([]byte{0x81}).ReadLength(); err == nil {
		t.Error("truncated 2-octet length accepted")
	}
}

// TestRandom writes random fields and reads them back, at every alignment.
func TestRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 2000; iter++ {
		type field struct {
			v    uint64
			n    int
			octs []byte
		}
		var fields []field
		var w Writer
		bits := 0
		for k := r.IntN(20); k > 0; k-- {
			if r.IntN(4) == 0 {
				p := make([]byte, r.IntN(20))
				for i := range p {
					p[i] = byte(r.Uint32())
				}
				w.WriteOctets(p)
				bits += 8 * len(p)
				fields = append(fields, field{octs: p})
				continue
			}
			n := r.IntN(65)
			v := r.Uint64()
			if n < 64 {
				v &= 1<<uint(n) - 1
			}
			w.WriteBits(v, n)
			bits += n
			fields = append(fields, field{v: v, n: n})
		}
		rd := reader(w.Bytes())
		for i, f := range fields {
			if f.octs != nil {
				got := make([]byte, len(f.octs))
				err := rd.ReadInto(got)
				if err != nil || !bytes.Equal(got, f.octs) {
					t.Fatalf("iter %d field %d: octets %x, %v; want %x", iter, i, got, err, f.octs)
				}
				continue
			}
			got, err := rd.ReadBits(f.n)
			if err != nil || got != f.v {
				t.Fatalf("iter %d field %d: %d bits = %x, %v; want %x", iter, i, f.n, got, err, f.v)
			}
		}
		if rd.pos != bits {
			t.Fatalf("read %d bits, wrote %d", rd.pos, bits)
		}
		if err := rd.Finish(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReaderBounds(t *testing.T) {
	r := reader([]byte{0xFF, 0x01})
	if _, err := r.ReadBits(17); err != ErrShort {
		t.Errorf("ReadBits past the end: %v", err)
	}
	if err := r.ReadInto(make([]byte, 3)); err != ErrShort {
		t.Errorf("ReadInto past the end: %v", err)
	}
	if err := r.Finish(); err == nil {
		t.Error("Finish with 2 unread octets")
	}
	r.ReadBits(15)
	if err := r.Finish(); err == nil {
		t.Error("Finish with a non-zero padding bit")
	}
	r = reader([]byte{0xFE})
	r.ReadBits(7)
	if err := r.Finish(); err != nil {
		t.Errorf("Finish with zero padding: %v", err)
	}
	if _, err := r.ReadBits(1); err != nil {
		t.Error(err)
	}
	if _, err := r.ReadBits(1); err != ErrShort {
		t.Errorf("ReadBits past the end: %v", err)
	}
}
