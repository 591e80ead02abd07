// Package message is the envelope of the base protocol (doc/protocol.md
// §10.1): every sync message is an RFC 5322 message from the own address to
// itself that carries the UPER payload as an attachment.
//
//   - A message in clear (security context unencrypted: the Beacon) is a
//     multipart/mixed message with the body text, the payload, a detached
//     signature over exactly the payload bytes (application/pEp.sign,
//     electronic_signature.asc) and, when asked for, the sender's public
//     key (application/pgp-keys, sender_key.asc).
//   - An encrypted message (untrusted, trusted and attach_own_keys_*) is
//     PGP/MIME (RFC 3156 multipart/encrypted) in p≡p message format 2.x: the
//     OpenPGP message, encrypted to the keys the caller names and signed,
//     holds an inner message (X-pEp-Wrapped-Message-Info: INNER,
//     X-pEp-Sender-FPR) with the body text, the payload, the optional
//     public key and one own.key attachment per secret key handed in (the
//     reference puts all keys, armored, in one own.key; keysync writes one
//     key per attachment, and Open returns each attachment as it came: the
//     device reads both forms).
//
// The package does MIME only: signing, encryption and their checks are the
// Crypto's (pgp.Keyring implements it), and which keys a message is
// encrypted to is the security policy's (fsm.Recipients). Open reads
// hostile input within fixed bounds (MaxSize, MaxParts, MaxDepth) and
// answers with an error, never a panic; what it returns is authenticated
// by a verified signature.
package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// Limits of Open and Seal.
const (
	MaxSize    = 16 << 20 // bytes of a whole message, as sent or received
	MaxParts   = 64       // MIME entities of a message, the inner message's included
	MaxDepth   = 4        // nesting of multipart entities; the encryption counts as one
	MaxKeyRefs = 20       // key attachments (public keys and own.key), as the reference takes (doc/protocol.md §10.4)
)

// Kind is the PDU a payload holds.
type Kind int

// The payload kinds.
const (
	Sync         Kind = iota + 1 // a wire Sync PDU: application/pEp.sync, sync.pEp
	Distribution                 // a wire Distribution PDU: application/pEp.distribution, distribution.pEp
	TrustSync                    // a trustsync update (doc/protocol.md §19): application/pEp.trustsync, trustsync.pEp
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Sync:
		return "Sync"
	case Distribution:
		return "Distribution"
	case TrustSync:
		return "TrustSync"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Media types, file names and header values of the envelope.
const (
	typeSync         = "application/pep.sync" // media types compare in lower case
	typeDistribution = "application/pep.distribution"
	typeTrustSync    = "application/pep.trustsync"
	typeSign         = "application/pep.sign"
	typeKeys         = "application/pgp-keys"
	typeEncrypted    = "application/pgp-encrypted"
	typeOctets       = "application/octet-stream"
	ownKeyFile       = "own.key"
	senderKeyFile    = "sender_key.asc"
	signatureFile    = "electronic_signature.asc"
	pEpVersion       = "3.3"
	messageVersion   = "2.1"
	bodyText         = "This message is part of planck's concept to manage keys.\n\nYou can safely ignore it. It will be deleted automatically.\n"
)

// Crypto is the OpenPGP work a message needs; pgp.Keyring implements it.
// Keys are named by fingerprint.
type Crypto interface {
	// Sign returns a detached, ASCII-armored signature over exactly data.
	Sign(data []byte, signer string) ([]byte, error)
	// Verify checks a detached signature over data and returns its
	// signer; attached are public keys that came with the message.
	Verify(data, sig []byte, attached [][]byte) (signer string, err error)
	// EncryptAndSign returns plain encrypted to the keys to and signed
	// by signer, ASCII-armored.
	EncryptAndSign(plain []byte, signer string, to []string) ([]byte, error)
	// DecryptAndVerify decrypts a signed OpenPGP message, checks its
	// signature and returns the plaintext, the signer and the recipients.
	// A signer it does not know may be one of the public keys that
	// keysInside finds in the plaintext.
	DecryptAndVerify(cipher []byte, keysInside func(plain []byte) [][]byte) (plain []byte, signer string, to []string, err error)
	// PublicKey returns the ASCII-armored public key fpr.
	PublicKey(fpr string) ([]byte, error)
}

// Message is a sync message to seal.
type Message struct {
	From    string // the own address; required
	To      string // "" means From: the channel is the own address
	Kind    Kind
	Payload []byte // UPER bytes of the PDU
	Signer  string // fingerprint of the own key that signs; required
	// Sign adds a detached signature over the payload
	// (application/pEp.sign). A message in clear must have it; in an
	// encrypted message it is optional (Distribution ManagedGroup).
	Sign bool
	// EncryptTo are the fingerprints the message is encrypted to
	// (fsm.Recipients of its security context); empty means in clear.
	EncryptTo []string
	// AttachPublic attaches the signer's public key (sender_key.asc).
	AttachPublic bool
	// OwnKeys are secret keys to ship, one own.key attachment each, inside
	// the encryption; a message in clear cannot carry them.
	OwnKeys [][]byte
	Date    time.Time // zero means now
}

// Opened is a received message whose signature verified.
type Opened struct {
	From    string // the sender address (of the inner message when encrypted)
	To      string // the first recipient address
	Kind    Kind
	Payload []byte
	// Signer is the fingerprint of the key whose signature verified: the
	// detached signature's for a message in clear, the OpenPGP message's
	// for an encrypted one (which a detached signature, if any, must
	// match). The key is the Crypto's or one of PublicKeys.
	Signer string
	// Encrypted tells whether the message was encrypted; EncryptedTo are
	// then its recipients as Crypto.Decrypt names them.
	Encrypted   bool
	EncryptedTo []string
	PublicKeys  [][]byte // attached public keys (application/pgp-keys), as they came
	OwnKeys     [][]byte // own.key attachments (secret keys), only ever from inside the encryption
}

// subject returns the Subject of a message of kind k.
func subject(k Kind) string {
	return "planck key management message (" + k.String() + ") - please ignore"
}

// Seal builds the RFC 5322 message m describes, signing and encrypting
// it with c. m needs From, Kind, Payload and Signer (a fingerprint: 40
// hex digits, as are EncryptTo's); a message in clear needs Sign and
// cannot carry OwnKeys. The result is at most MaxSize bytes.
func Seal(m Message, c Crypto) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	to := m.To
	if to == "" {
		to = m.From
	}
	h := envelopeHeader(m, to)
	if len(m.EncryptTo) == 0 {
		addRaw(&h.Header, "X-pEp-Version", pEpVersion)
		var b bytes.Buffer
		if err := writeContent(&b, h, m, c); err != nil {
			return nil, err
		}
		return sized(b.Bytes())
	}
	inner := envelopeHeader(m, to)
	addRaw(&inner.Header, "X-pEp-Version", pEpVersion)
	addRaw(&inner.Header, "X-pEp-Message-Version", messageVersion)
	addRaw(&inner.Header, "X-pEp-Wrapped-Message-Info", "INNER")
	addRaw(&inner.Header, "X-pEp-Sender-FPR", m.Signer)
	var plain bytes.Buffer
	if err := writeContent(&plain, inner, m, c); err != nil {
		return nil, err
	}
	cipher, err := c.EncryptAndSign(plain.Bytes(), m.Signer, m.EncryptTo)
	if err != nil {
		return nil, fmt.Errorf("message: seal: %w", err)
	}
	addRaw(&h.Header, "X-pEp-Version", pEpVersion)
	h.SetContentType("multipart/encrypted", map[string]string{"protocol": typeEncrypted})
	var b bytes.Buffer
	w, err := gomessage.CreateWriter(&b, h.Header)
	if err != nil {
		return nil, fmt.Errorf("message: seal: %w", err)
	}
	var ph gomessage.Header
	ph.SetContentType(typeEncrypted, nil)
	ph.Set("Content-Description", "PGP/MIME version identification")
	if err := writePart(w, ph, []byte("Version: 1\r\n")); err != nil {
		return nil, err
	}
	var ch gomessage.Header
	ch.SetContentType(typeOctets, map[string]string{"name": "msg.asc"})
	ch.SetContentDisposition("inline", map[string]string{"filename": "msg.asc"})
	ch.Set("Content-Description", "OpenPGP encrypted message")
	if err := writePart(w, ch, crlf(cipher)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("message: seal: %w", err)
	}
	return sized(b.Bytes())
}

// sized returns b if it is within MaxSize.
func sized(b []byte) ([]byte, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("message: sealed message of %d bytes, more than %d", len(b), MaxSize)
	}
	return b, nil
}

// check reports what makes m unsealable.
func (m Message) check() error {
	switch {
	case m.From == "":
		return errors.New("message: seal: no From address")
	case m.Kind != Sync && m.Kind != Distribution && m.Kind != TrustSync:
		return fmt.Errorf("message: seal: payload kind %v", m.Kind)
	case len(m.Payload) == 0:
		return errors.New("message: seal: empty payload")
	case m.Signer == "":
		return errors.New("message: seal: no signer: every message is signed")
	case len(m.EncryptTo) == 0 && !m.Sign:
		return errors.New("message: seal: a message in clear needs its detached signature (Sign)")
	case len(m.EncryptTo) == 0 && len(m.OwnKeys) > 0:
		return errors.New("message: seal: own (secret) keys only travel encrypted")
	case len(m.OwnKeys)+btoi(m.AttachPublic) > MaxKeyRefs:
		return fmt.Errorf("message: seal: %d key attachments, more than %d", len(m.OwnKeys)+btoi(m.AttachPublic), MaxKeyRefs)
	}
	for _, f := range append([]string{m.Signer}, m.EncryptTo...) {
		if !isFingerprint(f) {
			return fmt.Errorf("message: seal: key %s is not a fingerprint (40 hex digits)", cut(f))
		}
	}
	for _, a := range []string{m.From, m.To} {
		if strings.ContainsAny(a, "\r\n<>\x00") {
			return fmt.Errorf("message: seal: address %q", a)
		}
	}
	return nil
}

// isFingerprint reports whether f is a v4 fingerprint: 40 hex digits.
func isFingerprint(f string) bool {
	if len(f) != 40 {
		return false
	}
	for _, c := range f {
		if !strings.ContainsRune("0123456789ABCDEFabcdef", c) {
			return false
		}
	}
	return true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// envelopeHeader returns the header every message has (doc/protocol.md
// §10.1).
func envelopeHeader(m Message, to string) mail.Header {
	var h mail.Header
	h.SetAddressList("From", []*mail.Address{{Address: m.From}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	h.SetSubject(subject(m.Kind))
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	_ = h.GenerateMessageIDWithHostname("keysync") // not the host's name; fails only without randomness
	addRaw(&h.Header, "pEp-auto-consume", "yes")
	addRaw(&h.Header, "In-Reply-To", "<pEp-auto-consume@pEp.foundation>")
	return h
}

// addRaw adds the header field k: v spelled as given (Set would write
// Pep-Auto-Consume); k and v are the package's constants or checked
// fingerprints.
func addRaw(h *gomessage.Header, k, v string) {
	h.AddRaw([]byte(k + ": " + v + "\r\n"))
}

// writeContent writes, under header h, the multipart/mixed content of m:
// body text, payload, signature and key attachments.
func writeContent(out io.Writer, h mail.Header, m Message, c Crypto) error {
	h.SetContentType("multipart/mixed", nil)
	w, err := gomessage.CreateWriter(out, h.Header)
	if err != nil {
		return fmt.Errorf("message: seal: %w", err)
	}
	var th gomessage.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	if err := writePart(w, th, []byte(bodyText)); err != nil {
		return err
	}
	mt, file := "application/pEp.sync", "sync.pEp"
	switch m.Kind {
	case Distribution:
		mt, file = "application/pEp.distribution", "distribution.pEp"
	case TrustSync:
		mt, file = "application/pEp.trustsync", "trustsync.pEp"
	}
	if err := writeAttachment(w, mt, file, "base64", m.Payload); err != nil {
		return err
	}
	if m.Sign {
		sig, err := c.Sign(m.Payload, m.Signer)
		if err != nil {
			return fmt.Errorf("message: seal: %w", err)
		}
		if err := writeAttachment(w, "application/pEp.sign", signatureFile, "7bit", sig); err != nil {
			return err
		}
	}
	if m.AttachPublic {
		pub, err := c.PublicKey(m.Signer)
		if err != nil {
			return fmt.Errorf("message: seal: %w", err)
		}
		if err := writeAttachment(w, typeKeys, senderKeyFile, "7bit", pub); err != nil {
			return err
		}
	}
	for _, k := range m.OwnKeys {
		if err := writeAttachment(w, typeOctets, ownKeyFile, "base64", k); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("message: seal: %w", err)
	}
	return nil
}

// writeAttachment writes an attachment part of media type mt named file,
// in transfer encoding enc: base64 for binary data, 7bit for ASCII armor
// (with CRLF line ends).
func writeAttachment(w *gomessage.Writer, mt, file, enc string, body []byte) error {
	var h gomessage.Header
	h.Set("Content-Type", mt)
	h.SetContentDisposition("attachment", map[string]string{"filename": file})
	h.Set("Content-Transfer-Encoding", enc)
	if enc == "7bit" {
		body = crlf(body)
	}
	return writePart(w, h, body)
}

// crlf returns the text b with every line ending in CRLF, as mail text
// has (RFC 5322, section 2.3); OpenPGP armor is written with bare LFs, and its
// readers take either.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// writePart writes a part with header h and body to the multipart w.
func writePart(w *gomessage.Writer, h gomessage.Header, body []byte) error {
	pw, err := w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("message: seal: %w", err)
	}
	if _, err := pw.Write(body); err != nil {
		return fmt.Errorf("message: seal: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("message: seal: %w", err)
	}
	return nil
}

// Open parses raw, a received message of at most MaxSize bytes, decrypts
// it when it is encrypted, verifies its signature with c and returns what
// it carries. Anything Open cannot authenticate is an error: a message in
// clear without a good detached signature over its payload, an encrypted
// one that is not signed or not for a key c holds, an inner message whose
// X-pEp-Sender-FPR or detached signature names another key than the
// OpenPGP signature, own keys outside the encryption, an encrypted
// message whose inner From is not the envelope's, and a message without
// exactly one payload.
//
// Open authenticates; it does not decide. The caller checks that From is
// the own address, that Signer and EncryptedTo suit the payload's security
// context (fsm.Accept), and which attached keys, if any, to import.
func Open(raw []byte, c Crypto) (op *Opened, err error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("message: open: %d bytes, more than %d", len(raw), MaxSize)
	}
	outer, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return nil, fmt.Errorf("message: open: header: %s", cut(err.Error()))
	}
	from, to, err := addresses(mail.Header{Header: outer.Header})
	if err != nil {
		return nil, fmt.Errorf("message: open: %w", err)
	}
	r := &reader{}
	mt, params, _ := outer.Header.ContentType()
	if mt == "multipart/encrypted" {
		if p := strings.ToLower(params["protocol"]); p != typeEncrypted {
			return nil, fmt.Errorf("message: open: multipart/encrypted of protocol %s, want %s", cut(p), typeEncrypted)
		}
		return r.openEncrypted(outer, from, c)
	}
	if err := r.walk(outer, 0); err != nil {
		return nil, fmt.Errorf("message: open: %w", err)
	}
	if len(r.ownKeys) > 0 {
		return nil, errors.New("message: open: own (secret) keys in a message in clear")
	}
	if r.sig == nil {
		return nil, errors.New("message: open: a message in clear without a detached signature (application/pEp.sign)")
	}
	op, err = r.opened(from, to)
	if err != nil {
		return nil, err
	}
	if op.Signer, err = c.Verify(op.Payload, r.sig, op.PublicKeys); err != nil {
		return nil, fmt.Errorf("message: open: detached signature: %w", err)
	}
	return op, nil
}

// openEncrypted opens the PGP/MIME message outer, whose envelope is from
// the address from.
func (r *reader) openEncrypted(outer *gomessage.Entity, from string, c Crypto) (*Opened, error) {
	cipher, err := r.encryptedPart(outer)
	if err != nil {
		return nil, fmt.Errorf("message: open: PGP/MIME: %w", err)
	}
	plain, signer, rcpts, err := c.DecryptAndVerify(cipher, keysInside)
	if err != nil {
		return nil, fmt.Errorf("message: open: %w", err)
	}
	if len(plain) > MaxSize {
		return nil, fmt.Errorf("message: open: decrypted message of %d bytes, more than %d", len(plain), MaxSize)
	}
	r.secret = true
	inner, err := gomessage.Read(bytes.NewReader(plain))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return nil, errors.New("message: open: the decrypted message has a malformed header")
	}
	ih := mail.Header{Header: inner.Header}
	if f := ih.Get("X-pEp-Sender-FPR"); f != "" && !strings.EqualFold(strings.TrimSpace(f), signer) {
		return nil, fmt.Errorf("message: open: X-pEp-Sender-FPR %s is not the signer %s", cut(f), signer)
	}
	f, to, err := addresses(ih)
	if err != nil {
		return nil, fmt.Errorf("message: open: decrypted message: %w", err)
	}
	if !strings.EqualFold(f, from) {
		return nil, fmt.Errorf("message: open: the decrypted message is from %s, the envelope from %s", cut(f), cut(from))
	}
	if err := r.walk(inner, 1); err != nil {
		return nil, fmt.Errorf("message: open: decrypted message: %w", err)
	}
	op, err := r.opened(f, to)
	if err != nil {
		return nil, err
	}
	op.Signer, op.Encrypted, op.EncryptedTo = signer, true, rcpts
	if r.sig != nil {
		s, err := c.Verify(op.Payload, r.sig, op.PublicKeys)
		if err != nil {
			return nil, fmt.Errorf("message: open: detached signature: %w", err)
		}
		if !strings.EqualFold(s, signer) {
			return nil, fmt.Errorf("message: open: detached signature by %s, the message signed by %s", s, signer)
		}
	}
	return op, nil
}

// keysInside returns the public keys attached in plain, a decrypted
// inner message, or nil if it cannot be read.
func keysInside(plain []byte) [][]byte {
	inner, err := gomessage.Read(bytes.NewReader(plain))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return nil
	}
	r := &reader{secret: true}
	if err := r.walk(inner, 1); err != nil {
		return nil
	}
	return r.pubKeys
}

// encryptedPart returns the OpenPGP message of the multipart/encrypted
// entity e (RFC 3156, section 4): a version part application/pgp-encrypted, then
// the data as application/octet-stream.
func (r *reader) encryptedPart(e *gomessage.Entity) ([]byte, error) {
	mr := e.MultipartReader()
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !gomessage.IsUnknownCharset(err) {
			return nil, fmt.Errorf("part %d: %w", len(parts)+1, r.mimeErr(err))
		}
		if r.parts++; r.parts > MaxParts || len(parts) == 2 {
			return nil, errors.New("more than the two parts of RFC 3156")
		}
		mt, _, _ := p.Header.ContentType()
		want := typeEncrypted
		if len(parts) == 1 {
			want = typeOctets
		}
		if mt != want {
			return nil, fmt.Errorf("part %d is %s, want %s", len(parts)+1, cut(mt), want)
		}
		b, err := io.ReadAll(io.LimitReader(p.Body, MaxSize+1))
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", len(parts)+1, r.mimeErr(err))
		}
		parts = append(parts, b)
	}
	if len(parts) != 2 {
		return nil, fmt.Errorf("%d parts, want the two of RFC 3156", len(parts))
	}
	if !strings.HasPrefix(strings.TrimSpace(string(parts[0])), "Version: 1") {
		return nil, errors.New("no \"Version: 1\" in the application/pgp-encrypted part")
	}
	return parts[1], nil
}

// addresses returns the first From and To addresses of h.
func addresses(h mail.Header) (from, to string, err error) {
	f, err := h.AddressList("From")
	if err != nil || len(f) == 0 {
		return "", "", errors.New("no valid From address")
	}
	t, err := h.AddressList("To")
	if err != nil {
		return "", "", errors.New("malformed To address")
	}
	from = f[0].Address
	if len(t) > 0 {
		to = t[0].Address
	}
	return from, to, nil
}

// reader collects the parts of a message Open reads.
type reader struct {
	parts   int  // MIME entities seen
	secret  bool // reading decrypted content: errors quote none of it
	payload []byte
	kind    Kind
	npay    int // payload parts seen
	sig     []byte
	pubKeys [][]byte
	ownKeys [][]byte
}

// walk reads entity e at nesting depth, and its parts.
func (r *reader) walk(e *gomessage.Entity, depth int) error {
	if r.parts++; r.parts > MaxParts {
		return fmt.Errorf("more than %d MIME parts", MaxParts)
	}
	if depth > MaxDepth {
		return fmt.Errorf("multipart nested more than %d deep", MaxDepth)
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && !gomessage.IsUnknownCharset(err) {
				if gomessage.IsUnknownEncoding(err) {
					continue // a part keysync cannot decode is not one of its own
				}
				return r.mimeErr(err)
			}
			if err := r.walk(p, depth+1); err != nil {
				return err
			}
		}
	}
	mt, _, err := e.Header.ContentType()
	if err != nil {
		return nil // not a part of the envelope
	}
	_, dp, _ := e.Header.ContentDisposition()
	var dst *[][]byte
	switch {
	case mt == typeSync, mt == typeDistribution, mt == typeTrustSync:
		r.kind = Sync
		switch mt {
		case typeDistribution:
			r.kind = Distribution
		case typeTrustSync:
			r.kind = TrustSync
		}
		r.npay++
	case mt == typeSign:
		if r.sig != nil {
			return errors.New("more than one detached signature")
		}
	case mt == typeKeys:
		dst = &r.pubKeys
	case strings.EqualFold(dp["filename"], ownKeyFile):
		dst = &r.ownKeys
	default:
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, MaxSize+1))
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, r.mimeErr(err))
	}
	switch {
	case dst != nil:
		if len(r.pubKeys)+len(r.ownKeys) >= MaxKeyRefs {
			return fmt.Errorf("more than %d key attachments", MaxKeyRefs)
		}
		*dst = append(*dst, b)
	case mt == typeSign:
		r.sig = b
	default:
		r.payload = b
	}
	return nil
}

// mimeErr returns err as Open reports it: in decrypted content without
// its text, which may quote the content.
func (r *reader) mimeErr(err error) error {
	if r.secret {
		return errors.New("malformed MIME")
	}
	return fmt.Errorf("malformed MIME: %s", cut(err.Error()))
}

// opened returns what the reader collected, with exactly one payload.
func (r *reader) opened(from, to string) (*Opened, error) {
	switch {
	case r.npay == 0:
		return nil, errors.New("message: open: no payload (application/pEp.sync, application/pEp.distribution or application/pEp.trustsync)")
	case r.npay > 1:
		return nil, fmt.Errorf("message: open: %d payloads, want one", r.npay)
	case len(r.payload) == 0:
		return nil, errors.New("message: open: empty payload")
	}
	return &Opened{From: from, To: to, Kind: r.kind, Payload: r.payload, PublicKeys: r.pubKeys, OwnKeys: r.ownKeys}, nil
}

// cut shortens s, taken from the input, for an error message.
func cut(s string) string {
	const n = 64
	if len(s) > n {
		s = s[:n] + "…"
	}
	return fmt.Sprintf("%q", s)
}
