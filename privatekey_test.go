package keysync

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestValidateRejectsHugeP checks that a key whose p is far larger than any
// OTR key is refused before g^x mod p is computed: with a 1M-bit p that
// computation alone takes tens of seconds.
func TestValidateRejectsHugeP(t *testing.T) {
	p := new(big.Int).Lsh(big.NewInt(1), 1<<20) // 2^(2^20): 1M+1 bits
	p.Sub(p, big.NewInt(1))
	q := new(big.Int).Lsh(big.NewInt(1), 159)
	q.Add(q, big.NewInt(7))
	g := new(big.Int).Sub(p, big.NewInt(2))
	x := new(big.Int).Sub(q, big.NewInt(1))
	k := &DSAKey{P: p, Q: q, G: g, Y: big.NewInt(3), X: x}
	start := time.Now()
	err := k.Validate()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Validate took %v", took)
	}
	if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "p has 1048576 bits, OTR keys have at most 3072") {
		t.Fatalf("Validate() = %v, want p's size refused", err)
	}
}

// TestValidateSizes checks the bounds around the sizes libotr uses.
func TestValidateSizes(t *testing.T) {
	q := new(big.Int).Lsh(big.NewInt(1), 159)
	for _, c := range []struct {
		pBits int
		q     *big.Int
		want  string
	}{
		{1024, q, "y is not g^x mod p"}, // sizes accepted: the arithmetic runs
		{MaxDSABits, q, "y is not g^x mod p"},
		{MaxDSABits + 1, q, "p has 3073 bits"},
		{1024, big.NewInt(7), "q has 3 bits, OTR needs 160"},
	} {
		p := new(big.Int).Lsh(big.NewInt(1), uint(c.pBits-1))
		k := &DSAKey{P: p, Q: c.q, G: big.NewInt(2), Y: big.NewInt(3), X: big.NewInt(5)}
		if err := k.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("p of %d bits, q of %d bits: Validate() = %v, want %q", c.pBits, c.q.BitLen(), err, c.want)
		}
	}
}

func TestFingerprintForms(t *testing.T) {
	var sum [20]byte
	for i := range sum {
		sum[i] = byte(i*17 + 10)
	}
	f := OTRFingerprint(sum)
	if got, want := f.String(), "0a1b2c3d4e5f708192a3b4c5d6e7f8091a2b3c4d"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := f.Human(), "0A1B2C3D 4E5F7081 92A3B4C5 D6E7F809 1A2B3C4D"; got != want {
		t.Errorf("Human() = %s, want %s", got, want)
	}
}
