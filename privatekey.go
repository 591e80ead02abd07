package keysync

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// PrivateKey is a private key of one kind. Implementations are pointers,
// so that a key can be told apart from another with equal values.
type PrivateKey interface {
	// Kind is the kind of the key and of its fingerprint.
	Kind() KeyKind
	// Fingerprint identifies the public part.
	Fingerprint() Fingerprint
	// Validate checks the key as its protocol needs it; the error never
	// includes secret material.
	Validate() error
	// Equal reports whether o is the same key (same kind and values).
	Equal(o PrivateKey) bool
}

// DSAKey is an OTR DSA private key.
type DSAKey struct {
	P, Q, G, Y, X *big.Int

	// Native is the key as the format that read it stores it, opaque to
	// the model (package libotr keeps the MPI bytes exactly as stored,
	// leading zeros and all). That format uses it when writing the same
	// values back; every other ignores it. Equal does not compare it.
	Native any
}

// Kind returns OTRDSA.
func (k *DSAKey) Kind() KeyKind { return OTRDSA }

// Fingerprint returns the OTR fingerprint of the public part:
// SHA-1(MPI(p) ‖ MPI(q) ‖ MPI(g) ‖ MPI(y)), each MPI a 4-byte big-endian
// length followed by the minimal unsigned big-endian bytes.
func (k *DSAKey) Fingerprint() Fingerprint {
	h := sha1.New()
	var l [4]byte
	for _, v := range []*big.Int{k.P, k.Q, k.G, k.Y} {
		b := v.Bytes()
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	var sum [20]byte
	copy(sum[:], h.Sum(nil))
	return OTRFingerprint(sum)
}

// ErrInvalidKey is wrapped by every error DSAKey.Validate returns.
var ErrInvalidKey = errors.New("invalid OTR DSA key")

// MaxDSABits is the largest p that Validate accepts. libotr generates
// 1024-bit keys; libgcrypt's DSA goes up to 3072 bits.
const MaxDSABits = 3072

// Validate checks what OTR v3 needs of a DSA key: p of at most MaxDSABits
// bits, q of 160 bits, 1 < g < p, 0 < x < q, and y = g^x mod p. The sizes
// are checked first, so that a hostile key costs no more arithmetic than a
// real one. The error names the failed check and never includes the
// secret x.
func (k *DSAKey) Validate() error {
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

// Equal reports whether o is a DSA key with the same p, q, g, y, x.
func (k *DSAKey) Equal(o PrivateKey) bool {
	d, ok := o.(*DSAKey)
	return ok && k.P.Cmp(d.P) == 0 && k.Q.Cmp(d.Q) == 0 && k.G.Cmp(d.G) == 0 &&
		k.Y.Cmp(d.Y) == 0 && k.X.Cmp(d.X) == 0
}
