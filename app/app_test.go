package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

const fixtures = "../testdata/fixtures"

func read(t *testing.T, name, dir string) (*keysync.Model, []Notice) {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("no app %q", name)
	}
	s, notices, err := a.Read(ReadRequest{Dir: dir, Source: name + ":" + dir})
	if err != nil {
		t.Fatalf("read %s:%s: %v", name, dir, err)
	}
	return s, notices
}

// written is a File with its content rendered.
type written struct {
	File
	Data []byte
}

func write(t *testing.T, name, dir string, s *keysync.Model) ([]written, []Notice) {
	t.Helper()
	a, _ := Lookup(name)
	plan, notices, err := a.Write(dir, name+":"+dir, s)
	if err != nil {
		t.Fatalf("write %s:%s: %v", name, dir, err)
	}
	var out []written
	for _, f := range plan.Files {
		var b bytes.Buffer
		if _, err := f.Content.WriteTo(&b); err != nil {
			t.Fatalf("write %s: %v", f.Path, err)
		}
		out = append(out, written{f, b.Bytes()})
	}
	return out, notices
}

// keyFingerprints lists "protocol:address=fingerprint" for every key.
func keyFingerprints(s *keysync.Model) []string {
	var out []string
	for _, la := range s.Accounts {
		for _, k := range la.Keys {
			out = append(out, la.Account.String()+"="+k.PrivateKey.Fingerprint().String())
		}
	}
	return out
}

// rows lists "local|contact|fingerprint|trust" for every fingerprint.
func rows(s *keysync.Model) []string {
	var out []string
	for _, f := range s.Fingerprints {
		out = append(out, strings.Join([]string{f.Local().String(), f.Contact, f.Fingerprint.String(), string(f.Trust)}, "|"))
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// The expectations below are those of doc/formats.md §11.
func TestPidginSample(t *testing.T) {
	s, notices := read(t, "pidgin", fixtures+"/pidgin")
	equal(t, "keys", keyFingerprints(s), []string{
		"xmpp:gptest@limun.org=64d5417f685ec59424ade08cd68911873642840c",
		"xmpp:gptest@jabber.org=f247f8b86842ffc7ba0b8348440f154d520169eb",
		"bonjour:gptest@mycomputer=51e891cf3f5ea4ff7b6682eb629d17779bc6234a",
	})
	equal(t, "fingerprints", rows(s), []string{
		"xmpp:gptest@jabber.org|gptest@jabber.ccc.de|a2cd015572d256703e7624840f91209160185410|",
		"xmpp:gptest@limun.org|gptest@jabber.ccc.de|a2cd015572d256703e7624840f91209160185410|verified",
		"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|",
		"xmpp:gptest@limun.org|hans@eds.org|f83fe8c909c4deb51c234574bab3e4f66af215f8|",
		"bonjour:gptest@mycomputer|n8fr8@foo_com|92967e4743bc730e0a3396be1a6ea365cc38f0f3|",
		"bonjour:gptest@mycomputer|gptest@jabber_ccc_de|a2cd015572d256703e7624840f91209160185410|verified",
	})
	if len(notices) != 1 || !strings.Contains(notices[0].String(), "y is not g^x mod p") ||
		!strings.Contains(notices[0].String(), "gptest@mycomputer") || notices[0].Line == 0 {
		t.Errorf("want one notice for the fake Bonjour key with its line, got %v", notices)
	}
	la := s.Account(keysync.Account{Protocol: "bonjour", Address: "gptest@mycomputer"})
	if la == nil || len(la.Keys) != 1 {
		t.Fatal("the invalid Bonjour key was dropped")
	}
}

func TestKopeteSampleIsPidginCopy(t *testing.T) {
	p, _ := read(t, "pidgin", fixtures+"/pidgin")
	k, _ := read(t, "kopete", fixtures+"/kopete")
	equal(t, "keys", keyFingerprints(k), keyFingerprints(p))
	equal(t, "fingerprints", rows(k), rows(p))
}

func TestAdiumSample(t *testing.T) {
	for _, dir := range []string{fixtures + "/adium", "../testdata/adium-binary"} {
		s, notices := read(t, "adium", dir)
		equal(t, dir+" keys", keyFingerprints(s), []string{
			"xmpp:gptest@jabber.org=39e90112c19d45cecb968ff981d32e9c9a5fe284",
			"xmpp:gptest@slipjack.com=8d0f48cb59348f3aa596dc7b1f5048c14368cf5d",
		})
		equal(t, dir+" fingerprints", rows(s), []string{
			"xmpp:gptest@slipjack.com|gptest@jabber.org|39e90112c19d45cecb968ff981d32e9c9a5fe284|verified",
			"xmpp:gptest@jabber.org|gptest@jabber.org|f83fe8c909c4deb51c234574bab3e4f66af215f8|verified",
			"xmpp:gptest@jabber.org|gptest@slipjack.com|8d0f48cb59348f3aa596dc7b1f5048c14368cf5d|verified",
			"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified",
		})
		if len(notices) != 0 {
			t.Errorf("%s: unexpected notices %v", dir, notices)
		}
	}
}

func TestAdiumUnmappedObjectIDIsKept(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtures+"/adium/otr.private_key", dir+"/otr.private_key")
	s, notices := read(t, "adium", dir) // no Accounts.plist at all
	if len(s.Accounts) != 2 || len(keyFingerprints(s)) != 2 {
		t.Fatalf("unmapped keys dropped: %v", keyFingerprints(s))
	}
	if len(notices) != 2 || !strings.Contains(notices[0].Msg, "Accounts.plist") {
		t.Errorf("notices = %v", notices)
	}
	// Adium can write them back under their ObjectIDs; Pidgin cannot hold them.
	files, _ := write(t, "adium", dir, s)
	if !bytes.Equal(files[0].Data, mustRead(t, fixtures+"/adium/otr.private_key")) {
		t.Error("unmapped keys not written back verbatim")
	}
	files, notices = write(t, "pidgin", t.TempDir(), s)
	if len(files) != 0 || len(notices) != 2 {
		t.Errorf("pidgin got %d files and notices %v", len(files), notices)
	}
}

func TestIrssiSample(t *testing.T) {
	for _, app := range []string{"irssi", "xchat"} {
		s, _ := read(t, app, fixtures+"/"+app)
		equal(t, "keys", keyFingerprints(s), []string{"irc:test@example.org=1e6152121c8a6dfefb5d84553c2111a2ff0e84d7"})
		equal(t, "fingerprints", rows(s), []string{
			"irc:test@example.org|bigbear|fffffffffffffcdfdddddeeeeee8aaaaaad00000|",
			"irc:test@example.org|goldy|0000111122223444455566666777778889990aab|",
			"irc:test@example.org|blue|bbbbbbbbbb223444455566666777778889990aab|smp",
			"irc:test@example.org|testymctest|eeeeee1122223444455566666777778889990aab|manual",
		})
	}
}

// Reading a sample and writing it back to the same folder reproduces every
// file byte for byte.
func TestRoundTripIsByteIdentical(t *testing.T) {
	for _, c := range []struct{ app, dir string }{
		{"pidgin", "pidgin"}, {"kopete", "kopete"}, {"adium", "adium"}, {"irssi", "irssi"},
		{"xchat", "xchat"}, {"pidgin", "SAMENESS/pidgin"}, {"adium", "SAMENESS/adium"},
	} {
		if n := roundTrip(t, c.app, fixtures+"/"+c.dir); n < 2 {
			t.Errorf("%s: wrote %d files", c.dir, n)
		}
	}
}

// SAMENESS: the same identity in Pidgin's and Adium's conventions.
// Converting either way reproduces the other app's files, except Adium's one
// row spelled with a lower-case "libpurple-jabber", which no protocol mapping
// can reproduce (doc/formats.md §11.2).
func TestSamenessPidginToAdium(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtures+"/SAMENESS/adium/Accounts.plist", dir+"/Accounts.plist")
	s, _ := read(t, "pidgin", fixtures+"/SAMENESS/pidgin")
	files, notices := write(t, "adium", dir, s)
	if len(notices) != 0 {
		t.Fatalf("notices: %v", notices)
	}
	got := map[string][]byte{}
	for _, f := range files {
		got[filepath.Base(f.Path)] = f.Data
	}
	if !bytes.Equal(got["otr.private_key"], mustRead(t, fixtures+"/SAMENESS/adium/otr.private_key")) {
		t.Error("otr.private_key differs from Adium's")
	}
	want := strings.Replace(string(mustRead(t, fixtures+"/SAMENESS/adium/otr.fingerprints")), "\tlibpurple-jabber\t", "\tlibpurple-Jabber\t", 1)
	if string(got["otr.fingerprints"]) != want {
		t.Errorf("otr.fingerprints:\n%s\nwant\n%s", got["otr.fingerprints"], want)
	}
	if _, ok := got["otr.instag"]; ok {
		t.Error("an instance tag was copied from Pidgin to Adium")
	}
}

func TestSamenessAdiumToPidgin(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtures+"/SAMENESS/pidgin/accounts.xml", dir+"/accounts.xml")
	s, _ := read(t, "adium", fixtures+"/SAMENESS/adium")
	files, _ := write(t, "pidgin", dir, s)
	for _, f := range files {
		if want := mustRead(t, fixtures+"/SAMENESS/pidgin/"+filepath.Base(f.Path)); !bytes.Equal(f.Data, want) {
			t.Errorf("%s:\n%s\nwant\n%s", filepath.Base(f.Path), f.Data, want)
		}
	}
	if len(files) != 2 {
		t.Errorf("wrote %d files, want otr.private_key and otr.fingerprints", len(files))
	}
}

// Pidgin without accounts.xml names an XMPP account with an empty resource;
// with accounts.xml, by the account it lists for the bare JID.
func TestPidginResourceFromAccountsXML(t *testing.T) {
	s, _ := read(t, "adium", fixtures+"/adium")
	files, _ := write(t, "pidgin", t.TempDir(), s)
	if !bytes.Contains(files[0].Data, []byte(`(name "gptest@jabber.org/")`)) {
		t.Errorf("no empty resource:\n%s", files[0].Data)
	}
	dir := t.TempDir()
	os.WriteFile(dir+"/accounts.xml", []byte(`<?xml version='1.0'?><account version='1.0'><account><protocol>prpl-jabber</protocol><name>GPTest@Jabber.org/Laptop</name></account></account>`), 0o600)
	files, _ = write(t, "pidgin", dir, s)
	if !bytes.Contains(files[0].Data, []byte(`(name "GPTest@Jabber.org/Laptop")`)) {
		t.Errorf("accounts.xml name not used:\n%s", files[0].Data)
	}
}

func TestIrssiGetsOnlyIRC(t *testing.T) {
	s, _ := read(t, "pidgin", fixtures+"/pidgin")
	files, notices := write(t, "irssi", t.TempDir(), s)
	if len(files) != 0 {
		t.Errorf("irssi got %d files from a store without IRC accounts", len(files))
	}
	if len(notices) != 3 {
		t.Fatalf("want a notice per skipped account, got %v", notices)
	}
	for _, n := range notices {
		if !strings.Contains(n.Msg, "holds only IRC accounts") {
			t.Errorf("notice without reason: %s", n)
		}
	}
}

func TestInstanceTagsStayWithTheirApp(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, fixtures+"/irssi/otr.key", dir+"/otr.key")
	os.WriteFile(dir+"/otr.instag", []byte("# WARNING! You shouldn't copy this file to another computer. It is unnecessary and can cause problems.\ntest@example.org\tIRC\t1234abcd\n"), 0o600)
	s, _ := read(t, "irssi", dir)
	files, _ := write(t, "xchat", t.TempDir(), s)
	for _, f := range files {
		if strings.HasSuffix(f.Path, "otr.instag") {
			t.Error("irssi's instance tag was copied to xchat")
		}
	}
	// Nor into another irssi store: an instance tag names one installation.
	other := t.TempDir()
	files, notices := write(t, "irssi", other, s)
	for _, f := range files {
		if strings.HasSuffix(f.Path, "otr.instag") {
			t.Error("irssi's instance tag was copied to another irssi store")
		}
	}
	want := "irssi:" + other + ": instance tags of irssi:" + dir + " not copied: an instance tag names one installation (libotr makes a new one)"
	if len(notices) != 1 || notices[0].Msg != want {
		t.Errorf("notices %v, want %q", notices, want)
	}
	// Written back to its own store, spelled another way, it stays.
	files, notices = write(t, "irssi", dir+"/.", s)
	var found bool
	for _, f := range files {
		found = found || (strings.HasSuffix(f.Path, "otr.instag") && bytes.Contains(f.Data, []byte("1234abcd")))
	}
	if !found || len(notices) != 0 {
		t.Errorf("writing irssi back to its folder lost the instance tag (notices %v)", notices)
	}
}

func TestMissingStore(t *testing.T) {
	a, _ := Lookup("pidgin")
	_, _, err := a.Read(ReadRequest{Dir: t.TempDir(), Source: "x"})
	if err == nil || !strings.Contains(err.Error(), ErrNoStore.Error()) {
		t.Fatalf("err = %v", err)
	}
}

func TestBadInputNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/otr.fingerprints", []byte("a\tb\tprpl-jabber\t0123456789012345678901234567890123456789\t\nbroken line\n"), 0o600)
	a, _ := Lookup("pidgin")
	_, _, err := a.Read(ReadRequest{Dir: dir, Source: "x"})
	if err == nil || !strings.Contains(err.Error(), "otr.fingerprints:2") {
		t.Fatalf("err = %v, want file:line", err)
	}
}

// roundTrip reads the app's store in dir, writes it back and checks that
// every file it writes equals the one in dir and that nothing was skipped.
// It returns the number of files written.
func roundTrip(t *testing.T, app, dir string) int {
	t.Helper()
	s, _ := read(t, app, dir)
	files, notices := write(t, app, dir, s)
	if len(notices) != 0 {
		t.Errorf("%s:%s: notices %v", app, dir, notices)
	}
	for _, f := range files {
		if !bytes.Equal(f.Data, mustRead(t, f.Path)) {
			t.Errorf("%s: %s differs after a round trip", app, f.Path)
		}
	}
	return len(files)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, mustRead(t, from), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two keys for one account in one file are both kept, and written back in
// the file's order even when another account stands between them.
func TestTwoKeysForOneAccountKeepFileOrder(t *testing.T) {
	dir := t.TempDir()
	data := strings.Replace(string(mustRead(t, fixtures+"/pidgin/otr.private_key")),
		"(name \"gptest@mycomputer\")\n(protocol prpl-bonjour)", "(name \"gptest@limun.org/\")\n(protocol prpl-jabber)", 1)
	if strings.Count(data, "(name \"gptest@limun.org/\")") != 2 {
		t.Fatal("sample changed: test edit did not apply")
	}
	writeFile(t, dir+"/otr.private_key", data)
	s, _ := read(t, "pidgin", dir)
	if la := s.Account(keysync.Account{Protocol: "xmpp", Address: "gptest@limun.org"}); la == nil || len(la.Keys) != 2 {
		t.Fatalf("want both keys of gptest@limun.org, got %v", keyFingerprints(s))
	}
	files, _ := write(t, "pidgin", dir, s)
	if string(files[0].Data) != data {
		t.Errorf("written:\n%s\nwant\n%s", files[0].Data, data)
	}
}

// Duplicate rows collapse as libotr collapses them: into the first row's
// place, with the last row's trust.
func TestDuplicateRowsCollapse(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/otr.fingerprints", ""+
		"bob@example.org\tme@example.org/\tprpl-jabber\t0000000000000000000000000000000000000001\t\n"+
		"carol@example.org\tme@example.org/\tprpl-jabber\t0000000000000000000000000000000000000002\tsmp\n"+
		"bob@example.org\tme@example.org/\tprpl-jabber\t0000000000000000000000000000000000000001\tverified\n"+
		"bob@example.org\tme@example.org/Other\tprpl-jabber\t0000000000000000000000000000000000000001\t\n")
	s, _ := read(t, "pidgin", dir)
	equal(t, "fingerprints", rows(s), []string{
		"xmpp:me@example.org|bob@example.org|0000000000000000000000000000000000000001|verified",
		"xmpp:me@example.org|carol@example.org|0000000000000000000000000000000000000002|smp",
		"xmpp:me@example.org|bob@example.org|0000000000000000000000000000000000000001|",
	})
}
