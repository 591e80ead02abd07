package device

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// PGP is the Codec of real devices: OpenPGP keys of package pgp (v4,
// Ed25519 and Curve25519) and the envelopes of package message.
type PGP struct {
	Clock fsm.Clock // key creation times; nil: the system clock

	mu     sync.Mutex
	parsed map[string]*pgp.Key // by fpr, "+" for a secret key
}

var _ Codec = (*PGP)(nil)

func (p *PGP) now() fsm.Clock {
	if p.Clock == nil {
		return fsm.SystemClock{}
	}
	return p.Clock
}

// NewKey implements Codec.
func (p *PGP) NewKey(address, name string) (Key, error) {
	k, err := pgp.Generate(address, name, p.now().Now())
	if err != nil {
		return Key{}, err
	}
	sec, err := armorSecret(k.Secret())
	if err != nil {
		return Key{}, err
	}
	return Key{Fpr: k.Fingerprint(), Public: string(k.ArmoredPublic()), Secret: sec}, nil
}

func armorSecret(b []byte) (string, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, "PGP PRIVATE KEY BLOCK", nil)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// ParseKey implements Codec.
func (p *PGP) ParseKey(a string) (Key, error) {
	k, err := pgp.ParseKey([]byte(a))
	if err != nil {
		return Key{}, err
	}
	key := Key{Fpr: k.Fingerprint(), Public: string(k.ArmoredPublic())}
	if k.HasSecret() {
		if key.Secret, err = armorSecret(k.Secret()); err != nil {
			return Key{}, err
		}
	}
	return key, nil
}

// parse returns key parsed, from a cache: parsing is the costly part.
func (p *PGP) parse(key Key) (*pgp.Key, error) {
	id := key.Fpr
	text := key.Public
	if key.Secret != "" {
		id, text = id+"+", key.Secret
	}
	p.mu.Lock()
	k, ok := p.parsed[id]
	p.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := pgp.ParseKey([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", short(key.Fpr), err)
	}
	p.mu.Lock()
	if p.parsed == nil {
		p.parsed = map[string]*pgp.Key{}
	}
	p.parsed[id] = k
	p.mu.Unlock()
	return k, nil
}

func (p *PGP) keyring(ring Ring, extra ...*pgp.Key) (*pgp.Keyring, error) {
	var keys []*pgp.Key
	for _, key := range ring.All() {
		k, err := p.parse(key)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return pgp.NewKeyring(append(keys, extra...)...), nil
}

// Seal implements Codec.
func (p *PGP) Seal(out Outbound, ring Ring) ([]byte, error) {
	kr, err := p.keyring(ring)
	if err != nil {
		return nil, err
	}
	var own [][]byte
	for _, f := range out.Secret {
		k, ok := ring.Key(f)
		if !ok || k.Secret == "" {
			return nil, fmt.Errorf("no secret key %s to attach", short(f))
		}
		own = append(own, []byte(k.Secret))
	}
	// The device keys travel together, as one attachment of armored
	// public keys (message.MaxKeyRefs bounds the attachments).
	var devices []byte
	for _, f := range out.Devices {
		k, ok := ring.Key(f)
		if !ok {
			return nil, fmt.Errorf("no device key %s to attach", short(f))
		}
		devices = append(append(devices, k.Public...), '\n')
	}
	if len(devices) > 0 {
		own = append(own, devices)
	}
	kind := message.Sync
	switch out.Kind {
	case KindDistribution:
		kind = message.Distribution
	case KindTrustSync:
		kind = message.TrustSync
	}
	m := message.Message{From: out.Address, Kind: kind, Payload: out.Payload, Signer: out.Signer,
		Sign: len(out.EncryptTo) == 0, EncryptTo: out.EncryptTo, AttachPublic: true, OwnKeys: own,
		Date: p.now().Now()}
	return message.Seal(m, kr)
}

// Open implements Codec.
func (p *PGP) Open(data []byte, ring Ring) (Inbound, error) {
	kr, err := p.keyring(ring)
	if err != nil {
		return Inbound{}, err
	}
	op, err := message.Open(data, decrypter{kr, p, ring})
	if err != nil {
		return Inbound{}, err
	}
	in := Inbound{From: op.From, Kind: KindSync, Payload: op.Payload, Signer: op.Signer, Encrypted: op.Encrypted}
	switch op.Kind {
	case message.Distribution:
		in.Kind = KindDistribution
	case message.TrustSync:
		in.Kind = KindTrustSync
	}
	for _, b := range op.PublicKeys {
		in.Public = append(in.Public, string(b))
	}
	for _, b := range op.OwnKeys {
		if secrets := secretBlock.FindAll(b, message.MaxKeyRefs+1); len(secrets) > 0 {
			keys, err := referenceOwnKeys(b, secrets)
			if err != nil {
				return Inbound{}, err
			}
			in.Secret = append(in.Secret, keys...)
			if len(in.Secret) > message.MaxKeyRefs {
				return Inbound{}, fmt.Errorf("more than %d secret keys attached", message.MaxKeyRefs)
			}
			continue
		}
		if blocks := publicBlock.FindAll(b, maxDevices+1); len(blocks) > 0 {
			if len(blocks) > maxDevices {
				return Inbound{}, fmt.Errorf("more than %d device keys attached", maxDevices)
			}
			for _, blk := range blocks {
				in.Devices = append(in.Devices, string(blk))
			}
			continue
		}
		if err := secretKey(b); err != nil {
			return Inbound{}, err
		}
		in.Secret = append(in.Secret, string(b))
	}
	return in, nil
}

// secretKey checks that b is one secret key.
func secretKey(b []byte) error {
	k, err := pgp.ParseKey(b)
	if err != nil {
		return fmt.Errorf("attached key: %w", err)
	}
	if !k.HasSecret() {
		return fmt.Errorf("attached key %s has no secret", short(k.Fingerprint()))
	}
	return nil
}

// referenceOwnKeys reads an own.key attachment as the reference engine
// writes it (doc/protocol.md §10.3): for every own key, its armored secret
// key followed by its armored public key, all in one attachment. It
// returns the secret keys, each as one armored block. Every public block
// must be the public part of one of them, and nothing but white space may
// come between the blocks.
func referenceOwnKeys(b []byte, secrets [][]byte) ([]string, error) {
	if len(secrets) > message.MaxKeyRefs {
		return nil, fmt.Errorf("more than %d secret keys in one own.key attachment", message.MaxKeyRefs)
	}
	publics := publicBlock.FindAll(b, len(secrets)+1)
	if len(publics) > len(secrets) {
		return nil, errors.New("more public keys than secret keys in an own.key attachment")
	}
	rest := secretBlock.ReplaceAll(publicBlock.ReplaceAll(b, nil), nil)
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("an own.key attachment with data outside its armored keys")
	}
	var out []string
	fprs := map[string]bool{}
	for _, blk := range secrets {
		k, err := pgp.ParseKey(blk)
		if err != nil {
			return nil, fmt.Errorf("attached key: %w", err)
		}
		if !k.HasSecret() {
			return nil, fmt.Errorf("attached key %s has no secret", short(k.Fingerprint()))
		}
		fprs[k.Fingerprint()] = true
		out = append(out, string(blk))
	}
	for _, blk := range publics {
		k, err := pgp.ParseKey(blk)
		if err != nil {
			return nil, fmt.Errorf("attached key: %w", err)
		}
		if !fprs[k.Fingerprint()] {
			return nil, fmt.Errorf("attached public key %s beside secret keys is not one of theirs", short(k.Fingerprint()))
		}
	}
	return out, nil
}

// decrypter is the message.Crypto of Open: the keyring's, except that an
// encrypted message signed by a key the device does not know yet (the
// group key in the first NegotiationRequestGrouped a joiner sees) is
// verified with the public keys attached inside it, as Verify does for a
// message in clear.
type decrypter struct {
	*pgp.Keyring
	p    *PGP
	ring Ring
}

var (
	publicBlock = regexp.MustCompile(`(?s)-----BEGIN PGP PUBLIC KEY BLOCK-----.*?-----END PGP PUBLIC KEY BLOCK-----`)
	secretBlock = regexp.MustCompile(`(?s)-----BEGIN PGP PRIVATE KEY BLOCK-----.*?-----END PGP PRIVATE KEY BLOCK-----`)
)

// maxDevices bounds the device keys a message may carry.
const maxDevices = 1000

// maxInner bounds the plaintext read to find attached keys.
const maxInner = 16 << 20

// Decrypt implements message.Crypto.
func (d decrypter) Decrypt(cipher []byte) ([]byte, string, []string, error) {
	plain, signer, to, err := d.Keyring.Decrypt(cipher)
	if !errors.Is(err, pgp.ErrUnknownSigner) {
		return plain, signer, to, err
	}
	inner, ierr := d.unverified(cipher)
	if ierr != nil {
		return nil, "", nil, err
	}
	var extra []*pgp.Key
	for _, b := range publicBlock.FindAll(inner, 4) {
		if k, err := pgp.ParseKey(b); err == nil {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil, "", nil, err
	}
	kr, kerr := d.p.keyring(d.ring, extra...)
	if kerr != nil {
		return nil, "", nil, kerr
	}
	return kr.Decrypt(cipher)
}

// unverified decrypts cipher without checking its signature, only to find
// the keys attached inside.
func (d decrypter) unverified(cipher []byte) ([]byte, error) {
	var el openpgp.EntityList
	for _, key := range d.ring.All() {
		if key.Secret == "" {
			continue
		}
		l, err := openpgp.ReadArmoredKeyRing(strings.NewReader(key.Secret))
		if err != nil {
			return nil, err
		}
		el = append(el, l...)
	}
	var r io.Reader = bytes.NewReader(cipher)
	if bytes.HasPrefix(bytes.TrimSpace(cipher), []byte("-----BEGIN")) {
		b, err := armor.Decode(bytes.NewReader(cipher))
		if err != nil {
			return nil, err
		}
		r = b.Body
	}
	md, err := openpgp.ReadMessage(r, el, nil, nil)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(md.UnverifiedBody, maxInner))
}
