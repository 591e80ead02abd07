package app

import "testing"

// TestProtocolSpellings checks that each app writes its own spelling and
// that every app's spelling reads back as the canonical name.
func TestProtocolSpellings(t *testing.T) {
	for _, c := range []struct {
		p               *protocols
		canonical, want string
	}{
		{&pidginProtocols, "xmpp", "prpl-jabber"},
		{&pidginProtocols, "aim", "prpl-aim"}, // the prefix rule
		{&pidginProtocols, "sametime", "prpl-meanwhile"},
		{&kopeteProtocols, "xmpp", "Jabber"},
		{&kopeteProtocols, "msn", "WLM"},
		{&kopeteProtocols, "newproto", "newproto"},
		{&adiumProtocols, "irc", "libpurple-IRC"},
		{&ircProtocols, "irc", "IRC"},
	} {
		if got := c.p.native(c.canonical); got != c.want {
			t.Errorf("native(%q) = %q, want %q", c.canonical, got, c.want)
		}
	}
	for spelling, want := range map[string]string{
		"prpl-jabber": "xmpp", "Jabber": "xmpp", "Google Talk": "xmpp", "libpurple-jabber-gtalk": "xmpp",
		"libpurple-Facebook": "xmpp", "prpl-gg": "gadu-gadu", "bonjour-libezv": "bonjour", "IRC": "irc",
		"irc": "irc", "prpl-novell": "groupwise", "libpurple-zephyr": "zephyr", "prpl-Other": "other", "XMPP": "xmpp",
	} {
		if got := canonicalProtocol(spelling); got != want {
			t.Errorf("canonicalProtocol(%q) = %q, want %q", spelling, got, want)
		}
	}
}
