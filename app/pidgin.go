package app

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/excerpt"
)

func init() {
	register(&libotrApp{
		name:    "pidgin",
		keyFile: "otr.private_key", fpFile: "otr.fingerprints", tagFile: "otr.instance_tags",
		dirs:      defaultDirs{linux: "~/.purple", darwin: "~/.purple", windows: "%APPDATA%/.purple"},
		processes: []string{"pidgin"},
		mapper:    pidginMapper,
		protocols: &pidginProtocols,
	})
}

// pidginProtocols are libpurple's protocol ids: "prpl-" and the protocol,
// but for these.
var pidginProtocols = protocols{prefix: "prpl-", known: []protocolSpelling{
	{"xmpp", []string{"prpl-jabber"}},
	{"gadu-gadu", []string{"prpl-gg"}},
	{"groupwise", []string{"prpl-novell"}},
	{"sametime", []string{"prpl-meanwhile"}},
	{"sip", []string{"prpl-simple"}},
}}

// purpleAccount is one <account> of libpurple's accounts.xml.
type purpleAccount struct {
	Protocol string
	Name     string
}

// pidginAccounts maps accounts through accounts.xml. For XMPP, Pidgin's
// account name carries the resource ("me@host/Home", or "me@host/" when it
// is empty) and a key is only found under the exact name, so writing looks
// the bare JID up in accounts.xml.
type pidginAccounts struct{ list []purpleAccount }

func pidginMapper(dir string) (mapper, error) {
	path := filepath.Join(dir, "accounts.xml")
	f, err := os.Open(path)
	if isNotExist(err) {
		return pidginAccounts{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := readPurpleAccounts(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pidginAccounts{list}, nil
}

// readPurpleAccounts reads the protocol and name of every account; it does
// not keep anything else (accounts.xml also holds passwords).
func readPurpleAccounts(r io.Reader) ([]purpleAccount, error) {
	var list []purpleAccount
	var cur *purpleAccount // the <account> being read
	var field *string      // its <protocol> or <name> being read
	err := walkXML(r, func(tok xml.Token, depth int, line func() int) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case depth == 1 && t.Name.Local != "account":
				return fmt.Errorf("line %d: root element is %s, want <account>", line(), excerpt.Quote(t.Name.Local))
			case depth == 2 && t.Name.Local == "account":
				cur = &purpleAccount{}
			case depth == 3 && cur != nil && t.Name.Local == "protocol":
				field = &cur.Protocol
			case depth == 3 && cur != nil && t.Name.Local == "name":
				field = &cur.Name
			}
		case xml.CharData:
			if field != nil && depth == 3 {
				*field += string(t)
			}
		case xml.EndElement:
			switch {
			case depth == 3:
				field = nil
			case depth == 2 && cur != nil:
				if cur.Protocol == "" || cur.Name == "" {
					return fmt.Errorf("line %d: account without protocol or name", line())
				}
				list = append(list, *cur)
				cur = nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

func (p pidginAccounts) canonical(name, protocol string) (keysync.Account, string) {
	proto := canonicalProtocol(protocol)
	return keysync.Account{Protocol: proto, Address: canonicalAddress(proto, name)}, ""
}

func (p pidginAccounts) native(a keysync.Account) (name, protocol, why string) {
	protocol = pidginProtocols.native(a.Protocol)
	for _, x := range p.list {
		xp := canonicalProtocol(x.Protocol)
		if xp == a.Protocol && canonicalAddress(xp, x.Name) == canonicalAddress(a.Protocol, a.Address) {
			return x.Name, x.Protocol, ""
		}
	}
	if a.Protocol == "xmpp" && !strings.Contains(a.Address, "/") {
		return a.Address + "/", protocol, "" // Pidgin's name for an empty resource
	}
	return a.Address, protocol, ""
}
