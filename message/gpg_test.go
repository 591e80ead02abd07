package message_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	gomessage "github.com/emersion/go-message"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/internal/gpgtest"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// parts returns the leaf parts of the MIME message raw by media type, as
// any MIME reader sees them.
func parts(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	err = e.Walk(func(_ []int, p *gomessage.Entity, err error) error {
		if err != nil {
			return err
		}
		if mt, _, _ := p.Header.ContentType(); p.MultipartReader() == nil {
			b, err := io.ReadAll(p.Body)
			if err != nil {
				return err
			}
			out[mt] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGPGOpensSealed: GnuPG decrypts what Seal encrypts and verifies its
// signature, and verifies a Beacon's detached signature over the payload.
func TestGPGOpensSealed(t *testing.T) {
	o, p, _ := keys(t)
	ring := pgp.NewKeyring(o, public(t, p))
	g := gpgtest.New(t)
	g.Import(o.ArmoredPublic())
	g.Import(p.Secret())

	t.Run("untrusted", func(t *testing.T) {
		m := sealed(t, fsm.Untrusted, o, p)
		raw, err := message.Seal(m, ring)
		if err != nil {
			t.Fatal(err)
		}
		outer := parts(t, raw)
		if string(outer["application/pgp-encrypted"]) != "Version: 1\r\n" {
			t.Errorf("version part %q", outer["application/pgp-encrypted"])
		}
		plain, status := g.Run(outer["application/octet-stream"], "--decrypt")
		if v := gpgtest.StatusLines(status, "VALIDSIG"); len(v) != 1 || v[0][len(v[0])-1] != o.Fingerprint() {
			t.Errorf("gpg: signature %v\n%s", v, status)
		}
		if !bytes.Contains(plain, []byte("X-pEp-Sender-FPR: "+o.Fingerprint()+"\r\n")) || !bytes.Contains(plain, []byte("X-pEp-Wrapped-Message-Info: INNER\r\n")) {
			t.Errorf("inner message headers:\n%s", plain)
		}
		if got := parts(t, plain)["application/pep.sync"]; !bytes.Equal(got, m.Payload) {
			t.Errorf("payload in the inner message %q, want %q", got, m.Payload)
		}
	})
	t.Run("beacon", func(t *testing.T) {
		m := sealed(t, fsm.Unencrypted, o, p)
		raw, err := message.Seal(m, ring)
		if err != nil {
			t.Fatal(err)
		}
		ps := parts(t, raw)
		payload, sig := filepath.Join(g.Dir(), "sync.pEp"), filepath.Join(g.Dir(), "electronic_signature.asc")
		if err := os.WriteFile(payload, ps["application/pep.sync"], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sig, ps["application/pep.sign"], 0o600); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(ps["application/pep.sign"], []byte("-----BEGIN PGP MESSAGE-----")) {
			t.Errorf("signature armor %.30q", ps["application/pep.sign"])
		}
		_, status := g.Run(nil, "--verify", sig, payload)
		if v := gpgtest.StatusLines(status, "VALIDSIG"); len(v) != 1 || v[0][len(v[0])-1] != o.Fingerprint() {
			t.Errorf("gpg --verify: %v\n%s", v, status)
		}
		// The attached public key is the signer's, as gpg reads it.
		h := gpgtest.New(t)
		h.Import(ps["application/pgp-keys"])
		if got := h.Fingerprints(false); len(got) != 1 || got[0] != o.Fingerprint() {
			t.Errorf("attached key: gpg sees %v", got)
		}
	})
}

// TestOpensGPGSealed: a PGP/MIME message whose OpenPGP part GnuPG
// encrypted and signed opens, with gpg's signer.
func TestOpensGPGSealed(t *testing.T) {
	o, p, _ := keys(t)
	g := gpgtest.New(t)
	g.Import(o.ArmoredSecret())
	g.Import(p.ArmoredPublic())
	inner := "From: <" + addr + ">\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pEp.sync\r\nContent-Transfer-Encoding: base64\r\n\r\nAQI=\r\n--b--\r\n"
	cipher, _ := g.Run([]byte(inner), "--trust-model", "always", "--armor", "--local-user", o.Fingerprint(), "--recipient", p.Fingerprint(), "--sign", "--encrypt")
	op, err := message.Open(pgpMIME(cipher), pgp.NewKeyring(p, public(t, o)))
	if err != nil {
		t.Fatal(err)
	}
	if op.Signer != o.Fingerprint() || !bytes.Equal(op.Payload, []byte{1, 2}) || !op.Encrypted {
		t.Errorf("opened %q by %s, encrypted %v", op.Payload, op.Signer, op.Encrypted)
	}
}
