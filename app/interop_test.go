package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/otrtest"
)

// The interop tests let the real libotr write a Pidgin store — several
// accounts, instance tags, contacts with two fingerprints, every trust
// value — convert it with keysync between apps, and compare what libotr
// itself reads back from keysync's files.

var (
	xmppHome  = otrtest.Account{Name: "alice@example.org/Home", Protocol: "prpl-jabber"}
	xmppEmpty = otrtest.Account{Name: "bob@jabber.org/", Protocol: "prpl-jabber"}
	ircAcct   = otrtest.Account{Name: "alice@irc.example.net", Protocol: "prpl-irc"}
)

const pidginAccountsXML = `<?xml version='1.0' encoding='UTF-8' ?>
<account version='1.0'>
	<account><protocol>prpl-jabber</protocol><name>alice@example.org/Home</name></account>
	<account><protocol>prpl-jabber</protocol><name>bob@jabber.org/</name></account>
	<account><protocol>prpl-irc</protocol><name>alice@irc.example.net</name></account>
</account>
`

const adiumAccountsPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Accounts</key>
	<array>
		<dict><key>ObjectID</key><string>1</string><key>Service</key><string>Jabber</string><key>Type</key><string>libpurple-Jabber</string><key>UID</key><string>alice@example.org</string></dict>
		<dict><key>ObjectID</key><string>2</string><key>Service</key><string>GTalk</string><key>Type</key><string>libpurple-jabber-gtalk</string><key>UID</key><string>bob@jabber.org</string></dict>
		<dict><key>ObjectID</key><string>3</string><key>Service</key><string>IRC</string><key>Type</key><string>libpurple-IRC</string><key>UID</key><string>alice@irc.example.net</string></dict>
	</array>
	<key>TopAccountID</key>
	<integer>4</integer>
</dict>
</plist>
`

func fp(b byte) keysync.Fingerprint {
	var sum [20]byte
	for i := range sum {
		sum[i] = b ^ byte(i*37)
	}
	return keysync.OTRFingerprint(sum)
}

// libotrPidgin has libotr write a Pidgin store and returns its folder.
func libotrPidgin(t *testing.T, otr *otrtest.OTR) string {
	dir := t.TempDir()
	var fps []otrtest.FP
	trusts := []keysync.Trust{"", "verified", "smp", "manual", "trusted-by-some-plugin"}
	for i, c := range []struct {
		contact string
		acct    otrtest.Account
	}{
		{"carol@example.com", xmppHome}, {"dave@example.net", xmppHome},
		{"carol@example.com", xmppEmpty}, {"erin", ircAcct}, {"frank", ircAcct},
	} {
		for j := 0; j < 2; j++ { // two fingerprints per contact
			fps = append(fps, otrtest.FP{Contact: c.contact, Account: c.acct.Name, Protocol: c.acct.Protocol,
				Fingerprint: fp(byte(i*2 + j)), Trust: trusts[(i+j)%len(trusts)]})
		}
	}
	otr.Generate(t, dir, otrtest.Spec{
		PrivKeys: "otr.private_key", Keys: []otrtest.Account{xmppHome, xmppEmpty, ircAcct},
		InstanceTags: "otr.instance_tags", Tags: []otrtest.Account{xmppHome, xmppEmpty, ircAcct},
		Fingerprints: "otr.fingerprints", FPs: fps,
	})
	writeFile(t, filepath.Join(dir, "accounts.xml"), pidginAccountsXML)
	return dir
}

// convert reads from, merges and writes to, as keysync convert does.
func convert(t *testing.T, fromApp, fromDir, toApp, toDir string) []Notice {
	t.Helper()
	s, _ := read(t, fromApp, fromDir)
	m, conflicts := keysync.Merge([]keysync.Source{{Name: fromApp + ":" + fromDir, Model: s}}, "")
	if len(conflicts) != 0 {
		t.Fatalf("conflicts: %+v", conflicts)
	}
	files, notices := write(t, toApp, toDir, m)
	for _, f := range files {
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return notices
}

// dump is libotr's view of an app folder.
func dump(t *testing.T, otr *otrtest.OTR, dir, keys, fps, tags string) string {
	t.Helper()
	path := func(name string) string {
		if name == "" {
			return ""
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return ""
		}
		return filepath.Join(dir, name)
	}
	return otr.Dump(t, path(keys), path(fps), path(tags))
}

// rename maps the account and protocol columns of dump lines, drops
// instance tag lines, and keeps only lines whose protocol is in keep (all
// when keep is nil).
func rename(d string, names map[string]string, protocols map[string]string, keep map[string]bool) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		f := strings.Split(l, "\t")
		var ai, pi int
		switch f[0] {
		case "key":
			ai, pi = 1, 2
		case "fp":
			ai, pi = 2, 3
		default:
			continue
		}
		if keep != nil && !keep[f[pi]] {
			continue
		}
		if n, ok := names[f[ai]]; ok {
			f[ai] = n
		}
		if p, ok := protocols[f[pi]]; ok {
			f[pi] = p
		}
		out = append(out, strings.Join(f, "\t"))
	}
	return otrtest.SortLines(out)
}

func TestLibotrPidginRoundTripIsByteIdentical(t *testing.T) {
	otr := otrtest.Tool(t)
	if n := roundTrip(t, "pidgin", libotrPidgin(t, otr)); n != 3 {
		t.Fatalf("wrote %d files, want keys, fingerprints and instance tags", n)
	}
}

func TestLibotrIrssiRoundTripIsByteIdentical(t *testing.T) {
	otr := otrtest.Tool(t)
	dir := t.TempDir()
	irc := otrtest.Account{Name: "nick@irc.example.net", Protocol: "IRC"}
	otr.Generate(t, dir, otrtest.Spec{
		PrivKeys: "otr.key", Keys: []otrtest.Account{irc},
		InstanceTags: "otr.instag", Tags: []otrtest.Account{irc},
		Fingerprints: "otr.fp", FPs: []otrtest.FP{
			{Contact: "bear", Account: irc.Name, Protocol: "IRC", Fingerprint: fp(1), Trust: "manual"},
			{Contact: "bear", Account: irc.Name, Protocol: "IRC", Fingerprint: fp(2), Trust: ""},
			{Contact: "blue", Account: irc.Name, Protocol: "IRC", Fingerprint: fp(3), Trust: "smp"},
		},
	})
	if n := roundTrip(t, "irssi", dir); n != 3 {
		t.Fatalf("wrote %d files, want keys, fingerprints and instance tags", n)
	}
}

func TestLibotrPidginKopete(t *testing.T) {
	otr := otrtest.Tool(t)
	pidgin := libotrPidgin(t, otr)
	orig := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags")

	kopete := t.TempDir()
	convert(t, "pidgin", pidgin, "kopete", kopete)
	got := dump(t, otr, kopete, "privkeys", "fingerprints", "")
	want := rename(orig,
		map[string]string{xmppHome.Name: "alice@example.org", xmppEmpty.Name: "bob@jabber.org"},
		map[string]string{"prpl-jabber": "Jabber", "prpl-irc": "IRC"}, nil)
	if got != want {
		t.Errorf("libotr reads from Kopete's files:\n%s\nwant\n%s", got, want)
	}

	back := t.TempDir()
	writeFile(t, filepath.Join(back, "accounts.xml"), pidginAccountsXML)
	convert(t, "kopete", kopete, "pidgin", back)
	if got, want := dump(t, otr, back, "otr.private_key", "otr.fingerprints", "otr.instance_tags"), rename(orig, nil, nil, nil); got != want {
		t.Errorf("pidgin → kopete → pidgin:\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(back, "otr.instance_tags")); err == nil {
		t.Error("an instance tag came back from Kopete")
	}
}

func TestLibotrPidginAdium(t *testing.T) {
	otr := otrtest.Tool(t)
	pidgin := libotrPidgin(t, otr)
	orig := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags")

	adium := t.TempDir()
	writeFile(t, filepath.Join(adium, "Accounts.plist"), adiumAccountsPlist)
	convert(t, "pidgin", pidgin, "adium", adium)
	got := dump(t, otr, adium, "otr.private_key", "otr.fingerprints", "otr.instag")
	want := rename(orig,
		map[string]string{xmppHome.Name: "1", xmppEmpty.Name: "2", ircAcct.Name: "3"},
		nil, nil)
	// Adium's protocol is the account's Type.
	want = strings.NewReplacer("\t1\tprpl-jabber\t", "\t1\tlibpurple-Jabber\t", "\t2\tprpl-jabber\t", "\t2\tlibpurple-jabber-gtalk\t",
		"\t3\tprpl-irc\t", "\t3\tlibpurple-IRC\t").Replace(want)
	if got != want {
		t.Errorf("libotr reads from Adium's files:\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(adium, "otr.instag")); err == nil {
		t.Error("an instance tag was copied from Pidgin to Adium")
	}

	back := t.TempDir()
	writeFile(t, filepath.Join(back, "accounts.xml"), pidginAccountsXML)
	convert(t, "adium", adium, "pidgin", back)
	if got, want := dump(t, otr, back, "otr.private_key", "otr.fingerprints", "otr.instance_tags"), rename(orig, nil, nil, nil); got != want {
		t.Errorf("pidgin → adium → pidgin:\n%s\nwant\n%s", got, want)
	}
}

func TestLibotrPidginIrssi(t *testing.T) {
	otr := otrtest.Tool(t)
	pidgin := libotrPidgin(t, otr)
	orig := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags")

	irssi := t.TempDir()
	notices := convert(t, "pidgin", pidgin, "irssi", irssi)
	if len(notices) != 2 {
		t.Errorf("want the two XMPP accounts reported as skipped, got %v", notices)
	}
	got := dump(t, otr, irssi, "otr.key", "otr.fp", "otr.instag")
	want := rename(orig, nil, map[string]string{"prpl-irc": "IRC"}, map[string]bool{"prpl-irc": true})
	if got != want {
		t.Errorf("libotr reads from irssi's files:\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(irssi, "otr.instag")); err == nil {
		t.Error("an instance tag was copied from Pidgin to irssi")
	}

	back := t.TempDir()
	convert(t, "irssi", irssi, "pidgin", back)
	got = dump(t, otr, back, "otr.private_key", "otr.fingerprints", "")
	if want := rename(orig, nil, nil, map[string]bool{"prpl-irc": true}); got != want {
		t.Errorf("pidgin → irssi → pidgin:\n%s\nwant\n%s", got, want)
	}
}

// Converting to another store of the same app copies no instance tag (an
// instance tag names one installation; libotr, reading the result, makes
// new ones); a store written back keeps its own.
func TestLibotrPidginToPidginLeavesInstanceTags(t *testing.T) {
	otr := otrtest.Tool(t)
	pidgin := libotrPidgin(t, otr)
	orig := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags")
	if !strings.Contains(orig, "instag\t") {
		t.Fatalf("no instance tags in the source:\n%s", orig)
	}
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "accounts.xml"), pidginAccountsXML)
	convert(t, "pidgin", pidgin, "pidgin", other)
	if _, err := os.Stat(filepath.Join(other, "otr.instance_tags")); err == nil {
		t.Error("pidgin → another pidgin copied otr.instance_tags")
	}
	if got, want := dump(t, otr, other, "otr.private_key", "otr.fingerprints", ""), rename(orig, nil, nil, nil); got != want {
		t.Errorf("pidgin → pidgin:\n%s\nwant\n%s", got, want)
	}
	convert(t, "pidgin", other, "pidgin", pidgin)
	if got := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags"); got != orig {
		t.Errorf("pidgin → pidgin, back:\n%s\nwant\n%s", got, orig)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
