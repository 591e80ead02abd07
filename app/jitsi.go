package app

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/dsader"
	"github.com/keysync/keysync/format/javaprops"
	"github.com/keysync/keysync/internal/excerpt"
)

func init() { register(jitsiApp{}) }

// jitsiApp is Jitsi (doc/formats.md §6.6): OTR keys and trust in
// sip-communicator.properties, contacts in contactlist.xml. Writing changes
// only OTR properties of the properties file and keeps every other line as
// it was; contactlist.xml is only read.
type jitsiApp struct{}

// Jitsi's files and property names.
const (
	jitsiProps       = "sip-communicator.properties"
	jitsiContacts    = "contactlist.xml"
	jitsiOTR         = "net.java.sip.communicator.plugin.otr."
	jitsiProtoPrefix = "net.java.sip.communicator.impl.protocol."
	// jitsiMaxFile bounds what is read of either file: a real one has a
	// few hundred kilobytes.
	jitsiMaxFile = 64 << 20
)

// The suffixes of OTR property ids, after the sanitized account or
// contact: the old scheme's keys and flag, the newer per-fingerprint list
// and flags.
const (
	sufPrivateKey  = "_privateKey"
	sufPublicKey   = "_publicKey"
	sufKeyVerified = "_publicKey_verified"
	sufFPList      = "_fingerprints"
	sufFPVerified  = "_fingerprint_verified"
)

// jitsiProtocols are Jitsi's protocol names, the prefix of an ACCOUNT_UID.
var jitsiProtocols = protocols{known: []protocolSpelling{
	{"xmpp", []string{"Jabber", "Google Talk", "Facebook"}},
	{"sip", []string{"SIP"}},
	{"icq", []string{"ICQ"}},
	{"aim", []string{"AIM"}},
	{"yahoo", []string{"Yahoo!"}},
	{"msn", []string{"MSN"}},
	{"irc", []string{"IRC"}},
}}

// Name returns "jitsi".
func (jitsiApp) Name() string { return "jitsi" }

// ProcessNames returns the names Jitsi runs under: its program on macOS
// and Windows, and on Linux, where its launcher execs java, its main class.
func (jitsiApp) ProcessNames() []string {
	return []string{"jitsi", "net.java.sip.communicator.launcher.SIPCommunicator"}
}

// DefaultDir returns Jitsi's folder on this OS (doc/formats.md §5).
func (jitsiApp) DefaultDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "Jitsi"), nil
		}
		return "", errors.New("jitsi: %APPDATA% is not set; name the folder as jitsi:DIR")
	case "darwin":
		return homeDir("Library", "Application Support", "Jitsi")
	}
	return homeDir(".jitsi")
}

func (jitsiApp) spellings() *protocols { return &jitsiProtocols }

// jitsiSpeaks reports whether Jitsi has the canonical protocol.
func jitsiSpeaks(protocol string) bool {
	for _, x := range jitsiProtocols.known {
		if x.canonical == protocol {
			return true
		}
	}
	return false
}

// jitsiID is Jitsi's property id for s (OtrConfigurator): every UTF-16
// unit that is not a letter or digit (Java's Character.isLetterOrDigit)
// becomes '_', and a 'p' goes in front of a leading digit.
func jitsiID(s string) string {
	if s == "" {
		return ""
	}
	u := utf16.Encode([]rune(s))
	var b strings.Builder
	if !utf16.IsSurrogate(rune(u[0])) && unicode.IsDigit(rune(u[0])) {
		b.WriteByte('p')
	}
	for _, c := range u {
		r := rune(c)
		if !utf16.IsSurrogate(r) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// jitsiAccount is one account of sip-communicator.properties.
type jitsiAccount struct {
	UID      string // ACCOUNT_UID, such as "Jabber:me@example.org@example.org"
	Protocol string // PROTOCOL_NAME, or the UID's prefix
	Account  keysync.Account
	problem  string // why the address is not valid in its protocol, or ""
	Line     int
}

// jitsiAccountOf maps an ACCOUNT_UID (with the account's USER_ID and
// PROTOCOL_NAME when known) to the canonical account. Without a USER_ID
// the address is the UID after the protocol, less a final "@server" when
// there are two '@'.
func jitsiAccountOf(uid, userID, protocol string) jitsiAccount {
	prefix, rest, _ := strings.Cut(uid, ":")
	if protocol == "" {
		protocol = prefix
	}
	if userID == "" {
		userID = rest
		if strings.Count(rest, "@") >= 2 {
			userID = rest[:strings.LastIndex(rest, "@")]
		}
	}
	proto := canonicalProtocol(protocol)
	addr, problem := canonicalAddr(proto, userID)
	return jitsiAccount{UID: uid, Protocol: protocol, Account: keysync.Account{Protocol: proto, Address: addr}, problem: problem}
}

// jitsiStore is what keysync reads of sip-communicator.properties.
type jitsiStore struct {
	path     string
	props    *javaprops.File
	accounts []jitsiAccount
	byID     map[string][]int           // sanitized ACCOUNT_UID → indexes into accounts
	byUID    map[string]int             // ACCOUNT_UID → index into accounts, the first
	otr      map[string]javaprops.Entry // OTR properties by key, the last of each
}

// readJitsiFile reads a file of the store within jitsiMaxFile.
func readJitsiFile(req ReadRequest, path string) ([]byte, error) {
	f, err := req.Open(path)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, jitsiMaxFile+1))
	cerr := f.Close()
	switch {
	case err != nil:
		return nil, err
	case cerr != nil:
		return nil, cerr
	case len(data) > jitsiMaxFile:
		return nil, fmt.Errorf("%s: larger than %d MiB, not a Jitsi file", path, jitsiMaxFile>>20)
	}
	return data, nil
}

// loadJitsiStore reads sip-communicator.properties in dir; a missing file
// is an empty store with exists false.
func loadJitsiStore(req ReadRequest, dir string) (st *jitsiStore, exists bool, err error) {
	path := filepath.Join(dir, jitsiProps)
	data, err := readJitsiFile(req, path)
	if isNotExist(err) {
		data, err = nil, nil
	} else {
		exists = true
	}
	if err != nil {
		return nil, false, err
	}
	props, err := javaprops.Parse(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	st = &jitsiStore{path: path, props: props, byID: map[string][]int{}, byUID: map[string]int{}, otr: map[string]javaprops.Entry{}}
	for _, e := range props.Entries() {
		if strings.HasPrefix(e.Key, jitsiOTR) {
			st.otr[e.Key] = e
			continue
		}
		rest, ok := strings.CutPrefix(e.Key, jitsiProtoPrefix)
		if !ok {
			continue
		}
		acc, ok := strings.CutSuffix(rest, ".ACCOUNT_UID")
		if !ok || strings.Count(acc, ".") != 1 || e.Value == "" {
			continue // <protocol>.acc<N>.ACCOUNT_UID only
		}
		base := jitsiProtoPrefix + acc + "."
		if v, _ := props.Get(e.Key); v != e.Value {
			continue // set again further down; that one counts
		}
		userID, _ := props.Get(base + "USER_ID")
		protocol, _ := props.Get(base + "PROTOCOL_NAME")
		a := jitsiAccountOf(e.Value, userID, protocol)
		a.Line = e.Line
		if _, dup := st.byUID[a.UID]; dup {
			continue
		}
		id := jitsiID(a.UID)
		st.byUID[a.UID] = len(st.accounts)
		st.byID[id] = append(st.byID[id], len(st.accounts))
		st.accounts = append(st.accounts, a)
	}
	return st, exists, nil
}

// get returns the OTR property of id with suffix.
func (st *jitsiStore) get(id, suffix string) (javaprops.Entry, bool) {
	e, ok := st.otr[jitsiOTR+id+suffix]
	return e, ok
}

// jitsiContact is one <contact> of contactlist.xml.
type jitsiContact struct {
	AccountID string // the ACCOUNT_UID of the account that has the contact
	Address   string
}

// readContactList reads the account-id and address of every <contact>
// that has both, nested at most maxXMLDepth deep.
func readContactList(r io.Reader) ([]jitsiContact, error) {
	var list []jitsiContact
	err := walkXML(r, func(tok xml.Token, _ int, _ func() int) error {
		t, ok := tok.(xml.StartElement)
		if !ok || t.Name.Local != "contact" {
			return nil
		}
		var c jitsiContact
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "account-id":
				c.AccountID = a.Value
			case "address":
				c.Address = a.Value
			}
		}
		if c.Address != "" && c.AccountID != "" {
			list = append(list, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// loadContactList reads contactlist.xml in dir, or returns nil when it is
// missing.
func loadContactList(req ReadRequest, dir string) ([]jitsiContact, bool, error) {
	path := filepath.Join(dir, jitsiContacts)
	data, err := readJitsiFile(req, path)
	if isNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	list, err := readContactList(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return list, true, nil
}

// jitsiMaxAccountsPerContact bounds the accounts one contact address is
// known under: every one gets each of the contact's fingerprints.
const jitsiMaxAccountsPerContact = 64

// contactIndex finds contacts by their sanitized address: each (address,
// account) once, at most jitsiMaxAccountsPerContact per id.
type contactIndex struct {
	byID   map[string][]jitsiContact
	capped map[string]bool // ids that had more contacts than kept
}

func indexContacts(list []jitsiContact) contactIndex {
	ix := contactIndex{byID: map[string][]jitsiContact{}, capped: map[string]bool{}}
	seen := map[jitsiContact]bool{}
	for _, c := range list {
		if seen[c] {
			continue
		}
		seen[c] = true
		id := jitsiID(c.Address)
		if len(ix.byID[id]) == jitsiMaxAccountsPerContact {
			ix.capped[id] = true
			continue
		}
		ix.byID[id] = append(ix.byID[id], c)
	}
	return ix
}

// resolve returns the one address whose sanitized form is id, with the
// contacts that have it; problem says why there is none.
func (ix contactIndex) resolve(id string) (addr string, contacts []jitsiContact, problem string) {
	cs := ix.byID[id]
	if len(cs) == 0 {
		return "", nil, "no contact in " + jitsiContacts + " has an address that Jitsi spells " + excerpt.Quote(id)
	}
	var addrs []string
	for _, c := range cs {
		if !slices.Contains(addrs, c.Address) {
			addrs = append(addrs, c.Address)
		}
	}
	if len(addrs) > 1 {
		for i, a := range addrs {
			addrs[i] = excerpt.Quote(a)
		}
		return "", nil, "ambiguous: the contacts " + strings.Join(addrs, " and ") + " of " + jitsiContacts + " are all spelled " + excerpt.Quote(id)
	}
	return addrs[0], cs, ""
}

// parseJitsiFingerprint reads an otr4j fingerprint string: 40 hex digits
// of either case.
func parseJitsiFingerprint(s string) (keysync.Fingerprint, bool) {
	var sum [20]byte
	if len(s) != 2*len(sum) {
		return keysync.Fingerprint{}, false
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return keysync.Fingerprint{}, false
	}
	return keysync.OTRFingerprint(sum), true
}

// jitsiTrue is Java's Boolean.parseBoolean, which Jitsi's getBoolean uses.
// Jitsi's getString trims the value first.
func jitsiTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// jitsiFingerprintList splits a "_fingerprints" value as Jitsi's
// getAppendedProperties does: at commas.
func jitsiFingerprintList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// jitsiReader builds the model of one read.
type jitsiReader struct {
	req      ReadRequest
	st       *jitsiStore
	contacts contactIndex
	haveList bool
	model    *keysync.Model
	accounts map[keysync.Account]*keysync.LocalAccount // the model's, to find them in constant time
	origins  map[string]*keysync.Origin                // by ACCOUNT_UID
	notices  []Notice
	names    nameNotices
	// seen collapses one (contact, account, fingerprint) read twice (old
	// and new scheme): trust is kept if either says so.
	seen        map[[3]string]int
	cappedNoted map[string]bool // ids whose cap on accounts was reported
	moreNotices int             // beyond jitsiMaxNotices
}

// jitsiMaxNotices bounds the notices about one file's properties; the
// rest are counted.
const jitsiMaxNotices = 50

func (r *jitsiReader) notice(line int, format string, args ...any) {
	if len(r.notices) >= jitsiMaxNotices {
		r.moreNotices++
		return
	}
	r.notices = append(r.notices, Notice{Source: r.req.Source, File: r.st.path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// origin returns the Origin of the account with the given ACCOUNT_UID,
// which need not be in the properties file (contactlist.xml may name
// accounts Jitsi no longer has).
func (r *jitsiReader) origin(uid string) *keysync.Origin {
	if o, ok := r.origins[uid]; ok {
		return o
	}
	a := jitsiAccountOf(uid, "", "")
	if i, ok := r.st.byUID[uid]; ok {
		a = r.st.accounts[i]
	}
	if a.problem != "" {
		r.names.add(r.st.path, a.Line, "account", a.Account.Protocol, a.Account.Address, a.problem)
	}
	if problem := protocolProblem(a.Account.Protocol); problem != "" {
		r.names.addProtocol(r.st.path, a.Line, a.Account.Protocol, problem)
	}
	// Jitsi keeps true or false per fingerprint: its trust is coarse.
	o := &keysync.Origin{Source: r.req.Source, App: "jitsi", Local: a.Account, Name: uid, Protocol: a.Protocol, CoarseTrust: true}
	la := r.accounts[a.Account]
	if la == nil {
		la = &keysync.LocalAccount{Account: a.Account}
		r.accounts[a.Account] = la
		r.model.Accounts = append(r.model.Accounts, la)
	}
	la.AddOrigin(o)
	r.origins[uid] = o
	return o
}

// Read reads sip-communicator.properties and contactlist.xml in req.Dir.
func (j jitsiApp) Read(req ReadRequest) (*keysync.Model, []Notice, error) {
	st, exists, err := loadJitsiStore(req, req.Dir)
	if err != nil {
		return nil, nil, err
	}
	list, haveList, err := loadContactList(req, req.Dir)
	if err != nil {
		return nil, nil, err
	}
	if !exists && !haveList {
		return nil, nil, fmt.Errorf("jitsi: %w in %s", ErrNoStore, req.Dir)
	}
	r := &jitsiReader{req: req, st: st, contacts: indexContacts(list), haveList: haveList,
		model: &keysync.Model{}, accounts: map[keysync.Account]*keysync.LocalAccount{},
		origins: map[string]*keysync.Origin{}, seen: map[[3]string]int{}, cappedNoted: map[string]bool{}}
	for _, a := range st.accounts {
		r.origin(a.UID)
	}
	if err := r.readLocalKeys(); err != nil {
		return nil, nil, err
	}
	r.readRemote()
	if r.moreNotices > 0 {
		r.notices = append(r.notices, Notice{File: st.path, Msg: fmt.Sprintf("%d more notices like these", r.moreNotices)})
	}
	r.notices = append(r.notices, r.names.list()...)
	for i := range r.notices {
		r.notices[i].Source = req.Source
	}
	return r.model, r.notices, nil
}

// otrEntries returns the OTR properties with suffix, in file order.
func (st *jitsiStore) otrEntries(suffix string) []javaprops.Entry {
	var out []javaprops.Entry
	for _, e := range st.otr {
		if strings.HasSuffix(e.Key, suffix) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Line < out[k].Line })
	return out
}

// idOf returns the sanitized id of an OTR property with suffix.
func idOf(e javaprops.Entry, suffix string) string {
	return strings.TrimSuffix(strings.TrimPrefix(e.Key, jitsiOTR), suffix)
}

// privateKey decodes the private key property e; an error names the
// file, line and account, never the key.
func (st *jitsiStore) privateKey(e javaprops.Entry) (*keysync.DSAKey, error) {
	id := idOf(e, sufPrivateKey)
	der, err := dsader.DecodeBase64(e.Value)
	var k *keysync.DSAKey
	if err == nil {
		k, err = dsader.ParsePrivate(der)
		clear(der)
	}
	if err == nil {
		return k, nil
	}
	if accs := st.byID[id]; len(accs) > 0 {
		return nil, fmt.Errorf("%s:%d: private key of %s: %w", st.path, e.Line, excerpt.Quote(st.accounts[accs[0]].UID), err)
	}
	return nil, fmt.Errorf("%s:%d: private key %s: %w", st.path, e.Line, excerpt.Quote(id), err)
}

// checkPrivateKeys decodes every private key property: one that does not
// is an error, as a damaged key is in every app, for a notice would let a
// conversion replace a key keysync could not read.
func (st *jitsiStore) checkPrivateKeys() error {
	for _, e := range st.otrEntries(sufPrivateKey) {
		if _, err := st.privateKey(e); err != nil {
			return err
		}
	}
	return nil
}

// readLocalKeys reads every "<account>_privateKey" with its public key. A
// key property that does not decode is an error. Accounts whose
// ACCOUNT_UIDs Jitsi spells alike share the property, so each gets the
// key.
func (r *jitsiReader) readLocalKeys() error {
	for _, e := range r.st.otrEntries(sufPrivateKey) {
		id := idOf(e, sufPrivateKey)
		k, err := r.st.privateKey(e)
		if err != nil {
			return err
		}
		accs := r.st.byID[id]
		switch {
		case len(accs) == 0:
			r.notice(e.Line, "private key %s: no account's ACCOUNT_UID is spelled so; skipped", excerpt.Quote(id))
			continue
		case len(accs) > 1:
			more := ""
			if len(accs) > 2 {
				more = ", …"
			}
			r.notice(e.Line, "private key %s: the ACCOUNT_UIDs of %d accounts (%s, %s%s) are all spelled so: Jitsi uses it for each, and so does keysync",
				excerpt.Quote(id), len(accs), excerpt.Quote(r.st.accounts[accs[0]].UID), excerpt.Quote(r.st.accounts[accs[1]].UID), more)
		}
		a := r.st.accounts[accs[0]]
		if pe, ok := r.st.get(id, sufPublicKey); ok {
			der, err := dsader.DecodeBase64(pe.Value)
			var pub *dsader.PublicKey
			if err == nil {
				pub, err = dsader.ParsePublic(der)
			}
			switch {
			case err != nil:
				r.notice(pe.Line, "public key of %s: %v", excerpt.Quote(a.UID), err)
			case pub.Fingerprint() != k.Fingerprint():
				r.notice(pe.Line, "public key of %s (fingerprint %s) is not that of its private key (%s); the private key is read",
					excerpt.Quote(a.UID), pub.Fingerprint().Human(), k.Fingerprint().Human())
			}
		} else {
			r.notice(e.Line, "private key of %s has no %s property: Jitsi does not load it", excerpt.Quote(a.UID), sufPublicKey)
		}
		if err := k.Validate(); err != nil {
			r.notice(e.Line, "key of %s, fingerprint %s: %v", excerpt.Quote(a.UID), k.Fingerprint().Human(), err)
		}
		for _, i := range accs {
			o := r.origin(r.st.accounts[i].UID)
			la := r.accounts[o.Local]
			la.Keys = append(la.Keys, keysync.Key{PrivateKey: k, Origin: o, Line: e.Line})
		}
	}
	return nil
}

// isLocalID reports whether id names a local account's key pair.
func (st *jitsiStore) isLocalID(id string) bool {
	if len(st.byID[id]) > 0 {
		return true
	}
	_, ok := st.get(id, sufPrivateKey)
	return ok
}

// readRemote reads contacts' keys and flags in both schemes.
func (r *jitsiReader) readRemote() {
	// The old scheme: a contact's X.509 key and its flag.
	for _, e := range r.st.otrEntries(sufPublicKey) {
		id := idOf(e, sufPublicKey)
		if r.st.isLocalID(id) {
			continue
		}
		der, err := dsader.DecodeBase64(e.Value)
		var pub *dsader.PublicKey
		if err == nil {
			pub, err = dsader.ParsePublic(der)
		}
		if err != nil {
			r.notice(e.Line, "public key %s: %v; skipped", excerpt.Quote(id), err)
			continue
		}
		v, _ := r.st.get(id, sufKeyVerified)
		r.add(e.Line, id, pub.Fingerprint(), jitsiTrue(v.Value))
	}
	for _, e := range r.st.otrEntries(sufKeyVerified) {
		id := idOf(e, sufKeyVerified)
		if _, ok := r.st.get(id, sufPublicKey); !ok && jitsiTrue(e.Value) {
			r.notice(e.Line, "%s is marked verified but has no %s: there is no key to trust; skipped", excerpt.Quote(id), sufPublicKey)
		}
	}
	// The newer scheme: a list of fingerprints and a flag per fingerprint.
	listed := map[string]bool{}
	for _, e := range r.st.otrEntries(sufFPList) {
		id := idOf(e, sufFPList)
		for _, s := range jitsiFingerprintList(e.Value) {
			fp, ok := parseJitsiFingerprint(s)
			if !ok {
				r.notice(e.Line, "fingerprints of %s: %s is not a fingerprint; skipped", excerpt.Quote(id), excerpt.Quote(s))
				continue
			}
			v, _ := r.st.get(id+s, sufFPVerified)
			r.add(e.Line, id, fp, jitsiTrue(v.Value))
			listed[id+s] = true
		}
	}
	// A flag whose fingerprint is not listed still counts: Jitsi looks
	// it up for whatever key the contact presents.
	for _, e := range r.st.otrEntries(sufFPVerified) {
		idfp := idOf(e, sufFPVerified)
		if listed[idfp] || len(idfp) < 40 {
			continue
		}
		fp, ok := parseJitsiFingerprint(idfp[len(idfp)-40:])
		if !ok {
			r.notice(e.Line, "%s does not end in a fingerprint; skipped", excerpt.Quote(idfp))
			continue
		}
		r.add(e.Line, idfp[:len(idfp)-40], fp, jitsiTrue(e.Value))
	}
}

// add records the fingerprint of the contact Jitsi spells id, under every
// account that has the contact in contactlist.xml.
func (r *jitsiReader) add(line int, id string, fp keysync.Fingerprint, verified bool) {
	addr, contacts, problem := r.contacts.resolve(id)
	if problem != "" {
		if !r.haveList {
			problem = "no " + jitsiContacts + " to find the address in"
		}
		r.notice(line, "fingerprint %s of %s: %s; skipped", fp.Human(), excerpt.Quote(id), problem)
		return
	}
	if r.contacts.capped[id] && !r.cappedNoted[id] {
		r.cappedNoted[id] = true
		r.notice(line, "%s: more than %d accounts of %s have the contact; its fingerprints are read for the first %d",
			excerpt.Quote(id), jitsiMaxAccountsPerContact, jitsiContacts, jitsiMaxAccountsPerContact)
	}
	trust := keysync.Unverified
	if verified {
		trust = keysync.Verified
	}
	for _, c := range contacts {
		o := r.origin(c.AccountID)
		contact, problem := canonicalAddr(o.Local.Protocol, addr)
		if problem != "" {
			r.names.add(r.st.path, line, "contact", o.Local.Protocol, addr, problem)
		}
		k := [3]string{contact, o.Name, string(fp.Sum[:])}
		if i, ok := r.seen[k]; ok {
			if verified {
				r.model.Fingerprints[i].Trust = trust
			}
			continue
		}
		f := keysync.KnownFingerprint{Contact: contact, Fingerprint: fp, Trust: trust, Origin: o}
		if contact != addr {
			f.ContactName = addr
		}
		r.seen[k] = len(r.model.Fingerprints)
		r.model.Fingerprints = append(r.model.Fingerprints, f)
	}
}

// jitsiRemote is one contact's fingerprint as Jitsi holds it: once per
// address, whatever the local account.
type jitsiRemote struct {
	addr               string
	fp                 keysync.Fingerprint
	trusted, untrusted bool // trusted under some account; untrusted under some
}

// Write plans sip-communicator.properties in dir: the local keys of the
// accounts Jitsi has, and the contacts' fingerprints and trust in the
// scheme the file uses (the per-fingerprint one for a new file). Every
// other property and line is kept as it is.
func (j jitsiApp) Write(dir, source string, m *keysync.Model) (Plan, []Notice, error) {
	st, exists, err := loadJitsiStore(ReadRequest{Dir: dir}, dir)
	if err != nil {
		return Plan{}, nil, err
	}
	if err := st.checkPrivateKeys(); err != nil {
		return Plan{}, nil, err
	}
	list, haveList, err := loadContactList(ReadRequest{Dir: dir}, dir)
	if err != nil {
		return Plan{}, nil, err
	}
	var notices []Notice
	note := func(format string, args ...any) {
		notices = append(notices, Notice{Source: source, File: st.path, Msg: "jitsi: " + fmt.Sprintf(format, args...)})
	}
	skips := map[string]*skip{}
	var skipOrder []string
	skipped := func(why, what string) {
		s := skips[why]
		if s == nil {
			s = &skip{why: why, counts: map[string]int{}}
			skips[why] = s
			skipOrder = append(skipOrder, why)
		}
		s.counts[what]++
	}

	uidsOf := map[keysync.Account][]string{}
	for _, a := range st.accounts {
		uidsOf[a.Account] = append(uidsOf[a.Account], a.UID)
	}
	nkeys := 0
	keyOf := map[string]keysync.Account{} // key property id → the account whose key it holds
	keyIn := map[string]*keysync.DSAKey{}
	for _, la := range m.Accounts {
		if len(la.Keys) == 0 {
			continue
		}
		uids := uidsOf[la.Account]
		var key *keysync.DSAKey
		for _, k := range la.Keys {
			dsa, ok := k.PrivateKey.(*keysync.DSAKey)
			switch {
			case !ok:
				skipped("Jitsi holds only "+keysync.OTRDSA.String()+" keys", "private key")
			case !jitsiSpeaks(la.Protocol):
				skipped("Jitsi does not speak "+excerpt.Cut(la.Protocol, excerpt.MaxRunes), "private key")
			case len(uids) == 0:
				skipped("Jitsi has no account for it in "+jitsiProps+" (create the account in Jitsi first)", "private key")
			case key != nil && !key.Equal(dsa):
				note("%s has more than one key; the first is written", excerpt.Cut(la.Account.String(), excerpt.MaxRunes))
			case key == nil:
				key = dsa
			}
		}
		if key == nil {
			continue
		}
		priv, err := dsader.MarshalPrivate(key)
		if err != nil {
			return Plan{}, nil, fmt.Errorf("key of %s: %w", la.Account, err)
		}
		pub, err := dsader.MarshalPublic(dsader.Public(key))
		if err != nil {
			return Plan{}, nil, fmt.Errorf("key of %s: %w", la.Account, err)
		}
		noted := false
		for _, uid := range uids {
			id := jitsiID(uid)
			if other, ok := keyIn[id]; ok && !other.Equal(key) {
				return Plan{}, nil, fmt.Errorf("%s and %s share one key in %s (their ACCOUNT_UIDs are both spelled %s there) but are to get different keys: Jitsi can hold only one; settle it with --prefer so that they get the same key",
					excerpt.Quote(keyOf[id].String()), excerpt.Quote(la.Account.String()), jitsiProps, excerpt.Quote(id))
			}
			keyOf[id], keyIn[id] = la.Account, key
			if len(st.byID[id]) > 1 && !noted {
				noted = true
				note("the ACCOUNT_UIDs of %d accounts are all spelled %s: the key of %s is theirs too", len(st.byID[id]), excerpt.Quote(id), excerpt.Quote(uid))
			}
			setKey(st, id+sufPrivateKey, priv, func(der []byte) bool {
				k, err := dsader.ParsePrivate(der)
				return err == nil && k.Equal(key)
			})
			setKey(st, id+sufPublicKey, pub, func(der []byte) bool {
				p, err := dsader.ParsePublic(der)
				return err == nil && p.Fingerprint() == key.Fingerprint()
			})
			nkeys++
		}
	}

	unplaced := "Jitsi has no contact with this address in " + jitsiContacts + " (add the contact in Jitsi first)"
	if !haveList {
		unplaced = "no " + jitsiContacts + " in " + dir + ": Jitsi keeps a contact's fingerprints under its address, which only the contact list ties to a contact"
	}
	contacts := indexContacts(list)
	remotes := jitsiRemotes(m, contacts, unplaced, skipped)
	newScheme := !st.usesOldScheme()
	lists := map[string]*jitsiList{}
	var listOrder []string
	nfps, folded := 0, 0
	for _, r := range remotes {
		id := jitsiID(r.addr)
		if st.isLocalID(id) {
			skipped("its property name would be that of a local account's key", "fingerprint")
			continue
		}
		if _, _, problem := contacts.resolve(id); problem != "" {
			skipped("its property name would be that of another contact of "+jitsiContacts+" too", "fingerprint")
			continue
		}
		if newScheme {
			l := lists[id]
			if l == nil {
				l = st.fingerprintList(id)
				lists[id] = l
				listOrder = append(listOrder, id)
			}
			st.setNewScheme(id, l, r)
		} else if !st.setOldScheme(id, r) {
			skipped("the file uses Jitsi's old OTR scheme, which keeps a contact's public key, and only the fingerprint is known", "fingerprint")
			continue
		}
		nfps++
		if r.trusted && r.untrusted {
			if folded++; folded <= 10 {
				note("%s: Jitsi keeps one verification per contact; %s was verified under some accounts only and is written as verified",
					excerpt.Quote(r.addr), r.fp.Human())
			}
		}
	}
	if folded > 10 {
		note("%d more fingerprints verified under some accounts only are written as verified", folded-10)
	}
	for _, id := range listOrder {
		if l := lists[id]; l.changed {
			st.set(id+sufFPList, strings.Join(l.items, ","))
		}
	}
	for _, why := range skipOrder {
		notices = append(notices, Notice{Source: source, Msg: fmt.Sprintf("jitsi: skipped %s: %s", skips[why].describe(), why)})
	}
	if !exists && nkeys == 0 && nfps == 0 {
		return Plan{}, notices, nil
	}
	return Plan{Files: []File{{Path: st.path, Content: st.props, Secret: true,
		Summary: count(nkeys, "private key") + ", " + count(nfps, "fingerprint")}}}, notices, nil
}

// setKey sets the property key to base64 DER unless it already holds a
// key that same says is the one.
func setKey(st *jitsiStore, id string, der []byte, same func([]byte) bool) {
	if e, ok := st.otr[jitsiOTR+id]; ok {
		if old, err := dsader.DecodeBase64(e.Value); err == nil && same(old) {
			return
		}
	}
	st.set(id, dsader.EncodeBase64(der))
}

// set sets the OTR property id.
func (st *jitsiStore) set(id, value string) {
	st.props.Set(jitsiOTR+id, value)
	st.otr[jitsiOTR+id] = javaprops.Entry{Key: jitsiOTR + id, Value: value}
}

// usesOldScheme reports whether the file keeps contacts in the old
// scheme: a contact's key or flag, and no per-fingerprint property.
func (st *jitsiStore) usesOldScheme() bool {
	old := false
	for k := range st.otr {
		id := strings.TrimPrefix(k, jitsiOTR)
		switch {
		case strings.HasSuffix(k, sufFPList) || strings.HasSuffix(k, sufFPVerified):
			return false
		case strings.HasSuffix(k, sufKeyVerified):
			old = true
		case strings.HasSuffix(k, sufPublicKey) && !st.isLocalID(strings.TrimSuffix(id, sufPublicKey)):
			old = true
		}
	}
	return old
}

// jitsiList is a contact's "_fingerprints" list as it is being written.
type jitsiList struct {
	items   []string                       // as the file spells them, then new ones
	byFP    map[keysync.Fingerprint]string // the spelling of each fingerprint listed
	changed bool
}

// fingerprintList returns the list of the contact id as the file has it.
func (st *jitsiStore) fingerprintList(id string) *jitsiList {
	e, _ := st.get(id, sufFPList)
	l := &jitsiList{items: jitsiFingerprintList(e.Value), byFP: map[keysync.Fingerprint]string{}}
	for _, s := range l.items {
		if fp, ok := parseJitsiFingerprint(s); ok {
			if _, dup := l.byFP[fp]; !dup {
				l.byFP[fp] = s
			}
		}
	}
	return l
}

// setNewScheme lists r's fingerprint in l, the list of the contact id, in
// the spelling the list has or else in upper case as otr4j writes it,
// unless the file has a flag for it already, and sets its flag. A list that changes is set at once, so that it comes
// before the flags in a new file, and again with its final value when all
// are listed.
func (st *jitsiStore) setNewScheme(id string, l *jitsiList, r jitsiRemote) {
	spelling, ok := l.byFP[r.fp]
	if !ok {
		// A flag without a list entry holds the fingerprint already.
		for _, s := range []string{strings.ToUpper(r.fp.String()), r.fp.String()} {
			if _, flagged := st.get(id+s, sufFPVerified); flagged {
				spelling, ok = s, true
				break
			}
		}
	}
	if !ok {
		spelling = strings.ToUpper(r.fp.String())
		l.items = append(l.items, spelling)
		l.byFP[r.fp] = spelling
		if !l.changed {
			l.changed = true
			st.set(id+sufFPList, strings.Join(l.items, ","))
		}
	}
	want := "false"
	if r.trusted {
		want = "true"
	}
	if v, ok := st.get(id+spelling, sufFPVerified); !ok || jitsiTrue(v.Value) != r.trusted {
		st.set(id+spelling+sufFPVerified, want)
	}
}

// setOldScheme sets the flag of the contact's stored key if it has r's
// fingerprint, and reports whether it has.
func (st *jitsiStore) setOldScheme(id string, r jitsiRemote) bool {
	e, ok := st.get(id, sufPublicKey)
	if !ok {
		return false
	}
	der, err := dsader.DecodeBase64(e.Value)
	if err != nil {
		return false
	}
	pub, err := dsader.ParsePublic(der)
	if err != nil || pub.Fingerprint() != r.fp {
		return false
	}
	v, ok := st.get(id, sufKeyVerified)
	switch {
	case r.trusted && (!ok || !jitsiTrue(v.Value)):
		st.set(id+sufKeyVerified, "true")
	case !r.trusted && ok:
		// Jitsi's unverify removes the flag.
		st.props.Delete(jitsiOTR + id + sufKeyVerified)
		delete(st.otr, jitsiOTR+id+sufKeyVerified)
	}
	return true
}

// jitsiRemotes folds the model's fingerprints into Jitsi's one entry per
// (contact address, fingerprint), in model order, spelled as
// contactlist.xml spells the contact. A fingerprint of a contact that
// contactlist.xml does not have under an account of its protocol is
// skipped for the reason unplaced: reading finds a contact's fingerprints
// only through the contact list, and so does Jitsi.
func jitsiRemotes(m *keysync.Model, contacts contactIndex, unplaced string, skipped func(why, what string)) []jitsiRemote {
	spelled := map[[2]string]string{} // (protocol, canonical) → contactlist.xml's address
	for _, cs := range contacts.byID {
		for _, c := range cs {
			a := jitsiAccountOf(c.AccountID, "", "")
			k := [2]string{a.Account.Protocol, canonicalAddress(a.Account.Protocol, c.Address)}
			if _, ok := spelled[k]; !ok {
				spelled[k] = c.Address
			}
		}
	}
	var out []jitsiRemote
	at := map[[2]string]int{}
	for i := range m.Fingerprints {
		f := &m.Fingerprints[i]
		proto := f.Origin.Local.Protocol
		switch {
		case f.Fingerprint.Kind != keysync.OTRDSA:
			skipped("Jitsi holds only "+keysync.OTRDSA.String()+" fingerprints", "fingerprint")
			continue
		case !jitsiSpeaks(proto):
			skipped("Jitsi does not speak "+excerpt.Cut(proto, excerpt.MaxRunes), "fingerprint")
			continue
		}
		addr, ok := spelled[[2]string{proto, f.Contact}]
		if !ok {
			skipped(unplaced, "fingerprint")
			continue
		}
		k := [2]string{addr, string(f.Fingerprint.Sum[:])}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, jitsiRemote{addr: addr, fp: f.Fingerprint})
		}
		if f.Trust.Trusted() {
			out[i].trusted = true
		} else {
			out[i].untrusted = true
		}
	}
	return out
}
