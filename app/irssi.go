package app

import "github.com/keysync/keysync"

func init() {
	for _, a := range []struct {
		name, dir string
		processes []string
	}{{"irssi", "~/.irssi/otr", []string{"irssi"}}, {"xchat", "~/.xchat2/otr", []string{"xchat", "xchat-gnome", "hexchat"}}} {
		register(&libotrApp{
			name:    a.name,
			keyFile: "otr.key", fpFile: "otr.fp", tagFile: "otr.instag",
			only:      "irc",
			dirs:      defaultDirs{linux: a.dir, darwin: a.dir},
			processes: a.processes,
			mapper:    func(string) (mapper, error) { return ircAccounts{}, nil },
			protocols: &ircProtocols,
		})
	}
}

// ircProtocols is irssi-otr's and xchat-otr's one protocol.
var ircProtocols = protocols{known: []protocolSpelling{{"irc", []string{"IRC"}}}}

// ircAccounts maps irssi-otr's and xchat-otr's accounts: "nick@server"
// names under the constant protocol "IRC".
type ircAccounts struct{}

func (ircAccounts) canonical(name, protocol string) (keysync.Account, string) {
	proto := canonicalProtocol(protocol)
	return keysync.Account{Protocol: proto, Address: canonicalAddress(proto, name)}, ""
}

func (ircAccounts) native(a keysync.Account) (name, protocol, why string) {
	return a.Address, ircProtocols.native("irc"), ""
}
