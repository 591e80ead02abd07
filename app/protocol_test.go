package app

import (
	"fmt"
	"strings"
	"testing"
)

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

// Protocols whose names are not UTF-8 are kept byte for byte, reported,
// and never merged: lower-casing them with strings.ToLower made both of
// these U+FFFD, one account with one fingerprint under two trusts.
func TestProtocolsNotUTF8StayApart(t *testing.T) {
	if got := canonicalProtocol("prpl-\xffA"); got != "\xffa" {
		t.Errorf("canonicalProtocol = %q, want %q", got, "\xffa")
	}
	dir := storeDir(t, map[string]string{"otr.fingerprints": "bob@example.org\talice@example.org\tprpl-\xffa\t" + fp1 + "\tverified\n" +
		"bob@example.org\talice@example.org\tprpl-\xfea\t" + fp1 + "\tsmp\n"})
	s, notices := read(t, "pidgin", dir)
	equal(t, "rows", rows(s), []string{
		"\xffa:alice@example.org|bob@example.org|" + fp1 + "|verified",
		"\xfea:alice@example.org|bob@example.org|" + fp1 + "|smp",
	})
	var lines []int
	for _, n := range notices {
		if strings.Contains(n.Msg, "protocol") && strings.Contains(n.Msg, "not valid UTF-8") {
			lines = append(lines, n.Line)
		}
	}
	if fmt.Sprint(lines) != "[1 2]" {
		t.Errorf("protocol notices at lines %v: %v", lines, notices)
	}
	files, _ := write(t, "kopete", t.TempDir(), s)
	want := "bob@example.org\talice@example.org\t\xffa\t" + fp1 + "\tverified\n" +
		"bob@example.org\talice@example.org\t\xfea\t" + fp1 + "\tsmp\n"
	if len(files) != 1 || string(files[0].Data) != want {
		t.Errorf("kopete wrote %d files, want one holding %q", len(files), want)
		for _, f := range files {
			t.Logf("%s: %q", f.Path, f.Data)
		}
	}
}
