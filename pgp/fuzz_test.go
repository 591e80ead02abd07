package pgp

import (
	"testing"
)

// FuzzParseKey reads hostile keys: an error or a v4 key that reads back
// with the same fingerprint, never a panic.
func FuzzParseKey(f *testing.F) {
	for _, k := range testKeys(f, 2) {
		f.Add(k.Public())
		f.Add(k.ArmoredPublic())
		f.Add(k.Secret())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err != nil {
			return
		}
		if len(k.Fingerprint()) != 40 {
			t.Fatalf("fingerprint %q", k.Fingerprint())
		}
		again, err := ParseKey(k.Public())
		if err != nil || again.Fingerprint() != k.Fingerprint() {
			t.Fatalf("public part does not read back: %v", err)
		}
	})
}

// FuzzDecrypt decrypts hostile messages: an error, or a plaintext signed
// by a key of the keyring, never a panic.
func FuzzDecrypt(f *testing.F) {
	ks := testKeys(f, 2)
	ring := NewKeyring(ks...)
	for _, to := range [][]string{{ks[0].Fingerprint()}, {ks[0].Fingerprint(), ks[1].Fingerprint()}} {
		c, err := ring.EncryptAndSign([]byte("plain"), ks[1].Fingerprint(), to)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		_, signer, _, err := ring.Decrypt(c)
		if err != nil {
			return
		}
		if _, ok := ring.Key(signer); !ok {
			t.Fatalf("signed by %q, not a key of the keyring", signer)
		}
	})
}
