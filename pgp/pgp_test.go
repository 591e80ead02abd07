package pgp

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the creation time of the test keys.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	keysOnce sync.Once
	keys     []*Key
)

// testKeys returns n fresh keys (at most 4), made once per test binary.
func testKeys(t testing.TB, n int) []*Key {
	t.Helper()
	keysOnce.Do(func() {
		for _, a := range []string{"alice@example.org", "bob@example.org", "carol@example.org", "dave@example.org"} {
			k, err := Generate(a, strings.ToUpper(a[:1])+a[1:strings.IndexByte(a, '@')], testNow)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys[:n]
}

func TestGenerate(t *testing.T) {
	k := testKeys(t, 1)[0]
	if len(k.Fingerprint()) != 40 || strings.ToUpper(k.Fingerprint()) != k.Fingerprint() {
		t.Errorf("fingerprint %q: want 40 upper-case hex digits", k.Fingerprint())
	}
	if k.Address() != "alice@example.org" || k.Name() != "Alice" || !k.Created().Equal(testNow) || !k.HasSecret() {
		t.Errorf("key: address %q name %q created %v secret %v", k.Address(), k.Name(), k.Created(), k.HasSecret())
	}
	e := k.entity
	if e.PrimaryKey.PubKeyAlgo != 22 || len(e.Subkeys) != 1 || e.Subkeys[0].PublicKey.PubKeyAlgo != 18 {
		t.Errorf("algorithms: primary %d, subkeys %d", e.PrimaryKey.PubKeyAlgo, len(e.Subkeys))
	}
	for _, bad := range []string{"", "a<b@example.org"} {
		if _, err := Generate(bad, "", testNow); err == nil {
			t.Errorf("Generate(%q) succeeded", bad)
		}
	}
}

func TestParseKey(t *testing.T) {
	k := testKeys(t, 1)[0]
	for name, b := range map[string][]byte{"public": k.Public(), "armored": k.ArmoredPublic(), "secret": k.Secret(), "armored secret": k.ArmoredSecret()} {
		p, err := ParseKey(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Fingerprint() != k.Fingerprint() || p.HasSecret() != strings.Contains(name, "secret") {
			t.Errorf("%s: fingerprint %s secret %v", name, p.Fingerprint(), p.HasSecret())
		}
		if p.HasSecret() && !bytes.Equal(p.Secret(), k.Secret()) {
			t.Errorf("secret key does not read back the same")
		}
	}
	if pub := k.withoutSecret(t); pub.Secret() != nil || pub.ArmoredSecret() != nil {
		t.Error("a public key has a secret part")
	}
	if !bytes.HasPrefix(k.ArmoredSecret(), []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Errorf("armored secret key: %.40q", k.ArmoredSecret())
	}
	two := append(k.Public(), testKeys(t, 2)[1].Public()...)
	for name, b := range map[string][]byte{
		"empty":              nil,
		"garbage":            []byte("hello"),
		"two keys":           two,
		"too large":          make([]byte, MaxKeySize+1),
		"truncated":          k.Public()[:len(k.Public())/2],
		"message":            armored(messageBlock, k.Public()),
		"two armored blocks": append(k.ArmoredPublic(), k.ArmoredPublic()...),
	} {
		if _, err := ParseKey(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ks := testKeys(t, 3)
	alice, bob, carol := ks[0], ks[1], ks[2]
	ra := NewKeyring(alice, bob.withoutSecret(t))
	rb := NewKeyring(bob, alice.withoutSecret(t))
	rc := NewKeyring(carol, alice.withoutSecret(t))

	sig, err := ra.Sign([]byte("payload"), alice.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte("-----BEGIN PGP MESSAGE-----")) {
		t.Errorf("signature armor: %.40q", sig)
	}
	if s, err := rb.Verify([]byte("payload"), sig, nil); err != nil || s != alice.Fingerprint() {
		t.Errorf("Verify: %s, %v", s, err)
	}
	if _, err := rb.Verify([]byte("payloaD"), sig, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify of other data: %v", err)
	}
	if _, err := NewKeyring(carol).Verify([]byte("payload"), sig, nil); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("Verify without the key: %v", err)
	}
	if s, err := NewKeyring(carol).Verify([]byte("payload"), sig, [][]byte{alice.ArmoredPublic()}); err != nil || s != alice.Fingerprint() {
		t.Errorf("Verify with attached key: %s, %v", s, err)
	}

	c, err := ra.EncryptAndSign([]byte("secret"), alice.Fingerprint(), []string{alice.Fingerprint(), bob.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	plain, signer, to, err := rb.Decrypt(c)
	if err != nil || string(plain) != "secret" || signer != alice.Fingerprint() {
		t.Fatalf("Decrypt: %q %s %v", plain, signer, err)
	}
	if len(to) != 2 || to[0] != alice.Fingerprint() || to[1] != bob.Fingerprint() {
		t.Errorf("recipients %v", to)
	}
	if _, _, _, err := rc.Decrypt(c); !errors.Is(err, ErrNoSecretKey) || !strings.Contains(err.Error(), alice.Fingerprint()) {
		t.Errorf("Decrypt by a non-recipient: %v", err)
	}
	if _, _, _, err := NewKeyring(bob).Decrypt(c); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("Decrypt without the signer's key: %v", err)
	}
	if _, err := ra.EncryptAndSign([]byte("x"), bob.Fingerprint(), []string{alice.Fingerprint()}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("signing with a public key: %v", err)
	}
	if _, err := ra.EncryptAndSign([]byte("x"), alice.Fingerprint(), []string{carol.Fingerprint()}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("encrypting to an unknown key: %v", err)
	}
}

func (k *Key) withoutSecret(t *testing.T) *Key {
	t.Helper()
	p, err := ParseKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBounds: more recipients or attached keys than the bounds are
// refused before any public-key work.
func TestBounds(t *testing.T) {
	alice := testKeys(t, 1)[0]
	ring := NewKeyring(alice)
	var to []string
	for range MaxRecipients + 1 {
		k, err := Generate("x@example.org", "", testNow)
		if err != nil {
			t.Fatal(err)
		}
		ring.Add(k)
		to = append(to, k.Fingerprint())
	}
	c, err := ring.EncryptAndSign([]byte("x"), alice.Fingerprint(), to)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ring.Decrypt(c); err == nil || !strings.Contains(err.Error(), "more than 16 recipients") {
		t.Errorf("Decrypt of %d recipients: %v", len(to), err)
	}
	if _, _, _, err := ring.Decrypt(make([]byte, MaxMessageSize+1)); err == nil {
		t.Error("Decrypt of a too large message")
	}
	sig, err := ring.Sign([]byte("x"), alice.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	many := make([][]byte, MaxAttached+1)
	for i := range many {
		many[i] = alice.Public()
	}
	if _, err := ring.Verify([]byte("x"), sig, many); err == nil || !strings.Contains(err.Error(), "attached keys") {
		t.Errorf("Verify with %d attached keys: %v", len(many), err)
	}
	if _, err := ring.Verify([]byte("x"), sig, [][]byte{[]byte("junk")}); err == nil || !strings.Contains(err.Error(), "attached key 1") {
		t.Errorf("Verify with a junk attached key: %v", err)
	}
}

// TestNotEncrypted: Decrypt takes only public-key encrypted messages.
func TestNotEncrypted(t *testing.T) {
	alice := testKeys(t, 1)[0]
	ring := NewKeyring(alice)
	sig, err := ring.Sign([]byte("x"), alice.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ring.Decrypt(sig); err == nil {
		t.Error("Decrypt of a signature succeeded")
	}
	if _, _, _, err := ring.Decrypt(alice.ArmoredPublic()); err == nil || !strings.Contains(err.Error(), "PGP PUBLIC KEY BLOCK") {
		t.Errorf("Decrypt of a key: %v", err)
	}
}

// TestKeyring: adding a public key keeps a secret one held; lookups take
// any case.
func TestKeyring(t *testing.T) {
	alice := testKeys(t, 1)[0]
	ring := NewKeyring(alice)
	ring.Add(alice.withoutSecret(t))
	if k, ok := ring.Key(strings.ToLower(alice.Fingerprint())); !ok || !k.HasSecret() {
		t.Errorf("after adding the public key: %v %v", ok, k != nil && k.HasSecret())
	}
	if got := ring.Fingerprints(); len(got) != 1 || got[0] != alice.Fingerprint() {
		t.Errorf("fingerprints %v", got)
	}
	ring.Remove(alice.Fingerprint())
	if _, ok := ring.Key(alice.Fingerprint()); ok {
		t.Error("removed key still there")
	}
	if _, err := ring.PublicKey(alice.Fingerprint()); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("PublicKey of a removed key: %v", err)
	}
}

// TestDecryptAndVerify: a signer unknown to the keyring is verified with
// the keys that the caller finds inside the plaintext, for that message
// only.
func TestDecryptAndVerify(t *testing.T) {
	ks := testKeys(t, 3)
	alice, bob, carol := ks[0], ks[1], ks[2]
	c, err := NewKeyring(alice, bob).EncryptAndSign(alice.ArmoredPublic(), alice.Fingerprint(), []string{bob.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	ring := NewKeyring(bob)
	inside := func(plain []byte) [][]byte { return [][]byte{plain} }
	plain, signer, _, err := ring.DecryptAndVerify(c, inside)
	if err != nil || signer != alice.Fingerprint() || !bytes.Equal(plain, alice.ArmoredPublic()) {
		t.Fatalf("DecryptAndVerify: %s, %v", signer, err)
	}
	if _, ok := ring.Key(alice.Fingerprint()); ok {
		t.Error("the key found inside was added to the keyring")
	}
	for name, keys := range map[string]func([]byte) [][]byte{
		"no function":    nil,
		"no keys inside": func([]byte) [][]byte { return nil },
		"another key":    func([]byte) [][]byte { return [][]byte{carol.Public()} },
	} {
		if _, _, _, err := ring.DecryptAndVerify(c, keys); !errors.Is(err, ErrUnknownSigner) {
			t.Errorf("%s: %v, want ErrUnknownSigner", name, err)
		}
	}
	many := func([]byte) [][]byte { return make([][]byte, MaxAttached+1) }
	if _, _, _, err := ring.DecryptAndVerify(c, many); err == nil || !strings.Contains(err.Error(), "attached keys") {
		t.Errorf("too many keys inside: %v", err)
	}
}
