package app

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/keysync/keysync"
)

func init() {
	register(&libotrApp{
		name:    "kopete",
		keyFile: "privkeys", fpFile: "fingerprints",
		defaultDir: func() (string, error) {
			if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
				return "", fmt.Errorf("kopete: Kopete runs only on Linux; name the folder as kopete:DIR")
			}
			if d := os.Getenv("KDEHOME"); d != "" {
				return filepath.Join(d, "share", "apps", "kopete_otr"), nil
			}
			return homeDir(".kde", "share", "apps", "kopete_otr")
		},
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
