package message_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// liar is a Crypto that signs as another key than the message names.
type liar struct {
	*pgp.Keyring
	signAs   string // the key that really signs the encryption
	detachAs string // the key that really makes the detached signature
}

func (l liar) EncryptAndSign(plain []byte, _ string, to []string) ([]byte, error) {
	return l.Keyring.EncryptAndSign(plain, l.signAs, to)
}

func (l liar) Sign(data []byte, _ string) ([]byte, error) { return l.Keyring.Sign(data, l.detachAs) }

// TestWrongSigner: a message whose parts name different signers is
// rejected, though every signature in it is good.
func TestWrongSigner(t *testing.T) {
	o, p, s := keys(t)
	ring := pgp.NewKeyring(o, p, s)
	receiver := pgp.NewKeyring(p, public(t, o), public(t, s))

	// X-pEp-Sender-FPR names the own key, the stranger signed.
	m := sealed(t, fsm.Untrusted, o, p)
	raw, err := message.Seal(m, liar{ring, s.Fingerprint(), o.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := message.Open(raw, receiver); err == nil || !strings.Contains(err.Error(), "X-pEp-Sender-FPR") {
		t.Errorf("sender fpr of another key: %v", err)
	}

	// The detached signature inside the encryption is the stranger's.
	m.Sign = true
	raw, err = message.Seal(m, liar{ring, o.Fingerprint(), s.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := message.Open(raw, receiver); err == nil || !strings.Contains(err.Error(), "detached signature by "+s.Fingerprint()) {
		t.Errorf("detached signature of another key: %v", err)
	}

	// The Beacon's detached signature is the stranger's: it opens, with
	// the stranger as signer, whatever key is attached.
	b := sealed(t, fsm.Unencrypted, o, p)
	raw, err = message.Seal(b, liar{ring, "", s.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	op, err := message.Open(raw, receiver)
	if err != nil || op.Signer != s.Fingerprint() {
		t.Errorf("Beacon signed by the stranger: %v", err)
	}
}

// TestEnvelopeFrom: the inner, encrypted From is the sender; an envelope
// that claims another one is rejected.
func TestEnvelopeFrom(t *testing.T) {
	o, p, _ := keys(t)
	raw, err := message.Seal(sealed(t, fsm.Untrusted, o, p), pgp.NewKeyring(o, p))
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(raw, []byte("From: <"+addr+">"), []byte("From: <mallory@example.org>"), 1)
	if _, err := message.Open(forged, pgp.NewKeyring(p, public(t, o))); err == nil || !strings.Contains(err.Error(), "envelope from") {
		t.Errorf("forged envelope: %v", err)
	}
}

// addPart returns the multipart message raw with one more part before
// its closing boundary.
func addPart(t *testing.T, raw []byte, part string) []byte {
	t.Helper()
	end := bytes.LastIndex(raw, []byte("--\r\n"))
	if end < 0 {
		end = bytes.LastIndex(raw, []byte("--"))
	}
	b := bytes.LastIndex(raw[:end], []byte("\r\n--")) + 2
	boundary := string(raw[b:end])
	return append(bytes.Clone(raw[:b]), []byte(boundary+"\r\n"+part+"\r\n"+string(raw[b:]))...)
}

func TestOwnKeysInClear(t *testing.T) {
	o, p, _ := keys(t)
	raw, err := message.Seal(sealed(t, fsm.Unencrypted, o, p), pgp.NewKeyring(o))
	if err != nil {
		t.Fatal(err)
	}
	withKey := addPart(t, raw, "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=own.key\r\n\r\nsecret")
	if _, err := message.Open(withKey, pgp.NewKeyring(p, public(t, o))); err == nil || !strings.Contains(err.Error(), "own (secret) keys in a message in clear") {
		t.Errorf("own key in clear: %v", err)
	}
	twice := addPart(t, raw, "Content-Type: application/pEp.sync\r\n\r\nxx")
	if _, err := message.Open(twice, pgp.NewKeyring(p, public(t, o))); err == nil || !strings.Contains(err.Error(), "2 payloads") {
		t.Errorf("two payloads: %v", err)
	}
}

// TestBounds: deep nesting and many parts end with an error, quickly.
func TestBounds(t *testing.T) {
	nested := func(depth int) []byte {
		var b strings.Builder
		b.WriteString("From: <a@b>\r\nMIME-Version: 1.0\r\n")
		for i := range depth {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\nx\r\n")
		for i := depth - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return []byte(b.String())
	}
	many := func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: <a@b>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for range n {
			b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n")
		}
		b.WriteString("--b--\r\n")
		return []byte(b.String())
	}
	ring := pgp.NewKeyring()
	for name, c := range map[string]struct {
		raw  []byte
		want string
	}{
		"deep":       {nested(message.MaxDepth + 1), "nested more than"},
		"very deep":  {nested(10000), "nested more than"},
		"many parts": {many(message.MaxParts + 1), "more than 64 MIME parts"},
		"shallow":    {nested(message.MaxDepth), "without a detached signature"},
		"no from":    {[]byte("Subject: x\r\n\r\nbody"), "no valid From address"},
	} {
		if _, err := message.Open(c.raw, ring); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestNoSecretInErrors: an encrypted, well signed message whose content is
// malformed is rejected without quoting the content, which may be key
// material.
func TestNoSecretInErrors(t *testing.T) {
	o, p, _ := keys(t)
	ring := pgp.NewKeyring(o, p)
	const secret = "SECRETKEYMATERIAL"
	for name, c := range map[string]struct{ inner, want string }{
		"header": {"From: <" + addr + ">\r\n" + secret + "\r\n\r\nbody", "malformed header"},
		"part header": {"From: <" + addr + ">\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + secret + "\r\n\r\nx\r\n--b--\r\n",
			"decrypted message: malformed MIME"},
		"base64": {"From: <" + addr + ">\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n" +
			"Content-Disposition: attachment; filename=own.key\r\nContent-Transfer-Encoding: base64\r\n\r\n" + secret + "!!\r\n--b--\r\n",
			"application/octet-stream part: malformed MIME"},
	} {
		cipher, err := ring.EncryptAndSign([]byte(c.inner), o.Fingerprint(), []string{p.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = message.Open(pgpMIME(cipher), ring)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v, want %q and no content", name, err, c.want)
		}
	}
}

// pgpMIME wraps an OpenPGP message in a PGP/MIME message from addr.
func pgpMIME(cipher []byte) []byte {
	return []byte("From: <" + addr + ">\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x\r\n\r\n" +
		"--x\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--x\r\nContent-Type: application/octet-stream\r\n\r\n" + string(cipher) + "\r\n--x--\r\n")
}

// TestInnerFrom: the sender of an encrypted message is named inside the
// encryption; without it the message is rejected.
func TestInnerFrom(t *testing.T) {
	o, p, _ := keys(t)
	ring := pgp.NewKeyring(o, p)
	inner := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pEp.sync\r\nContent-Transfer-Encoding: base64\r\n\r\nAQI=\r\n--b--\r\n"
	for _, c := range []struct{ inner, want string }{
		{inner, "decrypted message: no valid From address"},
		{"From: <" + addr + ">\r\n" + inner, ""},
	} {
		cipher, err := ring.EncryptAndSign([]byte(c.inner), o.Fingerprint(), []string{p.Fingerprint()})
		if err != nil {
			t.Fatal(err)
		}
		op, err := message.Open(pgpMIME(cipher), ring)
		switch {
		case c.want == "" && (err != nil || !bytes.Equal(op.Payload, []byte{1, 2})):
			t.Errorf("with an inner From: %v", err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("without an inner From: %v, want %q", err, c.want)
		}
	}
}

// TestSignerKeyInside: an encrypted message from a key the receiver does
// not know yet opens when the key is attached inside (the group key in the
// first NegotiationRequestGrouped a joiner sees), and not without it.
func TestSignerKeyInside(t *testing.T) {
	o, p, _ := keys(t)
	sender := pgp.NewKeyring(o, public(t, p))
	receiver := pgp.NewKeyring(p)
	m := sealed(t, fsm.Untrusted, o, p)
	for _, attach := range []bool{true, false} {
		m.AttachPublic = attach
		raw, err := message.Seal(m, sender)
		if err != nil {
			t.Fatal(err)
		}
		op, err := message.Open(raw, receiver)
		switch {
		case attach && (err != nil || op.Signer != o.Fingerprint() || len(op.PublicKeys) != 1):
			t.Errorf("with the key inside: %v", err)
		case !attach && !errors.Is(err, pgp.ErrUnknownSigner):
			t.Errorf("without the key inside: %v, want ErrUnknownSigner", err)
		}
	}
}
