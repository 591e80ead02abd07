// Package pgp is keysync's OpenPGP: own keys made on Curve25519, and a
// keyring that signs, verifies, encrypts and decrypts the messages of the
// base protocol (doc/protocol.md §10). It is built on the openpgp package of
// github.com/ProtonMail/go-crypto.
//
// Keys are version 4, so fingerprints have 160 bits as the protocol's
// fingerprints and trustwords assume (doc/protocol.md §12). A fingerprint is
// written as 40 upper-case hex digits, the form fsm uses as key ids.
//
// Secret key material never appears in an error. Secret keys are kept
// unprotected (no passphrase): the device store that holds them is the
// protection.
package pgp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MaxKeySize is the largest key ParseKey reads, armored or binary. A
// Curve25519 key with a few user ids is under 2 KiB; the bound also bounds
// the signatures that reading a key checks.
const MaxKeySize = 64 << 10

// Armor block types.
const (
	publicKeyBlock = "PGP PUBLIC KEY BLOCK"
	secretKeyBlock = "PGP PRIVATE KEY BLOCK"
	messageBlock   = "PGP MESSAGE"
	signatureBlock = "PGP SIGNATURE"
)

// Key is one OpenPGP key: its public part, and its secret part when it has
// one. A Key does not change once made.
type Key struct {
	entity *openpgp.Entity
	fpr    string
	public []byte // binary transferable public key
	secret []byte // binary transferable secret key; nil for a public key
}

// Generate makes a new own key for address, with a user id "name
// <address>" (just "<address>" when name is empty): a v4 EdDSA
// (Ed25519) primary key that signs and certifies, and an ECDH Curve25519
// subkey that encrypts, both created at now and never expiring.
func Generate(address, name string, now time.Time) (*Key, error) {
	if address == "" {
		return nil, errors.New("pgp: generate: empty address")
	}
	for _, s := range []string{address, name} {
		if strings.ContainsAny(s, "()<>\x00\r\n") {
			return nil, fmt.Errorf("pgp: generate: %q holds one of ()<> or a control character", s)
		}
	}
	now = now.Truncate(time.Second)
	cfg := &packet.Config{
		Algorithm:     packet.PubKeyAlgoEdDSA,
		Curve:         packet.Curve25519,
		DefaultHash:   crypto.SHA256,
		DefaultCipher: packet.CipherAES256,
		Time:          func() time.Time { return now },
	}
	e, err := openpgp.NewEntity(name, "", address, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgp: generate key for %q: %w", address, err)
	}
	return newKey(e)
}

// newKey checks e and serializes its parts once.
func newKey(e *openpgp.Entity) (*Key, error) {
	pk := e.PrimaryKey
	if pk.Version != 4 {
		return nil, fmt.Errorf("pgp: a version %d key; keysync uses version 4 keys (160-bit fingerprints)", pk.Version)
	}
	k := &Key{entity: e, fpr: fingerprint(e)}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		return nil, fmt.Errorf("pgp: key %s: write public key: %w", k.fpr, err)
	}
	k.public = pub.Bytes()
	if e.PrivateKey == nil {
		return k, nil
	}
	if err := usableSecret(e); err != nil {
		return nil, fmt.Errorf("pgp: key %s: %w", k.fpr, err)
	}
	var sec bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&sec, nil); err != nil {
		return nil, fmt.Errorf("pgp: key %s: cannot write its secret key", k.fpr)
	}
	k.secret = sec.Bytes()
	return k, nil
}

// usableSecret reports why the secret parts of e cannot be used as they
// are: protected by a passphrase, or a stub without the key material.
func usableSecret(e *openpgp.Entity) error {
	parts := []*packet.PrivateKey{e.PrivateKey}
	for _, s := range e.Subkeys {
		if s.PrivateKey == nil {
			return errors.New("a secret key without the secret of a subkey")
		}
		parts = append(parts, s.PrivateKey)
	}
	for _, p := range parts {
		switch {
		case p.Dummy():
			return errors.New("a secret key stub without key material")
		case p.Encrypted:
			return errors.New("a passphrase-protected secret key; keysync takes unprotected keys only")
		}
	}
	return nil
}

// ParseKey reads one transferable key, public or secret, binary or
// ASCII-armored (one block), of at most MaxKeySize bytes. It must be a
// version 4 key; a secret key must not be passphrase-protected. Data after
// the key is an error.
func ParseKey(b []byte) (k *Key, err error) {
	defer recoverMalformed(&err, "key")
	if len(b) > MaxKeySize {
		return nil, fmt.Errorf("pgp: key of %d bytes, more than the %d a key may have", len(b), MaxKeySize)
	}
	r, err := unarmor(b, publicKeyBlock, secretKeyBlock)
	if err != nil {
		return nil, fmt.Errorf("pgp: key: %w", err)
	}
	packets := packet.NewReader(r)
	e, err := openpgp.ReadEntity(packets)
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("pgp: key: no key in the input")
		}
		return nil, fmt.Errorf("pgp: key: %w", err)
	}
	if _, err := packets.Next(); err != io.EOF {
		return nil, errors.New("pgp: key: more than one key, or data after the key")
	}
	return newKey(e)
}

// unarmor returns a reader of the binary OpenPGP data in b: b itself, or
// the body of its armor when b starts with "-----BEGIN PGP ", which must
// then be one of the block types allowed.
func unarmor(b []byte, allowed ...string) (io.Reader, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("-----BEGIN PGP ")) {
		return bytes.NewReader(b), nil
	}
	if bytes.Count(b, []byte("-----BEGIN PGP ")) != 1 {
		return nil, errors.New("more than one ASCII-armored block")
	}
	block, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bad ASCII armor: %w", err)
	}
	for _, t := range allowed {
		if block.Type == t {
			return block.Body, nil
		}
	}
	return nil, fmt.Errorf("ASCII armor of a %q block, want %s", cut(block.Type), strings.Join(allowed, " or "))
}

// cut shortens s for an error message.
func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// recoverMalformed turns a panic of the OpenPGP parser on hostile input
// into an error, as a last defence: keysync's own code does not panic.
func recoverMalformed(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("pgp: malformed OpenPGP %s", what)
	}
}

// Fingerprint returns the key's v4 fingerprint as 40 upper-case hex
// digits.
func (k *Key) Fingerprint() string { return k.fpr }

// Public returns the key's public part as a binary transferable public
// key.
func (k *Key) Public() []byte { return bytes.Clone(k.public) }

// ArmoredPublic returns the key's public part ASCII-armored ("PGP PUBLIC
// KEY BLOCK"), as attached to messages (sender_key.asc).
func (k *Key) ArmoredPublic() []byte { return armored(publicKeyBlock, k.public) }

// Secret returns the key's secret part as a binary transferable secret
// key, or nil for a public key. It is for the device store and the own.key
// attachments of encrypted messages only.
func (k *Key) Secret() []byte { return bytes.Clone(k.secret) }

// ArmoredSecret returns the key's secret part ASCII-armored ("PGP PRIVATE
// KEY BLOCK"), or nil for a public key. Like Secret, it is for the device
// store and the own.key attachments of encrypted messages only.
func (k *Key) ArmoredSecret() []byte {
	if k.secret == nil {
		return nil
	}
	return armored(secretKeyBlock, k.secret)
}

// HasSecret reports whether the key has its secret part.
func (k *Key) HasSecret() bool { return k.secret != nil }

// Address returns the e-mail address of the key's primary user id.
func (k *Key) Address() string {
	if id := k.entity.PrimaryIdentity(); id != nil && id.UserId != nil {
		return id.UserId.Email
	}
	return ""
}

// Name returns the name of the key's primary user id.
func (k *Key) Name() string {
	if id := k.entity.PrimaryIdentity(); id != nil && id.UserId != nil {
		return id.UserId.Name
	}
	return ""
}

// Created returns when the key was made.
func (k *Key) Created() time.Time { return k.entity.PrimaryKey.CreationTime }

// armored returns data ASCII-armored as a block of type t.
func armored(t string, data []byte) []byte {
	var b bytes.Buffer
	w, err := armor.Encode(&b, t, nil)
	if err != nil { // writes to a bytes.Buffer do not fail
		return nil
	}
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}
