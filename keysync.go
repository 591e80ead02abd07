// Package keysync is the trust model shared by every app format keysync reads
// and writes: local accounts with their OTR private keys and instance tags,
// and, per (local account, contact), every known fingerprint with its trust.
//
// App formats live in their own packages (libotr for the raw libotr files,
// app for the chat apps that use them) and map their spellings of accounts
// and protocols into this model at the edges. Merge combines several stores
// into one and reports every conflict instead of dropping data.
package keysync

import (
	"encoding/hex"
	"fmt"
	"strings"
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

// Less orders accounts by protocol, then address.
func (a Account) Less(b Account) bool {
	if a.Protocol != b.Protocol {
		return a.Protocol < b.Protocol
	}
	return a.Address < b.Address
}

// Spelling is how one app names an account, a contact or a protocol. Readers
// record it so that writing back to the same app restores it exactly.
type Spelling struct {
	App      string // app name, such as "pidgin"
	Name     string // the name as the app stores it, such as "me@example.org/Home"
	Protocol string // the protocol as the app stores it, such as "prpl-jabber"
}

// Trust is a fingerprint's trust value as libotr stores it, kept verbatim.
// The empty string means unverified; any other value means trusted.
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

// Fingerprint is an OTR v2/v3 fingerprint: SHA-1 over the MPIs of p, q, g, y.
type Fingerprint [20]byte

// String returns the fingerprint as 40 lower-case hex digits, the form of
// libotr's otr.fingerprints.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// Human returns libotr's human form: upper case, five groups of eight digits.
func (f Fingerprint) Human() string {
	s := strings.ToUpper(hex.EncodeToString(f[:]))
	var b strings.Builder
	for i := 0; i < len(s); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i : i+8])
	}
	return b.String()
}

// ParseFingerprint parses 40 hex digits in either case, optionally grouped
// by spaces as in the human form.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	h := strings.ReplaceAll(s, " ", "")
	if len(h) != 40 {
		return f, fmt.Errorf("fingerprint %q: want 40 hex digits, have %d", s, len(h))
	}
	if _, err := hex.Decode(f[:], []byte(h)); err != nil {
		return f, fmt.Errorf("fingerprint %q: not hex", s)
	}
	return f, nil
}

// Key is one private key of a local account, with where it came from.
type Key struct {
	PrivateKey *PrivateKey
	Source     string   // the source it was read from, such as "pidgin:/home/u/.purple"
	Spelling   Spelling // how the source named the account
	Line       int      // where the source file has it; orders keys on writing back
}

// InstanceTag is a libotr 4 instance tag. It names one client installation,
// so it is only ever written back to the app it was read from.
type InstanceTag struct {
	Tag      uint32
	Source   string
	Spelling Spelling
	Line     int // where the source file has it; orders tags on writing back
}

// LocalAccount is one of the user's own accounts.
type LocalAccount struct {
	Account
	Keys         []Key         // every key found; more than one from different sources is a conflict
	InstanceTags []InstanceTag // per app installation
	Spellings    []Spelling    // every app spelling seen for the account, in reading order
	// Unmapped is set when a source named the account in a way that could not
	// be resolved to an address (an Adium ObjectID missing from
	// Accounts.plist, say). It says why; Address then holds the raw name.
	Unmapped string
}

// AddSpelling records sp among the account's spellings, once.
func (la *LocalAccount) AddSpelling(sp Spelling) {
	for _, x := range la.Spellings {
		if x == sp {
			return
		}
	}
	la.Spellings = append(la.Spellings, sp)
}

// KnownFingerprint is a contact's fingerprint as seen from one local account.
type KnownFingerprint struct {
	Contact     string // the contact's address, canonical (bare JID, nick)
	Fingerprint Fingerprint
	Trust       Trust
	// Origin says which local account knows the fingerprint, where the row
	// was read and how its app spelled it; rows read together share one
	// Origin, which keeps a million rows small.
	Origin *Origin
	// ContactName is the app's spelling of Contact when it differs from the
	// canonical form (an XMPP resource or upper case), else "".
	ContactName string
}

// Local returns the local account that knows the fingerprint.
func (f *KnownFingerprint) Local() Account { return f.Origin.Local }

// Origin is the local account of known fingerprints, their source, and
// the app's spelling of their local account and protocol columns.
type Origin struct {
	Local Account
	// Source is where the row's trust was read, such as
	// "pidgin:/home/u/.purple": the row's own source unless Merge took the
	// trust from another.
	Source    string
	App       string // such as "pidgin"
	LocalName string // the local account as the app names it
	Protocol  string // the protocol as the app spells it
}

// Store is the merged trust store: local accounts and known fingerprints, in
// the order they were read.
type Store struct {
	Accounts     []*LocalAccount
	Fingerprints []KnownFingerprint
}

// Account returns the local account a, or nil.
func (s *Store) Account(a Account) *LocalAccount {
	for _, la := range s.Accounts {
		if la.Account == a {
			return la
		}
	}
	return nil
}

// AddAccount returns the local account a, adding it if it is missing.
func (s *Store) AddAccount(a Account) *LocalAccount {
	if la := s.Account(a); la != nil {
		return la
	}
	la := &LocalAccount{Account: a}
	s.Accounts = append(s.Accounts, la)
	return la
}
