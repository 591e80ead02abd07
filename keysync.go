// Package keysync is the trust model shared by every app format keysync reads
// and writes: local accounts with their private keys and instance tags, and,
// per (local account, contact), every known fingerprint with its trust.
//
// Keys and fingerprints have a kind (KeyKind): OTR's DSA keys, which belong
// to local accounts, and OpenPGP keys (OpenPGPKey), which a keyring holds
// with their user IDs and ownertrust. A format's byte-exact form of a key
// is kept as an opaque native value of that key, for the format that read
// it.
//
// App formats live in their own packages (libotr for the raw libotr files,
// app for the chat apps that use them) and map their spellings of accounts
// and protocols into this model at the edges; every record says where it
// came from through a shared Origin. Merge combines several models into one
// and reports every conflict instead of dropping data.
package keysync

import (
	"encoding/hex"
	"fmt"
)

// Account names a chat account in canonical form: Protocol is a lower-case
// protocol name ("xmpp", "irc", "bonjour", "aim", …) and Address the account
// address in that protocol's canonical spelling (a bare JID for XMPP,
// "nick@server" for IRC).
type Account struct {
	Protocol string
	Address  string
}

// String returns "protocol:address".
func (a Account) String() string { return a.Protocol + ":" + a.Address }

// KeyKind is the kind of a key and of its fingerprint. The zero value is no
// kind.
type KeyKind uint8

// Key kinds.
const (
	// OTRDSA is OTR v2/v3's DSA key; its fingerprint is SHA-1 over the
	// MPIs of p, q, g and y.
	OTRDSA KeyKind = 1
	// OpenPGP is an OpenPGP v4 key; its fingerprint is SHA-1 over 0x99,
	// the 2-byte length and the body of its public key packet
	// (RFC 4880 section 12.2).
	OpenPGP KeyKind = 2
)

// String returns the kind's name, such as "otr-dsa".
func (k KeyKind) String() string {
	switch k {
	case OTRDSA:
		return "otr-dsa"
	case OpenPGP:
		return "openpgp"
	}
	return fmt.Sprintf("key kind %d", uint8(k))
}

// Fingerprint identifies a public key of one kind. Sum holds 20 bytes:
// OTR's SHA-1, as an OpenPGP v4 fingerprint will.
type Fingerprint struct {
	Kind KeyKind
	Sum  [20]byte
}

// OTRFingerprint returns the OTR fingerprint with the given SHA-1 sum.
func OTRFingerprint(sum [20]byte) Fingerprint { return Fingerprint{Kind: OTRDSA, Sum: sum} }

// String returns the sum as 40 lower-case hex digits, the form of libotr's
// otr.fingerprints.
func (f Fingerprint) String() string { return hex.EncodeToString(f.Sum[:]) }

// Human returns the form people compare: for OTR libotr's, upper case in
// five groups of eight digits; for OpenPGP GnuPG's, ten groups of four
// with two spaces in the middle.
func (f Fingerprint) Human() string {
	if f.Kind == OpenPGP {
		return openPGPHuman(f.Sum)
	}
	const upperHex = "0123456789ABCDEF"
	var b [len(f.Sum)*2 + len(f.Sum)/4 - 1]byte
	n := 0
	for i, c := range f.Sum {
		if i > 0 && i%4 == 0 {
			b[n] = ' '
			n++
		}
		b[n], b[n+1] = upperHex[c>>4], upperHex[c&15]
		n += 2
	}
	return string(b[:n])
}

// Origin says where records were read: the store, its app, and how that app
// spells the local account they belong to. Records read together share one
// Origin, which keeps a million fingerprint rows small.
type Origin struct {
	// Source is the store, such as "pidgin:/home/u/.purple". For a known
	// fingerprint it is where the row's trust was read: the row's own
	// store unless Merge took the trust from another.
	Source   string
	App      string  // such as "pidgin"
	Local    Account // the local account, canonical
	Name     string  // the local account as the app names it, such as "me@example.org/Home"
	Protocol string  // the protocol as the app spells it, such as "prpl-jabber"
	// CoarseTrust says that the store's format can only say whether a
	// fingerprint is verified, not how (Jitsi's and ChatSecure's true or
	// false): its trusted rows read as Verified standing for any trusted
	// value, and Merge lets a specific value (smp, manual, verified…)
	// replace that without a conflict. Set by the app's reader.
	CoarseTrust bool
}

// Key is one private key of a local account.
type Key struct {
	PrivateKey PrivateKey
	Origin     *Origin
	Line       int // where the source file has it; orders keys on writing back
}

// InstanceTag is a libotr 4 instance tag. It names one client installation,
// so it is only ever written back to the app it was read from.
type InstanceTag struct {
	Tag    uint32
	Origin *Origin
	Line   int // where the source file has it; orders tags on writing back
}

// LocalAccount is one of the user's own accounts.
type LocalAccount struct {
	Account
	Keys         []Key         // every key found; more than one from different sources is a conflict
	InstanceTags []InstanceTag // per app installation
	Origins      []*Origin     // every store and app spelling that named the account, in reading order
	// Unmapped is set when a source named the account in a way that could not
	// be resolved to an address (an Adium ObjectID missing from
	// Accounts.plist, say). It says why; Address then holds the raw name.
	Unmapped string
}

// AddOrigin records o among the account's origins, once.
func (la *LocalAccount) AddOrigin(o *Origin) {
	for _, x := range la.Origins {
		if *x == *o {
			return
		}
	}
	la.Origins = append(la.Origins, o)
}

// KnownFingerprint is a contact's fingerprint as seen from one local account.
type KnownFingerprint struct {
	Contact     string // the contact's address, canonical (bare JID, nick)
	Fingerprint Fingerprint
	Trust       Trust
	// Origin names the local account that knows the fingerprint, the
	// store its trust was read from and the app's spelling.
	Origin *Origin
	// ContactName is the app's spelling of Contact when it differs from the
	// canonical form (an XMPP resource or upper case), else "".
	ContactName string
}

// Local returns the local account that knows the fingerprint.
func (f *KnownFingerprint) Local() Account { return f.Origin.Local }

// Trust is a fingerprint's trust value as libotr stores it, kept verbatim.
// The empty string means unverified; any other value means trusted. A row
// whose Origin has CoarseTrust holds Verified for any trusted value.
type Trust string

// Common trust values.
const (
	Unverified Trust = ""
	Verified   Trust = "verified" // pidgin-otr, Adium, Gajim manual verification
	SMP        Trust = "smp"      // successful SMP authentication
	Manual     Trust = "manual"   // irssi-otr manual verification
)

// Trusted reports whether libotr treats the value as trusted.
func (t Trust) Trusted() bool { return t != "" }

// Model is the trust of one or more stores: local accounts, known
// fingerprints and OpenPGP keys, in the order they were read.
type Model struct {
	Accounts     []*LocalAccount
	Fingerprints []KnownFingerprint
	OpenPGPKeys  []OpenPGPKey
}

// Account returns the local account a, or nil.
func (m *Model) Account(a Account) *LocalAccount {
	for _, la := range m.Accounts {
		if la.Account == a {
			return la
		}
	}
	return nil
}

// AddAccount returns the local account a, adding it if it is missing.
func (m *Model) AddAccount(a Account) *LocalAccount {
	if la := m.Account(a); la != nil {
		return la
	}
	la := &LocalAccount{Account: a}
	m.Accounts = append(m.Accounts, la)
	return la
}
