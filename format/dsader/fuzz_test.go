package dsader

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to both parsers: no panic, bounded work
// (p over keysync.MaxDSABits bits is refused before g^x), and what parses
// encodes back to the same bytes (DER has one encoding).
func FuzzParse(f *testing.F) {
	for _, s := range []string{gtalkPriv, gtalkPub, jabberPriv, hansPub} {
		b, _ := DecodeBase64(s)
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add(bytes.Repeat([]byte{0x30, 0x80}, 10000))
	f.Fuzz(func(t *testing.T, der []byte) {
		if k, err := ParsePrivate(der); err == nil {
			if b, err := MarshalPrivate(k); err != nil || !bytes.Equal(b, der) {
				t.Errorf("PKCS#8 does not encode back to its bytes: %v", err)
			}
		}
		if k, err := ParsePublic(der); err == nil {
			if b, err := MarshalPublic(k); err != nil || !bytes.Equal(b, der) {
				t.Errorf("X.509 does not encode back to its bytes: %v", err)
			}
		}
	})
}
