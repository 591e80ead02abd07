package app

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/dsader"
	"github.com/keysync/keysync/format/javaprops"
	"github.com/keysync/keysync/format/ofcaes"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/excerpt"
)

func init() { register(chatSecure{}) }

// chatSecure is ChatSecure (once Gibberbot) on Android, reached through
// the files a desktop can hold (doc/formats.md §6.7): the exchange file
// otr_keystore.ofcaes, which ChatSecure imports (read and written,
// encrypted, §9), and the old plaintext keystore otr_keystore (read).
// ChatSecure's own store is app-private on the phone: keysync makes the
// exchange file in a folder of this computer and the user copies it to
// the phone's storage root.
//
// The keystore files every key under a JID, not under a local account:
// a contact's fingerprint and verification belong to the phone, whichever
// account talks to the contact. Reading files them under every local
// account of the keystore; writing marks a fingerprint verified when any
// local account has verified it.
type chatSecure struct{}

// File names (doc/formats.md §5).
const (
	chatSecureExchange  = "otr_keystore.ofcaes"
	chatSecurePlaintext = "otr_keystore"
)

// maxKeystoreSize bounds the keystore files read: a phone's keystore of
// ten thousand contacts takes a few MB.
const maxKeystoreSize = 32 << 20

// ChatSecure's property suffixes (doc/formats.md §6.7).
const (
	csPrivateKey  = ".privateKey"
	csPublicKey   = ".publicKey"
	csFingerprint = ".fingerprint"
	csVerified    = ".publicKey.verified"
)

// Name returns "chatsecure".
func (chatSecure) Name() string { return "chatsecure" }

// DefaultDir returns the current folder: ChatSecure runs on a phone, so
// its exchange file is made (and looked for) where keysync is run.
func (chatSecure) DefaultDir() (string, error) { return os.Getwd() }

// Read reads otr_keystore (plaintext) and otr_keystore.ofcaes (decrypted
// in memory with the password req.Prompt gives) in req.Dir; when both are
// there, the exchange file's properties win, as importing it does.
func (c chatSecure) Read(req ReadRequest) (*keysync.Model, []Notice, error) {
	ks := &csKeystore{source: req.Source}
	found := false
	for _, name := range []string{chatSecurePlaintext, chatSecureExchange} {
		path := filepath.Join(req.Dir, name)
		data, err := readBounded(req, path)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		found = true
		if name == chatSecureExchange {
			data, err = decryptKeystore(req.Prompt, path, data)
			if err != nil {
				return nil, nil, err
			}
		}
		err = ks.load(data, path, name == chatSecureExchange)
		clear(data)
		if err != nil {
			return nil, nil, err
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("chatsecure: %w in %s (%s or %s)", ErrNoStore, req.Dir, chatSecureExchange, chatSecurePlaintext)
	}
	m, err := ks.model()
	if err != nil {
		return nil, nil, err
	}
	for i := range ks.notices {
		ks.notices[i].Source = req.Source
	}
	return m, ks.notices, nil
}

// readBounded reads a whole keystore file, refusing one larger than
// maxKeystoreSize.
func readBounded(req ReadRequest, path string) ([]byte, error) {
	f, err := req.Open(path)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeystoreSize+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeystoreSize {
		return nil, fmt.Errorf("%s: more than a keystore's %d bytes", path, maxKeystoreSize)
	}
	return data, nil
}

// ErrNoPassword is returned when an encrypted keystore is read and no one
// can be asked for its password.
var ErrNoPassword = errors.New("encrypted, and no password was given (--password-file FILE)")

// ErrWrongPassword is wrapped by the error of reading an exchange file
// with a password that does not open it.
var ErrWrongPassword = ofcaes.ErrWrongPassword

// decryptKeystore asks for the password of the exchange file at path and
// returns its plaintext. ChatSecure removes every line break and space
// from the scanned password; so does this. A wrong password is an error,
// whether the padding shows it or the plaintext is not a keystore.
func decryptKeystore(prompt Prompt, path string, data []byte) ([]byte, error) {
	if prompt == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNoPassword)
	}
	pw, err := prompt("password of the ChatSecure keystore " + path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pw = stripPassword(pw)
	defer clear(pw)
	if len(pw) == 0 {
		return nil, fmt.Errorf("%s: the password is empty", path)
	}
	plain, err := ofcaes.Decrypt(data, pw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !looksLikeKeystore(plain) {
		clear(plain)
		return nil, fmt.Errorf("%s: %w (the decrypted text is not a ChatSecure keystore)", path, ErrWrongPassword)
	}
	return plain, nil
}

// stripPassword removes '\n', '\r' and ' ' from pw in place, as ChatSecure
// does with the scanned text (doc/formats.md §6.7).
func stripPassword(pw []byte) []byte {
	out := pw[:0]
	for _, c := range pw {
		if c != '\n' && c != '\r' && c != ' ' {
			out = append(out, c)
		}
	}
	clear(pw[len(out):])
	return out
}

// looksLikeKeystore reports whether plain is a properties file with at
// least one ChatSecure property (doc/formats.md §9): what tells a right
// password from one of the wrong ones that give valid padding.
func looksLikeKeystore(plain []byte) bool {
	f, err := javaprops.Parse(plain)
	if err != nil {
		return false
	}
	for _, e := range f.Entries() {
		if _, _, ok := csProperty(e.Key); ok {
			return true
		}
	}
	return false
}

// csProperty splits a property name into its JID and suffix (one of the
// cs* constants). For a verification, jid is "<bareJID>.<fingerprint>".
func csProperty(key string) (jid, suffix string, ok bool) {
	for _, s := range []string{csVerified, csPrivateKey, csPublicKey, csFingerprint} {
		if j, found := strings.CutSuffix(key, s); found && j != "" {
			return j, s, true
		}
	}
	return "", "", false
}

// csValue is a property's value and where it was read.
type csValue struct {
	value string
	path  string
	line  int
}

// at names where the value was read, for errors and notices.
func (v *csValue) at() string { return fmt.Sprintf("%s:%d", v.path, v.line) }

// csID is what a keystore holds under one JID.
type csID struct {
	jid                     string
	private, public, fprint *csValue
}

// csToken is one verification property.
type csToken struct {
	jid   string // the bare JID as written
	fp    keysync.Fingerprint
	value *csValue
}

// csKeystore collects the properties of a keystore's files.
type csKeystore struct {
	source  string
	ids     map[string]*csID
	order   []string // JIDs in the order first read
	tokens  map[string]int
	verify  []csToken
	notices []Notice
}

// load adds the properties of one file; a later file's property replaces
// an earlier one of the same name.
func (ks *csKeystore) load(data []byte, path string, encrypted bool) error {
	f, err := javaprops.Parse(data)
	if err != nil {
		if encrypted {
			// The message may quote the plaintext: say only where.
			return fmt.Errorf("%s: the decrypted keystore is not a properties file", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if ks.ids == nil {
		ks.ids, ks.tokens = map[string]*csID{}, map[string]int{}
	}
	other := 0
	for _, e := range f.Entries() {
		v := &csValue{value: e.Value, path: path, line: e.Line}
		jid, suffix, ok := csProperty(e.Key)
		if !ok {
			other++
			continue
		}
		if suffix == csVerified {
			bare, hexfp, _ := cutLast(jid, ".")
			fp, err := parseFingerprint(hexfp)
			if err != nil || bare == "" {
				ks.notices = append(ks.notices, Notice{Source: ks.source, File: path, Line: e.Line,
					Msg: fmt.Sprintf("verification %s: no 40-digit fingerprint before %s; skipped", excerpt.Quote(e.Key), csVerified)})
				continue
			}
			k := strings.ToUpper(hexfp) + " " + bare
			if i, ok := ks.tokens[k]; ok {
				ks.verify[i].value = v
				continue
			}
			ks.tokens[k] = len(ks.verify)
			ks.verify = append(ks.verify, csToken{jid: bare, fp: fp, value: v})
			continue
		}
		id := ks.ids[jid]
		if id == nil {
			id = &csID{jid: jid}
			ks.ids[jid] = id
			ks.order = append(ks.order, jid)
		}
		switch suffix {
		case csPrivateKey:
			id.private = v
		case csPublicKey:
			id.public = v
		case csFingerprint:
			id.fprint = v
		}
	}
	if other > 0 {
		ks.notices = append(ks.notices, Notice{Source: ks.source, File: path,
			Msg: fmt.Sprintf("%s that ChatSecure does not use, skipped", count(other, "property"))})
	}
	return nil
}

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+len(sep):], true
}

// parseFingerprint parses 40 hex digits of either case.
func parseFingerprint(s string) (keysync.Fingerprint, error) {
	var sum [20]byte
	if len(s) != 40 {
		return keysync.Fingerprint{}, fmt.Errorf("%d characters, want 40 hex digits", len(s))
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return keysync.Fingerprint{}, errors.New("not 40 hex digits")
	}
	return keysync.OTRFingerprint(sum), nil
}

// model turns the properties into the model: a local account for every
// JID with a private key, and for every other JID's key or fingerprint
// and every verification a known fingerprint of each local account.
func (ks *csKeystore) model() (*keysync.Model, error) {
	m := &keysync.Model{}
	var names nameNotices
	var locals []*keysync.Origin
	for _, jid := range ks.order {
		id := ks.ids[jid]
		if id.private == nil {
			continue
		}
		key, err := ks.localKey(id)
		if err != nil {
			return nil, err
		}
		addr, problem := canonicalJID(jid)
		if problem != "" {
			names.add(id.private.path, id.private.line, "account", "xmpp", jid, problem)
		}
		// ChatSecure keeps verified true or false: its trust is coarse.
		o := &keysync.Origin{Source: ks.source, App: "chatsecure", Local: keysync.Account{Protocol: "xmpp", Address: addr}, Name: jid, CoarseTrust: true}
		la := m.AddAccount(o.Local)
		la.AddOrigin(o)
		la.Keys = append(la.Keys, keysync.Key{PrivateKey: key, Origin: o, Line: id.private.line})
		locals = append(locals, o)
	}

	// The contacts' fingerprints, in the order read, once per canonical
	// contact and fingerprint, with the first spelling read.
	type row struct {
		contact string
		fp      keysync.Fingerprint
	}
	var rows []row
	spelled := map[row]string{}
	add := func(name string, fp keysync.Fingerprint, path string, line int) row {
		contact, problem := canonicalJID(name)
		if problem != "" {
			names.add(path, line, "contact", "xmpp", name, problem)
		}
		r := row{contact, fp}
		if _, ok := spelled[r]; !ok {
			spelled[r] = name
			rows = append(rows, r)
		}
		return r
	}
	for _, jid := range ks.order {
		id := ks.ids[jid]
		if id.private != nil {
			continue
		}
		fp, v, err := ks.remoteFingerprint(id)
		if err != nil {
			return nil, err
		}
		if v != nil {
			add(jid, fp, v.path, v.line)
		}
	}
	verified := map[row]*csValue{}
	for _, t := range ks.verify {
		verified[add(t.jid, t.fp, t.value.path, t.value.line)] = t.value
	}
	if len(rows) > 0 && len(locals) == 0 {
		o := &keysync.Origin{Source: ks.source, App: "chatsecure", Local: keysync.Account{Protocol: "xmpp"}, CoarseTrust: true}
		la := m.AddAccount(o.Local)
		la.AddOrigin(o)
		la.Unmapped = "ChatSecure files contacts' keys under no account, and this keystore holds no key of its own"
		locals = append(locals, o)
	}
	for _, r := range rows {
		trust := keysync.Unverified
		if v := verified[r]; v != nil {
			switch v.value {
			case "true":
				trust = keysync.Verified
			case "false":
			default:
				ks.notices = append(ks.notices, Notice{Source: ks.source, File: v.path, Line: v.line,
					Msg: fmt.Sprintf("verification of %s is %s, neither true nor false: taken as not verified", excerpt.Quote(r.contact), excerpt.Quote(v.value))})
			}
		}
		for _, o := range locals {
			f := keysync.KnownFingerprint{Contact: r.contact, Fingerprint: r.fp, Trust: trust, Origin: o}
			if name := spelled[r]; name != r.contact {
				f.ContactName = name
			}
			m.Fingerprints = append(m.Fingerprints, f)
		}
	}
	ks.notices = append(ks.notices, names.list()...)
	for _, la := range m.Accounts {
		if la.Unmapped != "" {
			ks.notices = append(ks.notices, Notice{Source: ks.source, Msg: "chatsecure: " + la.Unmapped + "; its contacts' fingerprints are kept under no account"})
		}
	}
	return m, nil
}

// localKey decodes the private key of id and checks it against the
// public key and fingerprint stored with it.
func (ks *csKeystore) localKey(id *csID) (*keysync.DSAKey, error) {
	der, err := dsader.DecodeBase64(id.private.value)
	if err != nil {
		return nil, fmt.Errorf("%s: %s%s: %v", id.private.at(), excerpt.Quote(id.jid), csPrivateKey, err)
	}
	key, err := dsader.ParsePrivate(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %s%s: %v", id.private.at(), excerpt.Quote(id.jid), csPrivateKey, err)
	}
	note := func(v *csValue, msg string) {
		ks.notices = append(ks.notices, Notice{Source: ks.source, File: v.path, Line: v.line, Msg: fmt.Sprintf("%s: %s", excerpt.Quote(id.jid), msg)})
	}
	if err := key.Validate(); err != nil {
		note(id.private, fmt.Sprintf("private key, fingerprint %s: %v", key.Fingerprint().Human(), err))
	}
	if id.public != nil {
		pub, err := decodePublic(id.public)
		switch {
		case err != nil:
			note(id.public, fmt.Sprintf("public key: %v; the private key's is used", err))
		case pub.P.Cmp(key.P) != 0 || pub.Q.Cmp(key.Q) != 0 || pub.G.Cmp(key.G) != 0 || pub.Y.Cmp(key.Y) != 0:
			note(id.public, "the public key is not the private key's; the private key's is used")
		}
	}
	if id.fprint != nil {
		if fp, err := parseFingerprint(id.fprint.value); err != nil || fp != key.Fingerprint() {
			note(id.fprint, fmt.Sprintf("stored fingerprint is not the key's %s; the key's is used", key.Fingerprint().Human()))
		}
	}
	return key, nil
}

// decodePublic decodes a publicKey property.
func decodePublic(v *csValue) (*dsader.PublicKey, error) {
	der, err := dsader.DecodeBase64(v.value)
	if err != nil {
		return nil, err
	}
	return dsader.ParsePublic(der)
}

// remoteFingerprint returns the fingerprint of a contact's id: its public
// key's, else its stored fingerprint, with the property it came from (nil
// when it has neither).
func (ks *csKeystore) remoteFingerprint(id *csID) (keysync.Fingerprint, *csValue, error) {
	var stored keysync.Fingerprint
	if id.fprint != nil {
		f, err := parseFingerprint(id.fprint.value)
		if err != nil {
			return stored, nil, fmt.Errorf("%s: %s%s: %v", id.fprint.at(), excerpt.Quote(id.jid), csFingerprint, err)
		}
		stored = f
	}
	if id.public != nil {
		pub, err := decodePublic(id.public)
		if err != nil {
			return stored, nil, fmt.Errorf("%s: %s%s: %v", id.public.at(), excerpt.Quote(id.jid), csPublicKey, err)
		}
		fp := pub.Fingerprint()
		if id.fprint != nil && stored != fp {
			ks.notices = append(ks.notices, Notice{Source: ks.source, File: id.fprint.path, Line: id.fprint.line,
				Msg: fmt.Sprintf("%s: stored fingerprint is not the public key's %s; the key's is used", excerpt.Quote(id.jid), fp.Human())})
		}
		return fp, id.public, nil
	}
	return stored, id.fprint, nil
}

// Write refuses: the exchange file is encrypted, and only WriteSecret has
// a password.
func (chatSecure) Write(dir, source string, m *keysync.Model) (Plan, []Notice, error) {
	return Plan{}, nil, fmt.Errorf("chatsecure: %s is encrypted: writing it needs a password", filepath.Join(dir, chatSecureExchange))
}

// WriteSecret plans otr_keystore.ofcaes in dir, encrypted with password:
// for every XMPP account its valid DSA key (private key, public key and
// upper-case fingerprint under its bare JID), and for every contact's
// fingerprint that a local account verified (any non-empty trust) the
// verification <bareJID>.<FINGERPRINT>.publicKey.verified=true, upper
// case as current ChatSecure looks it up (doc/formats.md §6.7). The
// plaintext exists only in memory.
//
// Unverified fingerprints are not written: ChatSecure copies every
// property of the file into its store, so "false" would undo a
// verification made on the phone, and it learns contacts' keys when it
// talks to them.
func (chatSecure) WriteSecret(dir, source string, m *keysync.Model, password []byte) (Plan, []Notice, error) {
	pw := stripPassword(bytes.Clone(password))
	defer clear(pw)
	if len(pw) == 0 {
		return Plan{}, nil, errors.New("chatsecure: the password is empty")
	}
	props := map[string]string{}
	var notices []Notice
	skip := func(what, why string) {
		notices = append(notices, Notice{Source: source, Msg: "chatsecure: skipped " + what + ": " + why})
	}
	keys := 0
	for _, la := range m.Accounts {
		if len(la.Keys) == 0 {
			continue
		}
		name := excerpt.Cut(la.Account.String(), excerpt.MaxRunes)
		switch {
		case la.Protocol != "xmpp":
			skip(name+" ("+count(len(la.Keys), "private key")+")", "ChatSecure holds only XMPP accounts")
			continue
		case la.Unmapped != "" || la.Address == "":
			skip(name, "no JID")
			continue
		}
		var key *keysync.DSAKey
		for _, k := range la.Keys {
			d, ok := k.PrivateKey.(*keysync.DSAKey)
			if !ok {
				skip(name+" key of kind "+k.PrivateKey.Kind().String(), "ChatSecure holds only OTR DSA keys")
				continue
			}
			if err := d.Validate(); err != nil {
				skip(name+" key "+d.Fingerprint().Human(), err.Error()+" (it would replace the phone's own key)")
				continue
			}
			if key != nil {
				skip(name+" key "+d.Fingerprint().Human(), "ChatSecure holds one key per account; the first is written")
				continue
			}
			key = d
		}
		if key == nil {
			continue
		}
		priv, err := dsader.MarshalPrivate(key)
		if err != nil {
			return Plan{}, nil, fmt.Errorf("chatsecure: key of %s: %w", name, err)
		}
		pub, err := dsader.MarshalPublic(dsader.Public(key))
		if err != nil {
			return Plan{}, nil, fmt.Errorf("chatsecure: key of %s: %w", name, err)
		}
		props[la.Address+csPrivateKey] = dsader.EncodeBase64(priv)
		clear(priv)
		props[la.Address+csPublicKey] = dsader.EncodeBase64(pub)
		props[la.Address+csFingerprint] = strings.ToUpper(key.Fingerprint().String())
		keys++
	}

	// A fingerprint is verified when any local account verified it; the
	// others are counted once each.
	verified, otherProtocol := 0, 0
	unverified := map[string]bool{}
	for i := range m.Fingerprints {
		f := &m.Fingerprints[i]
		if f.Fingerprint.Kind != keysync.OTRDSA || f.Origin.Local.Protocol != "xmpp" {
			otherProtocol++
			continue
		}
		name := f.Contact + "." + strings.ToUpper(f.Fingerprint.String()) + csVerified
		if !f.Trust.Trusted() {
			unverified[name] = true
			continue
		}
		if _, ok := props[name]; !ok {
			verified++
		}
		props[name] = "true"
	}
	for name := range unverified {
		if _, ok := props[name]; ok {
			delete(unverified, name)
		}
	}
	if otherProtocol > 0 {
		skip(count(otherProtocol, "fingerprint")+" of other protocols or kinds", "ChatSecure holds only XMPP's OTR fingerprints")
	}
	if len(unverified) > 0 {
		notices = append(notices, Notice{Source: source, Msg: fmt.Sprintf("chatsecure: %s not written: ChatSecure learns keys when it talks to a contact, and only verifications are carried over", count(len(unverified), "unverified fingerprint"))})
	}
	if len(props) == 0 {
		return Plan{}, notices, nil
	}

	path := filepath.Join(dir, chatSecureExchange)
	plain := keystoreText(props, time.Now())
	data, same := sameKeystore(path, plain, pw)
	if !same {
		var err error
		data, err = ofcaes.Encrypt(plain, pw, rand.Reader)
		if err != nil {
			clear(plain)
			return Plan{}, nil, fmt.Errorf("chatsecure: %w", err)
		}
	}
	clear(plain)
	summary := count(keys, "private key") + ", " + count(verified, "verified fingerprint")
	return Plan{Files: []File{{Path: path, Content: atomicfile.Bytes(data), Secret: true, Summary: summary, Exchange: true}}}, notices, nil
}

// sameKeystore returns the bytes of the exchange file at path if keysync
// wrote it with password pw and it holds the properties of plain (a
// keystoreText): encrypting them anew (a new salt, a new date) would
// replace a file that says the same, on every sync.
func sameKeystore(path string, plain, pw []byte) ([]byte, bool) {
	data, err := readBounded(ReadRequest{}, path)
	if err != nil {
		return nil, false
	}
	old, err := ofcaes.Decrypt(data, pw)
	if err != nil {
		return nil, false
	}
	defer clear(old)
	body := func(b []byte) ([]byte, bool) {
		const header = "#written by keysync\n#"
		if !bytes.HasPrefix(b, []byte(header)) {
			return nil, false
		}
		_, rest, ok := bytes.Cut(b[len(header):], []byte{'\n'}) // the date
		return rest, ok
	}
	a, okA := body(old)
	b, okB := body(plain)
	if !okA || !okB || !bytes.Equal(a, b) {
		return nil, false
	}
	return data, true
}

// keystoreText writes props as Properties.store does: a comment, the
// date, then key=value lines (here sorted, for a stable file).
func keystoreText(props map[string]string, now time.Time) []byte {
	names := make([]string, 0, len(props))
	n := 64
	for k, v := range props {
		names = append(names, k)
		n += 3*(len(k)+len(v)) + 2 // room for \uXXXX escapes: the buffer does not grow and leave copies behind
	}
	sort.Strings(names)
	b := bytes.NewBuffer(make([]byte, 0, n))
	b.WriteString("#written by keysync\n#" + now.Format("Mon Jan 02 15:04:05 MST 2006") + "\n")
	for _, k := range names {
		b.WriteString(javaprops.EscapeKey(k))
		b.WriteByte('=')
		b.WriteString(javaprops.EscapeValue(props[k]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var _ SecretWriter = chatSecure{}
