package app

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
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
	if protocol == "xmpp" && isCanonicalASCIIJID(kept) {
		if c, p := enforceJID(kept); c != kept || p != "" {
			t.Fatalf("xmpp %q: the quick test calls it canonical, the profile gives %q (%q)", kept, c, p)
		}
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

const (
	fp1 = "1111111111111111111111111111111111111111"
	fp2 = "2222222222222222222222222222222222222222"
	fp3 = "3333333333333333333333333333333333333333"
)

// sixRows is the case: six fingerprints of one Pidgin account,
// under contact names that are not UTF-8 (rows 1, 2 and 5: three different
// contacts, which lower-casing through strings.ToLower merged into two) and
// in mixed case (rows 3 and 4: one contact, with two trusts).
const sixRows = "caf\xe9@example.org\tAlice@Example.org/Home\tprpl-jabber\t" + fp1 + "\tverified\n" +
	"caf\xe8@example.org\tAlice@Example.org/Home\tprpl-jabber\t" + fp1 + "\t\n" +
	"Bob@Example.org\tAlice@Example.org/Home\tprpl-jabber\t" + fp2 + "\tverified\n" +
	"bob@example.org\tAlice@Example.org/Home\tprpl-jabber\t" + fp2 + "\tsmp\n" +
	"\xff@example.org\tAlice@Example.org/Home\tprpl-jabber\t" + fp1 + "\t\n" +
	"Bob@Example.org/Phone\tAlice@Example.org/Home\tprpl-jabber\t" + fp3 + "\t\n"

// storeDir writes files into a new folder and returns it.
func storeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), data)
	}
	return dir
}

const adiumMixedCasePlist = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>Accounts</key><array>
<dict><key>ObjectID</key><string>1</string><key>Service</key><string>Jabber</string><key>Type</key><string>libpurple-Jabber</string><key>UID</key><string>Alice@Example.ORG</string></dict>
<dict><key>ObjectID</key><string>2</string><key>Service</key><string>IRC</string><key>Type</key><string>libpurple-IRC</string><key>UID</key><string>Alice[m]@IRC.Libera.Chat</string></dict>
</array></dict></plist>
`

// A fingerprints file whose names are not UTF-8 or in mixed case comes
// back byte for byte from every libotr app, and each invalid name is
// reported with its file and line.
func TestNamesRoundTripByteExact(t *testing.T) {
	ircRows := "Bob\tAlice@irc.libera.chat\tIRC\t" + fp1 + "\tmanual\n" +
		"bob\tAlice@irc.libera.chat\tIRC\t" + fp1 + "\t\n" +
		"caf\xe9[m]\tAlice@irc.libera.chat\tIRC\t" + fp2 + "\tsmp\n" +
		"bad nick\talice@IRC.libera.chat\tIRC\t" + fp3 + "\t\n"
	for _, c := range []struct {
		app, file string
		files     map[string]string
		invalid   []int // lines with a name that is not valid
	}{
		{"pidgin", "otr.fingerprints", map[string]string{"otr.fingerprints": sixRows +
			"Carol@Example.org\tcaf\xe9@example.org/\tprpl-jabber\t" + fp3 + "\tverified\n" +
			"Bob[m]\tAlice@IRC.Libera.Chat\tprpl-irc\t" + fp2 + "\t\n"}, []int{1, 2, 5, 7}},
		{"kopete", "fingerprints", map[string]string{"fingerprints": strings.ReplaceAll(sixRows, "\tprpl-jabber\t", "\tJabber\t") +
			"Bob[m]\tAlice@IRC.Libera.Chat\tIRC\t" + fp2 + "\t\n"}, []int{1, 2, 5}},
		{"adium", "otr.fingerprints", map[string]string{"Accounts.plist": adiumMixedCasePlist,
			"otr.fingerprints": strings.ReplaceAll(sixRows, "\tAlice@Example.org/Home\tprpl-jabber\t", "\t1\tlibpurple-Jabber\t") +
				"Bob[m]\t2\tlibpurple-IRC\t" + fp2 + "\t\n"}, []int{1, 2, 5}},
		{"irssi", "otr.fp", map[string]string{"otr.fp": ircRows}, []int{4}},
		{"xchat", "otr.fp", map[string]string{"otr.fp": ircRows}, []int{4}},
	} {
		dir := storeDir(t, c.files)
		_, notices := read(t, c.app, dir)
		var lines []int
		for _, n := range notices {
			if strings.Contains(n.Msg, "not a valid") {
				if n.File != filepath.Join(dir, c.file) {
					t.Errorf("%s: notice names %q: %s", c.app, n.File, n)
				}
				lines = append(lines, n.Line)
			}
		}
		if fmt.Sprint(lines) != fmt.Sprint(c.invalid) {
			t.Errorf("%s: invalid names reported at lines %v, want %v: %v", c.app, lines, c.invalid, notices)
		}
		if n := roundTrip(t, c.app, dir); n != 1 {
			t.Errorf("%s: wrote %d files", c.app, n)
		}
	}
}

// The six fingerprints: the three contacts that are not UTF-8
// stay three, the two spellings of bob@example.org are one contact whose
// two trusts are a conflict, and Pidgin gets all six rows back.
func TestNamesSixFingerprints(t *testing.T) {
	src := storeDir(t, map[string]string{"otr.fingerprints": sixRows})
	s, notices := read(t, "pidgin", src)
	equal(t, "rows", rows(s), []string{
		"xmpp:alice@example.org|caf\xe9@example.org|" + fp1 + "|verified",
		"xmpp:alice@example.org|caf\xe8@example.org|" + fp1 + "|",
		"xmpp:alice@example.org|bob@example.org|" + fp2 + "|verified",
		"xmpp:alice@example.org|bob@example.org|" + fp2 + "|smp",
		"xmpp:alice@example.org|\xff@example.org|" + fp1 + "|",
		"xmpp:alice@example.org|bob@example.org|" + fp3 + "|",
	})
	var conflicts []string
	for _, n := range notices {
		if strings.Contains(n.Msg, "trust conflict") {
			conflicts = append(conflicts, n.String())
		}
	}
	if len(conflicts) != 1 || !strings.Contains(conflicts[0], `is "verified" as "Bob@Example.org" and "smp" as "bob@example.org", spellings of one contact`) ||
		!strings.Contains(conflicts[0], "22222222") || !strings.HasPrefix(conflicts[0], filepath.Join(src, "otr.fingerprints")) {
		t.Errorf("trust conflicts %q in %v", conflicts, notices)
	}
	roundTrip(t, "pidgin", src)

	// Into another app, the one contact is one row; nothing else merges.
	kopete := t.TempDir()
	c, err := Convert([]Location{mustLocation(t, "pidgin:"+src)}, []Location{mustLocation(t, "kopete:"+kopete)}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.Plan.Files {
		var b bytes.Buffer
		if _, err := f.Content.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		writeFile(t, f.Path, b.String())
	}
	back, _ := read(t, "kopete", kopete)
	equal(t, "kopete rows", rows(back), []string{
		"xmpp:alice@example.org|caf\xe9@example.org|" + fp1 + "|verified",
		"xmpp:alice@example.org|caf\xe8@example.org|" + fp1 + "|",
		"xmpp:alice@example.org|bob@example.org|" + fp2 + "|smp",
		"xmpp:alice@example.org|\xff@example.org|" + fp1 + "|",
		"xmpp:alice@example.org|bob@example.org|" + fp3 + "|",
	})

	// Merged with another store, the two trusts are a conflict of the model.
	c, err = Convert([]Location{mustLocation(t, "pidgin:"+src)}, []Location{mustLocation(t, "kopete:"+kopete)}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, x := range c.Conflicts {
		found = found || (x.Kind == keysync.TrustConflict && x.Contact == "bob@example.org" && x.Fingerprint.String() == fp2)
	}
	if !found || c.Unresolved == 0 || len(c.Plan.Files) != 0 {
		t.Errorf("conflicts %+v, %d unresolved, %d files", c.Conflicts, c.Unresolved, len(c.Plan.Files))
	}
}

// IRC nicks and servers are case-insensitive: Alice@irc.libera.chat and
// alice@IRC.Libera.Chat are one account. Other apps get the names as the
// app spelled them, since IRC apps look them up byte for byte.
func TestNamesIRCCaseMapping(t *testing.T) {
	key := strings.Replace(string(mustRead(t, fixtures+"/irssi/otr.key")), `(name "test@example.org")`, `(name "Alice[m]@irc.libera.chat")`, 1)
	dir := storeDir(t, map[string]string{
		"otr.key": key,
		"otr.fp": "Bob\talice{m}@IRC.Libera.Chat\tIRC\t" + fp1 + "\tmanual\n" +
			"carol\tAlice[m]@irc.libera.chat\tIRC\t" + fp2 + "\t\n",
	})
	s, notices := read(t, "irssi", dir)
	if len(notices) != 0 {
		t.Errorf("notices: %v", notices)
	}
	if len(s.Accounts) != 1 || s.Accounts[0].Account.String() != "irc:alice{m}@irc.libera.chat" || len(s.Accounts[0].Keys) != 1 {
		t.Fatalf("accounts: %+v", s.Accounts)
	}
	equal(t, "rows", rows(s), []string{
		"irc:alice{m}@irc.libera.chat|bob|" + fp1 + "|manual",
		"irc:alice{m}@irc.libera.chat|carol|" + fp2 + "|",
	})
	roundTrip(t, "irssi", dir)

	files, _ := write(t, "pidgin", t.TempDir(), s)
	got := map[string]string{}
	for _, f := range files {
		got[filepath.Base(f.Path)] = string(f.Data)
	}
	if !strings.Contains(got["otr.private_key"], `(name "Alice[m]@irc.libera.chat")`) {
		t.Errorf("key not under the app's spelling:\n%s", got["otr.private_key"])
	}
	want := "Bob\tAlice[m]@irc.libera.chat\tprpl-irc\t" + fp1 + "\tmanual\n" +
		"carol\tAlice[m]@irc.libera.chat\tprpl-irc\t" + fp2 + "\t\n"
	if got["otr.fingerprints"] != want {
		t.Errorf("otr.fingerprints:\n%s\nwant\n%s", got["otr.fingerprints"], want)
	}
}

// A file full of invalid names gives a bounded number of short notices.
func TestNameNoticesAreBounded(t *testing.T) {
	var b strings.Builder
	huge := strings.Repeat("\xfe", 900) // libotr lines hold 998 bytes at most
	fmt.Fprintf(&b, "%s\tme@example.org/\tprpl-jabber\t%s\t\n", huge, fp2)
	for i := range 30 {
		fmt.Fprintf(&b, "bad\xff%d@example.org\tme@example.org/\tprpl-jabber\t%s\t\n", i, fp1)
	}
	dir := storeDir(t, map[string]string{"otr.fingerprints": b.String()})
	s, notices := read(t, "pidgin", dir)
	if len(s.Fingerprints) != 31 {
		t.Errorf("%d rows, want 31", len(s.Fingerprints))
	}
	if len(notices) != maxNameNotices+1 {
		t.Fatalf("%d notices, want %d and a count", len(notices), maxNameNotices)
	}
	if last := notices[len(notices)-1].Msg; !strings.HasPrefix(last, "11 more uses of names") {
		t.Errorf("last notice %q", last)
	}
	for _, n := range notices {
		if len(n.Msg) > 400 {
			t.Errorf("notice of %d bytes: %s", len(n.Msg), n.Msg)
		}
	}
}

// Many spellings of one contact with different trusts give one short
// notice; many such contacts, a bounded number.
func TestSpellingConflictsAreBounded(t *testing.T) {
	var b strings.Builder
	trusts := []string{"verified", "smp"}
	for c := range 30 {
		for r := range 10 {
			fmt.Fprintf(&b, "c%d@example.org/r%d\tme@example.org/\tprpl-jabber\t%s\t%s\n", c, r, fp1, trusts[r%2])
		}
	}
	dir := storeDir(t, map[string]string{"otr.fingerprints": b.String()})
	_, notices := read(t, "pidgin", dir)
	if len(notices) != maxNameNotices+1 || notices[maxNameNotices].Msg != "10 more trust conflicts between spellings of one contact" {
		t.Fatalf("%d notices: %v", len(notices), notices)
	}
	want := `trust conflict: fingerprint 11111111 11111111 11111111 11111111 11111111 of contact "c0@example.org" of xmpp:me@example.org is ` +
		`"verified" as "c0@example.org/r0" and "smp" as "c0@example.org/r1" and "verified" as "c0@example.org/r2" and "smp" as "c0@example.org/r3" and 6 more, spellings of one contact`
	if notices[0].Msg != want {
		t.Errorf("notice\n%s\nwant\n%s", notices[0].Msg, want)
	}
}
