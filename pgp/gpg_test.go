package pgp

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keysync/keysync/internal/gpgtest"
)

// TestGPGImportsKeys: keys made by Generate import into GnuPG, public and
// secret, with the fingerprint keysync computes.
func TestGPGImportsKeys(t *testing.T) {
	ks := testKeys(t, 2)
	g := gpgtest.New(t)
	g.Import(ks[0].ArmoredPublic())
	g.Import(ks[1].ArmoredSecret())
	if got, want := g.Fingerprints(false), []string{ks[0].Fingerprint(), ks[1].Fingerprint()}; !sameSet(got, want) {
		t.Errorf("gpg public keys %v, want %v", got, want)
	}
	if got := g.Fingerprints(true); !slices.Equal(got, []string{ks[1].Fingerprint()}) {
		t.Errorf("gpg secret keys %v, want %s", got, ks[1].Fingerprint())
	}
	// gpg's export of the key reads back as the same key.
	out, _ := g.Run(nil, "--export", ks[0].Fingerprint())
	k, err := ParseKey(out)
	if err != nil || k.Fingerprint() != ks[0].Fingerprint() {
		t.Errorf("gpg's export: %v", err)
	}
	out, _ = g.Run(nil, "--export-secret-keys", ks[1].Fingerprint())
	k, err = ParseKey(out)
	if err != nil || k.Fingerprint() != ks[1].Fingerprint() || !k.HasSecret() {
		t.Errorf("gpg's export of the secret key: %v", err)
	}
}

// TestGPGVerifiesAndDecrypts: GnuPG checks keysync's detached signatures
// (armored as PGP MESSAGE) and decrypts and verifies its messages.
func TestGPGVerifiesAndDecrypts(t *testing.T) {
	ks := testKeys(t, 2)
	alice, bob := ks[0], ks[1]
	ring := NewKeyring(alice, bob)
	g := gpgtest.New(t)
	g.Import(alice.ArmoredPublic())
	g.Import(bob.Secret())

	data := []byte("payload \x00\xff\r\n bytes")
	sig, err := ring.Sign(data, alice.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	dataFile, sigFile := filepath.Join(g.Dir(), "data"), filepath.Join(g.Dir(), "data.asc")
	if err := os.WriteFile(dataFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	_, status := g.Run(nil, "--verify", sigFile, dataFile)
	if v := gpgtest.StatusLines(status, "VALIDSIG"); len(v) != 1 || v[0][len(v[0])-1] != alice.Fingerprint() {
		t.Errorf("gpg --verify: %v\n%s", v, status)
	}
	if err := os.WriteFile(dataFile, append(data, '!'), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, status, err := g.Try(nil, "--verify", sigFile, dataFile); err == nil || len(gpgtest.StatusLines(status, "BADSIG")) != 1 {
		t.Errorf("gpg --verify of other data: %v\n%s", err, status)
	}

	c, err := ring.EncryptAndSign(data, alice.Fingerprint(), []string{bob.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	plain, status := g.Run(c, "--decrypt")
	if !bytes.Equal(plain, data) {
		t.Errorf("gpg decrypted %q", plain)
	}
	if v := gpgtest.StatusLines(status, "VALIDSIG"); len(v) != 1 || v[0][len(v[0])-1] != alice.Fingerprint() {
		t.Errorf("gpg --decrypt: signature %v\n%s", v, status)
	}
}

// TestDecryptsGPG: keysync decrypts and verifies what GnuPG encrypts and
// signs with keys made by Generate, and verifies its detached signatures.
func TestDecryptsGPG(t *testing.T) {
	ks := testKeys(t, 2)
	alice, bob := ks[0], ks[1]
	g := gpgtest.New(t)
	g.Import(alice.Secret())
	g.Import(bob.ArmoredPublic())
	data := []byte("from gpg")
	for _, armor := range []bool{false, true} {
		args := []string{"--trust-model", "always", "--local-user", alice.Fingerprint(), "--recipient", bob.Fingerprint(), "--sign", "--encrypt"}
		if armor {
			args = append(args, "--armor")
		}
		c, _ := g.Run(data, args...)
		plain, signer, to, err := NewKeyring(bob, alice.withoutSecret(t)).Decrypt(c)
		if err != nil || !bytes.Equal(plain, data) || signer != alice.Fingerprint() || !slices.Equal(to, []string{bob.Fingerprint()}) {
			t.Errorf("armor %v: Decrypt %q by %s to %v: %v", armor, plain, signer, to, err)
		}
	}
	for _, armor := range []bool{false, true} {
		args := []string{"--local-user", alice.Fingerprint(), "--detach-sign"}
		if armor {
			args = append(args, "--armor")
		}
		sig, _ := g.Run(data, args...)
		if s, err := NewKeyring(alice.withoutSecret(t)).Verify(data, sig, nil); err != nil || s != alice.Fingerprint() {
			t.Errorf("armor %v: Verify: %s, %v", armor, s, err)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}
