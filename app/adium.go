package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/excerpt"
	"github.com/keysync/keysync/internal/plistcheck"
	"howett.net/plist"
)

func init() {
	register(&libotrApp{
		name:    "adium",
		keyFile: "otr.private_key", fpFile: "otr.fingerprints", tagFile: "otr.instag",
		dirs:      defaultDirs{darwin: "~/Library/Application Support/Adium 2.0/Users/Default"},
		processes: []string{"Adium"},
		mapper:    adiumMapper,
		protocols: &adiumProtocols,
	})
}

// adiumProtocols are Adium's service ids. Its GTalk and Facebook accounts
// are XMPP. Adium writes the ids of Accounts.plist; these are for reading.
var adiumProtocols = protocols{prefix: "libpurple-", known: []protocolSpelling{
	{"xmpp", []string{"libpurple-Jabber", "libpurple-jabber-gtalk", "libpurple-jabber", "libpurple-Facebook"}},
	{"bonjour", []string{"bonjour-libezv"}},
	{"irc", []string{"libpurple-IRC", "irc"}},
	{"aim", []string{"libpurple-oscar-AIM"}},
	{"icq", []string{"libpurple-oscar-ICQ"}},
	{"yahoo", []string{"libpurple-Yahoo!"}},
	{"msn", []string{"libpurple-MSN"}},
	{"gadu-gadu", []string{"libpurple-Gadu-Gadu"}},
	{"groupwise", []string{"libpurple-GroupWise"}},
	{"sametime", []string{"libpurple-Sametime"}},
	{"qq", []string{"libpurple-QQ"}},
	{"myspace", []string{"libpurple-MySpace"}},
	{"sip", []string{"libpurple-SIMPLE"}},
	{"silc", []string{"libpurple-SILC"}},
}}

// adiumAccount is one entry of Accounts.plist's Accounts array.
type adiumAccount struct {
	ObjectID any    `plist:"ObjectID"` // a string in practice; integers accepted
	Service  string `plist:"Service"`
	Type     string `plist:"Type"`
	UID      string `plist:"UID"`
}

func (a adiumAccount) id() string {
	switch v := a.ObjectID.(type) {
	case string:
		return v
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// adiumAccounts maps Adium's ObjectIDs, which its OTR files use as account
// names, to UIDs through Accounts.plist (XML or binary). The plist is only
// read, never written: a key for an account Adium does not have cannot be
// used until the user creates the account in Adium.
type adiumAccounts struct {
	list    []adiumAccount
	missing string // why there is no list
}

func adiumMapper(dir string) (mapper, error) {
	path := filepath.Join(dir, "Accounts.plist")
	data, err := plistcheck.ReadFile(path)
	if isNotExist(err) {
		return adiumAccounts{missing: "no Accounts.plist in " + dir}, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := parseAdiumAccounts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return adiumAccounts{list: list}, nil
}

// parseAdiumAccounts reads the Accounts array of an Accounts.plist in XML
// or binary form, within plistcheck's bounds.
func parseAdiumAccounts(data []byte) ([]adiumAccount, error) {
	var doc struct {
		Accounts []adiumAccount `plist:"Accounts"`
	}
	if err := plistcheck.Check(data); err != nil {
		return nil, err
	}
	if _, err := plist.Unmarshal(data, &doc); err != nil {
		return nil, errors.New(excerpt.Cut(err.Error(), 200)) // it may quote a long value
	}
	for i, a := range doc.Accounts {
		if a.id() == "" || a.UID == "" || a.Type == "" {
			return nil, fmt.Errorf("entry %d of the Accounts array: missing ObjectID, UID or Type", i)
		}
	}
	return doc.Accounts, nil
}

func (m adiumAccounts) canonical(name, protocol string) (keysync.Account, string) {
	for _, a := range m.list {
		if a.id() == name {
			proto := canonicalProtocol(a.Type)
			return keysync.Account{Protocol: proto, Address: canonicalAddress(proto, a.UID)}, ""
		}
	}
	why := m.missing
	if why == "" {
		why = "ObjectID " + excerpt.Cut(name, excerpt.MaxRunes) + " is not in Accounts.plist"
	}
	return keysync.Account{Protocol: canonicalProtocol(protocol), Address: "adium:" + name}, why
}

func (m adiumAccounts) native(a keysync.Account) (name, protocol, why string) {
	for _, x := range m.list {
		xp := canonicalProtocol(x.Type)
		if xp == a.Protocol && canonicalAddress(xp, x.UID) == canonicalAddress(a.Protocol, a.Address) {
			return x.id(), x.Type, ""
		}
	}
	if m.missing != "" {
		return "", "", m.missing
	}
	return "", "", "Adium has no such account in Accounts.plist (create it in Adium first)"
}
