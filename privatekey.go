package keysync

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// PrivateKey is an OTR DSA private key.
type PrivateKey struct {
	P, Q, G, Y, X *big.Int

	// Raw holds, when the key was read from a libotr file, the MPI bytes of
	// p, q, g, y, x exactly as stored there (libotr keeps leading zero bytes
	// and re-emits what it read). Writers use them when they still encode
	// the same values; otherwise they encode minimally.
	Raw [5][]byte
}

// Fingerprint returns the OTR fingerprint of the public part:
// SHA-1(MPI(p) ‖ MPI(q) ‖ MPI(g) ‖ MPI(y)), each MPI a 4-byte big-endian
// length followed by the minimal unsigned big-endian bytes.
func (k *PrivateKey) Fingerprint() Fingerprint {
	h := sha1.New()
	var l [4]byte
	for _, v := range []*big.Int{k.P, k.Q, k.G, k.Y} {
		b := v.Bytes()
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	var f Fingerprint
	copy(f[:], h.Sum(nil))
	return f
}

// ErrInvalidKey is wrapped by every error Validate returns.
var ErrInvalidKey = errors.New("invalid OTR DSA key")

// MaxDSABits is the largest p that Validate accepts. libotr generates
// 1024-bit keys; libgcrypt's DSA goes up to 3072 bits.
const MaxDSABits = 3072

// Validate checks what OTR v3 needs of a DSA key: p of at most MaxDSABits
// bits, q of 160 bits, 1 < g < p, 0 < x < q, and y = g^x mod p. The sizes
// are checked first, so that a hostile key costs no more arithmetic than a
// real one. The error names the failed check and never includes the
// secret x.
func (k *PrivateKey) Validate() error {
	one := big.NewInt(1)
	switch {
	case k.P == nil || k.Q == nil || k.G == nil || k.Y == nil || k.X == nil:
		return fmt.Errorf("%w: missing parameter", ErrInvalidKey)
	case k.P.BitLen() > MaxDSABits:
		return fmt.Errorf("%w: p has %d bits, OTR keys have at most %d", ErrInvalidKey, k.P.BitLen(), MaxDSABits)
	case k.Q.BitLen() != 160:
		return fmt.Errorf("%w: q has %d bits, OTR needs 160", ErrInvalidKey, k.Q.BitLen())
	case k.G.Cmp(one) <= 0 || k.G.Cmp(k.P) >= 0:
		return fmt.Errorf("%w: g is not in (1, p)", ErrInvalidKey)
	case k.X.Sign() <= 0 || k.X.Cmp(k.Q) >= 0:
		return fmt.Errorf("%w: x is not in (0, q)", ErrInvalidKey)
	case new(big.Int).Exp(k.G, k.X, k.P).Cmp(k.Y) != 0:
		return fmt.Errorf("%w: y is not g^x mod p", ErrInvalidKey)
	}
	return nil
}

// Equal reports whether k and o are the same key (same p, q, g, y, x).
func (k *PrivateKey) Equal(o *PrivateKey) bool {
	return k.P.Cmp(o.P) == 0 && k.Q.Cmp(o.Q) == 0 && k.G.Cmp(o.G) == 0 &&
		k.Y.Cmp(o.Y) == 0 && k.X.Cmp(o.X) == 0
}
