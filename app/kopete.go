package app

import (
	"github.com/keysync/keysync"
)

func init() {
	register(&libotrApp{
		name:    "kopete",
		keyFile: "privkeys", fpFile: "fingerprints",
		dirs:      defaultDirs{linux: "$KDEHOME/share/apps/kopete_otr"},
		processes: []string{"kopete"},
		mapper:    func(string) (mapper, error) { return kopeteAccounts{}, nil },
		protocols: &kopeteProtocols,
	})
}

// kopeteProtocols are Kopete's protocol display names; a protocol not
// listed is written under its canonical name.
var kopeteProtocols = protocols{known: []protocolSpelling{
	{"xmpp", []string{"Jabber", "Google Talk"}},
	{"bonjour", []string{"Bonjour"}},
	{"irc", []string{"IRC"}},
	{"aim", []string{"AIM"}},
	{"icq", []string{"ICQ"}},
	{"yahoo", []string{"Yahoo"}},
	{"msn", []string{"WLM", "MSN"}},
	{"gadu-gadu", []string{"Gadu-Gadu"}},
	{"groupwise", []string{"GroupWise"}},
	{"sametime", []string{"Meanwhile"}},
	{"qq", []string{"QQ"}},
	{"zephyr", []string{"Zephyr"}},
	{"myspace", []string{"MySpace"}},
	{"sip", []string{"SIP"}},
	{"silc", []string{"SILC"}},
}}

// kopeteAccounts maps Kopete's accounts: the account id (a bare JID for
// Jabber) under the protocol's display name ("Jabber", "IRC", …).
type kopeteAccounts struct{}

func (kopeteAccounts) canonical(name, protocol string) (keysync.Account, string) {
	proto := canonicalProtocol(protocol)
	return keysync.Account{Protocol: proto, Address: canonicalAddress(proto, name)}, ""
}

func (kopeteAccounts) native(a keysync.Account) (name, protocol, why string) {
	return a.Address, kopeteProtocols.native(a.Protocol), ""
}
