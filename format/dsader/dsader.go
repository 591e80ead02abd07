// Package dsader reads and writes DSA keys in the DER forms Java's
// KeyFactory reads and Key.getEncoded writes (doc/formats.md §7): private
// keys as PKCS#8 PrivateKeyInfo, public keys as X.509 SubjectPublicKeyInfo.
// Jitsi and ChatSecure store them base64-encoded in properties files.
//
// The encodings are DER with minimal lengths and integers, as Java writes
// them, so that Marshal of what Parse read gives the same bytes.
package dsader

import (
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/keysync/keysync"
)

// oidDSA is id-dsa, 1.2.840.10040.4.1.
var oidDSA = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}

// PublicKey is a DSA public key.
type PublicKey struct {
	P, Q, G, Y *big.Int
}

// Fingerprint returns the key's OTR fingerprint (doc/formats.md §1.2).
func (k *PublicKey) Fingerprint() keysync.Fingerprint {
	return (&keysync.DSAKey{P: k.P, Q: k.Q, G: k.G, Y: k.Y}).Fingerprint()
}

// ErrFormat is wrapped by every error of ParsePrivate and ParsePublic.
var ErrFormat = errors.New("not a DSA key in Java's DER form")

type dssParams struct {
	P, Q, G *big.Int
}

type algorithm struct {
	OID    asn1.ObjectIdentifier
	Params dssParams
}

type privateKeyInfo struct {
	Version   int
	Algorithm algorithm
	Key       []byte
}

type subjectPublicKeyInfo struct {
	Algorithm algorithm
	Key       asn1.BitString
}

// ParsePrivate decodes a PKCS#8 DSA private key. PKCS#8 does not hold y,
// so it is computed as g^x mod p, after checking p of at most
// keysync.MaxDSABits bits, q and g below p and 0 < x < q, so that hostile
// input costs no more than a real key. Errors never include x.
func ParsePrivate(der []byte) (*keysync.DSAKey, error) {
	var info privateKeyInfo
	if err := unmarshal(der, &info); err != nil {
		return nil, err
	}
	if info.Version != 0 {
		return nil, fmt.Errorf("%w: PKCS#8 version %d, want 0", ErrFormat, info.Version)
	}
	if err := checkAlgorithm(info.Algorithm); err != nil {
		return nil, err
	}
	x := new(big.Int)
	if err := unmarshal(info.Key, &x); err != nil {
		return nil, fmt.Errorf("%w: the private value is not an INTEGER", ErrFormat)
	}
	pr := info.Algorithm.Params
	if x.Sign() <= 0 || x.Cmp(pr.Q) >= 0 {
		return nil, fmt.Errorf("%w: x is not in (0, q)", ErrFormat)
	}
	y := new(big.Int).Exp(pr.G, x, pr.P)
	return &keysync.DSAKey{P: pr.P, Q: pr.Q, G: pr.G, Y: y, X: x}, nil
}

// ParsePublic decodes an X.509 SubjectPublicKeyInfo DSA public key, with
// the bounds of ParsePrivate on p, q and g, and 0 < y < p.
func ParsePublic(der []byte) (*PublicKey, error) {
	var info subjectPublicKeyInfo
	if err := unmarshal(der, &info); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(info.Algorithm); err != nil {
		return nil, err
	}
	if info.Key.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: the public key's BIT STRING has unused bits", ErrFormat)
	}
	y := new(big.Int)
	if err := unmarshal(info.Key.Bytes, &y); err != nil {
		return nil, fmt.Errorf("%w: the public value is not an INTEGER", ErrFormat)
	}
	pr := info.Algorithm.Params
	if y.Sign() <= 0 || y.Cmp(pr.P) >= 0 {
		return nil, fmt.Errorf("%w: y is not in (0, p)", ErrFormat)
	}
	return &PublicKey{P: pr.P, Q: pr.Q, G: pr.G, Y: y}, nil
}

// unmarshal decodes exactly one DER value.
func unmarshal(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	var structural asn1.StructuralError
	switch {
	case errors.As(err, &structural):
		// Its message dumps Go's struct tags; say what it means.
		return fmt.Errorf("%w: DER of another structure than the key's", ErrFormat)
	case err != nil:
		// encoding/asn1's messages name structure, never values.
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: %d bytes after the key", ErrFormat, len(rest))
	}
	return nil
}

// checkAlgorithm checks the OID and that the domain parameters are
// positive, with p of at most keysync.MaxDSABits bits and q shorter than p.
func checkAlgorithm(a algorithm) error {
	pr := a.Params
	switch {
	case !a.OID.Equal(oidDSA):
		return fmt.Errorf("%w: algorithm %v is not DSA", ErrFormat, a.OID)
	case pr.P.Sign() <= 0 || pr.Q.Sign() <= 0 || pr.G.Sign() <= 0:
		return fmt.Errorf("%w: p, q or g is not positive", ErrFormat)
	case pr.P.BitLen() > keysync.MaxDSABits:
		return fmt.Errorf("%w: p has %d bits, at most %d are read", ErrFormat, pr.P.BitLen(), keysync.MaxDSABits)
	case pr.Q.Cmp(pr.P) >= 0 || pr.G.Cmp(pr.P) >= 0:
		return fmt.Errorf("%w: q or g is not below p", ErrFormat)
	}
	return nil
}

// MarshalPrivate encodes k's p, q, g and x as PKCS#8, as Java's
// DSAPrivateKey.getEncoded does.
// It fails when a value is missing.
func MarshalPrivate(k *keysync.DSAKey) ([]byte, error) {
	if k.P == nil || k.Q == nil || k.G == nil || k.X == nil {
		return nil, errors.New("dsader: DSA key with a missing value")
	}
	x, err := asn1.Marshal(k.X)
	if err != nil {
		return nil, errors.New("dsader: cannot encode the private value")
	}
	return asn1.Marshal(privateKeyInfo{Algorithm: algorithmOf(k.P, k.Q, k.G), Key: x})
}

// MarshalPublic encodes k as X.509 SubjectPublicKeyInfo, as Java's
// DSAPublicKey.getEncoded does. It fails when a value is missing.
func MarshalPublic(k *PublicKey) ([]byte, error) {
	if k.P == nil || k.Q == nil || k.G == nil || k.Y == nil {
		return nil, errors.New("dsader: DSA key with a missing value")
	}
	y, err := asn1.Marshal(k.Y)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmOf(k.P, k.Q, k.G),
		Key:       asn1.BitString{Bytes: y, BitLength: 8 * len(y)},
	})
}

// Public returns the public part of k.
func Public(k *keysync.DSAKey) *PublicKey {
	return &PublicKey{P: k.P, Q: k.Q, G: k.G, Y: k.Y}
}

func algorithmOf(p, q, g *big.Int) algorithm {
	return algorithm{OID: oidDSA, Params: dssParams{P: p, Q: q, G: g}}
}

// DecodeBase64 decodes a key property's value: standard base64 with
// padding, after removing all white space (the 2011 Gibberbot keystore
// wraps values with newlines, doc/formats.md §8).
func DecodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	return b, nil
}

// EncodeBase64 encodes DER as Jitsi and ChatSecure store it: standard
// base64 with padding, on one line.
func EncodeBase64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }
