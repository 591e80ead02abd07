package pgp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MaxMessageSize is the largest encrypted message Decrypt reads, and the
// largest plaintext it returns.
const MaxMessageSize = 32 << 20

// MaxSignatureSize is the largest detached signature Verify reads. One
// signature is a few hundred bytes.
const MaxSignatureSize = 64 << 10

// MaxRecipients is the most recipients Decrypt takes in a message, and
// MaxAttached the most attached keys Verify takes: each costs public-key
// operations, and the protocol's messages have two at most.
const (
	MaxRecipients = 16
	MaxAttached   = 4
)

// Errors of the keyring; the errors its methods return wrap them.
var (
	// ErrNoSecretKey: a message is not encrypted to any secret key the
	// keyring holds.
	ErrNoSecretKey = errors.New("not encrypted to any secret key held")
	// ErrUnsigned: an encrypted message carries no signature.
	ErrUnsigned = errors.New("not signed")
	// ErrUnknownSigner: the signing key is not in the keyring (nor among
	// the keys attached for the verification).
	ErrUnknownSigner = errors.New("signed by an unknown key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownKey: a fingerprint names no key of the keyring, or a
	// signer has no secret key there.
	ErrUnknownKey = errors.New("no such key")
)

// Keyring is a set of keys by fingerprint, public and secret ones. It
// signs and encrypts with the keys it holds and verifies and decrypts with
// them. Its methods are safe for concurrent use.
type Keyring struct {
	mu   sync.RWMutex
	keys map[string]*Key
}

// NewKeyring returns a keyring holding keys.
func NewKeyring(keys ...*Key) *Keyring {
	r := &Keyring{keys: map[string]*Key{}}
	for _, k := range keys {
		r.Add(k)
	}
	return r
}

// Add adds k, replacing the key of the same fingerprint; a public key does
// not replace a key with its secret part, which stays.
func (r *Keyring) Add(k *Key) {
	if k == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]*Key{}
	}
	if old, ok := r.keys[k.fpr]; ok && old.HasSecret() && !k.HasSecret() {
		return
	}
	r.keys[k.fpr] = k
}

// Remove removes the key with fingerprint fpr, if there is one.
func (r *Keyring) Remove(fpr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.keys, strings.ToUpper(fpr))
}

// Key returns the key with fingerprint fpr (hex, any case).
func (r *Keyring) Key(fpr string) (*Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[strings.ToUpper(fpr)]
	return k, ok
}

// Fingerprints returns the fingerprints of the keys held, sorted.
func (r *Keyring) Fingerprints() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.keys))
	for f := range r.keys {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// PublicKey returns the ASCII-armored public key with fingerprint fpr, as
// messages attach it (sender_key.asc).
func (r *Keyring) PublicKey(fpr string) ([]byte, error) {
	k, ok := r.Key(fpr)
	if !ok {
		return nil, fmt.Errorf("pgp: public key %s: %w", fpr, ErrUnknownKey)
	}
	return k.ArmoredPublic(), nil
}

// entities returns the keyring's keys for the openpgp package, followed
// by extra.
func (r *Keyring) entities(extra ...*Key) openpgp.EntityList {
	r.mu.RLock()
	defer r.mu.RUnlock()
	el := make(openpgp.EntityList, 0, len(r.keys)+len(extra))
	for _, f := range slices.Sorted(maps.Keys(r.keys)) {
		el = append(el, r.keys[f].entity)
	}
	for _, k := range extra {
		el = append(el, k.entity)
	}
	return el
}

// secretKey returns the key with fingerprint fpr if the keyring holds its
// secret part.
func (r *Keyring) secretKey(fpr string) (*Key, error) {
	k, ok := r.Key(fpr)
	if !ok || !k.HasSecret() {
		return nil, fmt.Errorf("pgp: no secret key %s: %w", fpr, ErrUnknownKey)
	}
	return k, nil
}

// config is the openpgp configuration of every operation.
func config() *packet.Config {
	limit := int64(MaxMessageSize)
	return &packet.Config{
		DefaultHash:                crypto.SHA256,
		DefaultCipher:              packet.CipherAES256,
		MaxDecompressedMessageSize: &limit,
	}
}

// Sign returns a detached binary signature over exactly data, made with
// the secret key signer, ASCII-armored with the label PGP MESSAGE as the
// reference writes it (doc/protocol.md §10.1).
func (r *Keyring) Sign(data []byte, signer string) ([]byte, error) {
	k, err := r.secretKey(signer)
	if err != nil {
		return nil, err
	}
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, k.entity, bytes.NewReader(data), config()); err != nil {
		return nil, fmt.Errorf("pgp: sign with %s: %w", k.fpr, err)
	}
	return armored(messageBlock, sig.Bytes()), nil
}

// Verify checks sig, a detached signature (binary, or armored as PGP
// MESSAGE or PGP SIGNATURE), over exactly data, and returns the
// fingerprint of the signing key. The signer is looked up in the keyring
// and in attached, public keys that came with the message: they count for
// this verification only and are not added to the keyring.
func (r *Keyring) Verify(data, sig []byte, attached [][]byte) (signer string, err error) {
	defer recoverMalformed(&err, "signature")
	if len(sig) > MaxSignatureSize {
		return "", fmt.Errorf("pgp: signature of %d bytes, more than %d", len(sig), MaxSignatureSize)
	}
	if len(attached) > MaxAttached {
		return "", fmt.Errorf("pgp: signature: %d attached keys, more than %d", len(attached), MaxAttached)
	}
	extra := make([]*Key, 0, len(attached))
	for i, b := range attached {
		k, err := ParseKey(b)
		if err != nil {
			return "", fmt.Errorf("pgp: attached key %d: %w", i+1, err)
		}
		extra = append(extra, k)
	}
	sr, err := unarmor(sig, messageBlock, signatureBlock)
	if err != nil {
		return "", fmt.Errorf("pgp: signature: %w", err)
	}
	s, e, err := openpgp.VerifyDetachedSignature(r.entities(extra...), bytes.NewReader(data), sr, config())
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "", fmt.Errorf("pgp: signature: %w", ErrUnknownSigner)
	case err != nil:
		return "", fmt.Errorf("pgp: signature: %w: %v", ErrBadSignature, err)
	case s.SigType != packet.SigTypeBinary:
		return "", fmt.Errorf("pgp: signature: %w: of type %#x, not a binary signature", ErrBadSignature, uint8(s.SigType))
	}
	return fingerprint(e), nil
}

// EncryptAndSign encrypts plain to the keys with the fingerprints to and
// signs it with the secret key signer, as one OpenPGP message,
// ASCII-armored (PGP MESSAGE) as PGP/MIME carries it (RFC 3156).
func (r *Keyring) EncryptAndSign(plain []byte, signer string, to []string) ([]byte, error) {
	s, err := r.secretKey(signer)
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, errors.New("pgp: encrypt: no recipients")
	}
	var recipients []*openpgp.Entity
	seen := map[string]bool{}
	for _, f := range to {
		k, ok := r.Key(f)
		if !ok {
			return nil, fmt.Errorf("pgp: encrypt to %s: %w", f, ErrUnknownKey)
		}
		if !seen[k.fpr] {
			seen[k.fpr] = true
			recipients = append(recipients, k.entity)
		}
	}
	var out bytes.Buffer
	w, err := openpgp.Encrypt(&out, recipients, s.entity, &openpgp.FileHints{IsBinary: true}, config())
	if err != nil {
		return nil, fmt.Errorf("pgp: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("pgp: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pgp: encrypt: %w", err)
	}
	return armored(messageBlock, out.Bytes()), nil
}

// Decrypt decrypts cipher, an OpenPGP message (binary, or armored as PGP
// MESSAGE) of at most MaxMessageSize bytes, with a secret key the keyring
// holds, and checks its signature. It returns the plaintext, the
// fingerprint of the signer and the message's recipients: the fingerprint
// of each recipient key the keyring knows, and the 16-hex-digit key id of
// each it does not (0000000000000000 for an anonymous recipient).
//
// A message that is not encrypted, not encrypted to a secret key held
// (ErrNoSecretKey), unsigned (ErrUnsigned), signed by a key not in the
// keyring (ErrUnknownSigner) or with a bad signature or integrity check
// (ErrBadSignature) is an error.
func (r *Keyring) Decrypt(cipher []byte) (plain []byte, signer string, to []string, err error) {
	return r.DecryptAndVerify(cipher, nil)
}

// DecryptAndVerify is Decrypt for a message that may carry its signer's
// public key inside the encryption. When the signer is not in the keyring
// and keysInside is not nil, keysInside gets the plaintext (integrity
// checked, not yet authenticated) and returns the public keys attached in
// it; with at most MaxAttached of them the message is decrypted again and
// its signature verified with them too. They count for this message only
// and are not added to the keyring.
func (r *Keyring) DecryptAndVerify(cipher []byte, keysInside func(plain []byte) [][]byte) (plain []byte, signer string, to []string, err error) {
	plain, signer, to, err = r.decrypt(cipher, r.entities())
	if err == nil {
		return plain, signer, to, nil
	}
	if keysInside == nil || !errors.Is(err, ErrUnknownSigner) {
		return nil, "", nil, err
	}
	attached := keysInside(plain)
	if len(attached) == 0 {
		return nil, "", nil, err
	}
	if len(attached) > MaxAttached {
		return nil, "", nil, fmt.Errorf("pgp: message: %d attached keys, more than %d", len(attached), MaxAttached)
	}
	extra := make([]*Key, 0, len(attached))
	for i, b := range attached {
		k, err := ParseKey(b)
		if err != nil {
			return nil, "", nil, fmt.Errorf("pgp: message: attached key %d: %w", i+1, err)
		}
		extra = append(extra, k)
	}
	plain, signer, to, err = r.decrypt(cipher, r.entities(extra...))
	if err != nil {
		return nil, "", nil, err
	}
	return plain, signer, to, nil
}

// decrypt decrypts and verifies cipher with the keys el. When the only
// fault is an unknown signer it returns the plaintext with the error, for
// DecryptAndVerify to look for the signer's key in it.
func (r *Keyring) decrypt(cipher []byte, el openpgp.EntityList) (plain []byte, signer string, to []string, err error) {
	defer recoverMalformed(&err, "message")
	if len(cipher) > MaxMessageSize {
		return nil, "", nil, fmt.Errorf("pgp: message of %d bytes, more than %d", len(cipher), MaxMessageSize)
	}
	cr, err := unarmor(cipher, messageBlock)
	if err != nil {
		return nil, "", nil, fmt.Errorf("pgp: message: %w", err)
	}
	ids, err := recipientIDs(cipher)
	if err != nil {
		return nil, "", nil, fmt.Errorf("pgp: message: %w", err)
	}
	md, err := openpgp.ReadMessage(cr, el, nil, config())
	if errors.Is(err, pgperrors.ErrKeyIncorrect) {
		return nil, "", nil, fmt.Errorf("pgp: message: %w (it is for %s)", ErrNoSecretKey, strings.Join(recipients(el, ids), ", "))
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("pgp: message: %w", err)
	}
	if !md.IsEncrypted || md.IsSymmetricallyEncrypted || len(md.EncryptedToKeyIds) == 0 {
		return nil, "", nil, errors.New("pgp: message: not encrypted to a public key")
	}
	to = recipients(el, md.EncryptedToKeyIds)
	plain, err = io.ReadAll(io.LimitReader(md.UnverifiedBody, MaxMessageSize+1))
	switch {
	case err != nil:
		return nil, "", nil, fmt.Errorf("pgp: message: %w: %v", ErrBadSignature, err)
	case len(plain) > MaxMessageSize:
		return nil, "", nil, fmt.Errorf("pgp: message: plaintext of more than %d bytes", MaxMessageSize)
	case !md.IsSigned:
		return nil, "", nil, fmt.Errorf("pgp: message: %w", ErrUnsigned)
	case md.SignedBy == nil:
		return plain, "", nil, fmt.Errorf("pgp: message: %w (key id %016X)", ErrUnknownSigner, md.SignedByKeyId)
	case md.SignatureError != nil:
		return nil, "", nil, fmt.Errorf("pgp: message: %w: %v", ErrBadSignature, md.SignatureError)
	case md.Signature == nil || md.Signature.SigType != packet.SigTypeBinary:
		return nil, "", nil, fmt.Errorf("pgp: message: %w: not a binary signature", ErrBadSignature)
	}
	return plain, fingerprint(md.SignedBy.Entity), to, nil
}

// recipientIDs returns the key ids of the public-key encrypted session
// key packets that lead the OpenPGP message cipher, at most
// MaxRecipients of them.
func recipientIDs(cipher []byte) ([]uint64, error) {
	cr, err := unarmor(cipher, messageBlock)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	packets := packet.NewReader(cr)
	for {
		p, err := packets.Next()
		if err != nil {
			return ids, nil // ReadMessage reports it
		}
		ek, ok := p.(*packet.EncryptedKey)
		if !ok {
			return ids, nil
		}
		if len(ids) == MaxRecipients {
			return nil, fmt.Errorf("more than %d recipients", MaxRecipients)
		}
		ids = append(ids, ek.KeyId)
	}
}

// recipients names each key id: the fingerprint of the key in el that has
// it as primary or subkey id, else the id in hex.
func recipients(el openpgp.EntityList, ids []uint64) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		name := fmt.Sprintf("%016X", id)
		if keys := el.KeysById(id); id != 0 && len(keys) > 0 {
			name = fingerprint(keys[0].Entity)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// fingerprint returns the fingerprint of e's primary key in keysync's
// form.
func fingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}
