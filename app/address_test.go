package app

import (
	"strings"
	"testing"
)

var addressCases = []struct {
	protocol, name string
	canon          string
	problem        string // a part of the problem, "" when valid
}{
	// XMPP, RFC 7622.
	{"xmpp", "Alice@Example.ORG/Home", "alice@example.org", ""},
	{"xmpp", "me@host/", "me@host", ""},
	{"xmpp", "me@host/Res/With/Slashes", "me@host", ""},
	{"xmpp", "ME@EXAMPLE.ORG.", "me@example.org", ""},
	{"xmpp", "Example.ORG", "example.org", ""},
	{"xmpp", "\uff2a\uff55\uff4c\uff49\uff45\uff54@example.com", "juliet@example.com", ""}, // fullwidth
	{"xmpp", "\u00c5ngstr\u00f6m@Ex\u00e4mple.ORG", "\u00e5ngstr\u00f6m@ex\u00e4mple.org", ""},
	{"xmpp", "A\u030angstrom@example.org", "\u00e5ngstrom@example.org", ""}, // NFC
	{"xmpp", "me@XN--CAF-DMA.example", "me@xn--caf-dma.example", ""},
	{"xmpp", "me@[2001:DB8::0001]", "me@[2001:db8::1]", ""},
	{"xmpp", "me@host/caf\xe9", "me@host", ""}, // the resource is dropped, whatever it holds
	{"xmpp", "-123456@chat.facebook.com", "-123456@chat.facebook.com", ""},
	{"xmpp", "caf\xe9@example.org", "caf\xe9@example.org", "not valid UTF-8"},
	{"xmpp", "Caf\xe9@Example.org/Home", "Caf\xe9@Example.org", "not valid UTF-8"},
	{"xmpp", "\xff", "\xff", "not valid UTF-8"},
	{"xmpp", "Al ice@Example.org", "Al ice@Example.org", "localpart"},
	{"xmpp", "a&b@example.org", "a&b@example.org", "localpart"},
	{"xmpp", "a:b@example.org", "a:b@example.org", "localpart"},
	{"xmpp", "@example.org", "@example.org", "localpart: empty"},
	{"xmpp", "me@", "me@", "domainpart: empty"},
	{"xmpp", "", "", "domainpart: empty"},
	{"xmpp", "Me@My_Host", "Me@My_Host", "domainpart"},
	{"xmpp", "me@-x.org", "me@-x.org", "domainpart"},
	{"xmpp", "me@a..b", "me@a..b", "empty label"},
	{"xmpp", "me@a@b", "me@a@b", "domainpart"},
	{"xmpp", "me@[fe80::1%eth0]", "me@[fe80::1%eth0]", "IPv6"},
	{"xmpp", "me@\u05d0a.example", "me@\u05d0a.example", "Bidi"},
	{"xmpp", "me@" + strings.Repeat("a", 64) + ".org", "me@" + strings.Repeat("a", 64) + ".org", "63"},
	{"xmpp", strings.Repeat("a", 1024) + "@x.org", strings.Repeat("a", 1024) + "@x.org", "1023"},

	// IRC, rfc1459 case mapping.
	{"irc", "Alice@IRC.Libera.Chat", "alice@irc.libera.chat", ""},
	{"irc", "Nick[]\\~@Server", "nick{}|^@server", ""},
	{"irc", "Bob", "bob", ""},
	{"irc", "Bob@[::1]", "bob@[::1]", ""},
	{"irc", "CAF\xc9", "caf\xc9", ""}, // 8-bit: only ASCII letters map
	{"irc", "caf\xe9@Host", "caf\xe9@host", ""},
	{"irc", "Bad Nick@host", "Bad Nick@host", "nick holds"},
	{"irc", "a!b", "a!b", "nick holds"},
	{"irc", "a,b", "a,b", "nick holds"},
	{"irc", "A\x00b", "A\x00b", "nick holds"},
	{"irc", "@Host", "@Host", "empty nick"},
	{"irc", "", "", "empty nick"},
	{"irc", "Nick@", "Nick@", "empty server"},
	{"irc", "Nick@A@B", "Nick@A@B", "server holds"},

	// Other protocols: unchanged.
	{"bonjour", "Me@Host", "Me@Host", ""},
	{"aim", "Caf\xe9 User", "Caf\xe9 User", ""},
}

func TestCanonicalAddr(t *testing.T) {
	for _, c := range addressCases {
		canon, problem := canonicalAddr(c.protocol, c.name)
		if canon != c.canon || (c.problem == "") != (problem == "") || !strings.Contains(problem, c.problem) {
			t.Errorf("canonicalAddr(%q, %q) = %q, %q; want %q, a problem with %q", c.protocol, c.name, canon, problem, c.canon, c.problem)
		}
		if got := canonicalAddress(c.protocol, c.name); got != canon {
			t.Errorf("canonicalAddress(%q, %q) = %q, canonicalAddr gives %q", c.protocol, c.name, got, canon)
		}
	}
}

// Canonical forms are fixed points, valid or not.
func TestCanonicalAddrIsIdempotent(t *testing.T) {
	for _, c := range addressCases {
		checkCanonical(t, c.protocol, c.name)
	}
}

// checkCanonical checks what holds for every name: canonicalizing the
// canonical form gives it back with the same verdict, and an invalid name is
// kept byte for byte.
func checkCanonical(t *testing.T, protocol, name string) {
	t.Helper()
	canon, problem := canonicalAddr(protocol, name)
	again, problem2 := canonicalAddr(protocol, canon)
	if again != canon || (problem == "") != (problem2 == "") {
		t.Fatalf("%s %q → %q (%q) → %q (%q)", protocol, name, canon, problem, again, problem2)
	}
	kept := name
	if protocol == "xmpp" {
		kept, _, _ = strings.Cut(name, "/")
	}
	if problem != "" && canon != kept {
		t.Fatalf("%s %q: invalid (%s) but changed to %q", protocol, name, problem, canon)
	}
	if protocol == "irc" && len(canon) != len(name) {
		t.Fatalf("irc %q → %q changed length", name, canon)
	}
}

func FuzzCanonicalAddr(f *testing.F) {
	protocols := []string{"xmpp", "irc", "bonjour"}
	for _, c := range addressCases {
		for i, p := range protocols {
			if p == c.protocol {
				f.Add(uint8(i), c.name)
			}
		}
	}
	f.Fuzz(func(t *testing.T, protocol uint8, name string) {
		checkCanonical(t, protocols[int(protocol)%len(protocols)], name)
	})
}

func TestQuoteName(t *testing.T) {
	if got := quoteName("caf\xe9\t"); got != `"caf\xe9\t"` {
		t.Errorf("quoteName = %s", got)
	}
	long := strings.Repeat("é", 100)
	if got := quoteName(long); len(got) > 80 || !strings.HasSuffix(got, "…") || strings.Contains(got, `\x`) {
		t.Errorf("quoteName(200 bytes) = %s", got)
	}
}
