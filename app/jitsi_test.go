package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/peer"
)

const jitsiSample = fixtures + "/jitsi"

// jitsiCopy copies the Jitsi sample into a temporary folder.
func jitsiCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{jitsiProps, jitsiContacts} {
		copyFile(t, filepath.Join(jitsiSample, f), filepath.Join(dir, f))
	}
	return dir
}

func noticeText(ns []Notice) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}

// TestJitsiSample reads the sample as doc/formats.md §11.1, §11.3 and §11.4
// say: three accounts, two keys, the contacts' keys resolved through
// contactlist.xml (hans@eds.org under both accounts that have him), and
// the flag without a key reported.
func TestJitsiSample(t *testing.T) {
	s, notices := read(t, "jitsi", jitsiSample)
	var accounts []string
	for _, la := range s.Accounts {
		accounts = append(accounts, la.Account.String())
	}
	equal(t, "accounts", accounts, []string{
		"xmpp:guardianproject@gmail.com", "xmpp:gptest@jabber.org", "sip:gptest@sip.antisip.com",
	})
	equal(t, "keys", keyFingerprints(s), []string{
		"xmpp:guardianproject@gmail.com=9e9448fa7bbf7b236936d2cb4808ae91bb39507b",
		"xmpp:gptest@jabber.org=2ec4bc07e1d3e81a5604e75e00c9b03ebe4b7aea",
	})
	equal(t, "fingerprints", rows(s), []string{
		"xmpp:guardianproject@gmail.com|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified",
		"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified",
		"xmpp:gptest@jabber.org|gptest@limun.org|64d5417f685ec59424ade08cd68911873642840c|verified",
		"xmpp:gptest@jabber.org|hans@guardianproject.info|df953988f5c05788c0327186d06d3bb4ddaaec7f|verified",
	})
	for _, la := range s.Accounts {
		for _, k := range la.Keys {
			if err := k.PrivateKey.Validate(); err != nil {
				t.Errorf("%s: %v", la.Account, err)
			}
			if k.Origin.Name != "Google Talk:guardianproject@gmail.com@talk.google.com" && k.Origin.Name != "Jabber:gptest@jabber.org@jabber.org" {
				t.Errorf("key origin name %q", k.Origin.Name)
			}
		}
	}
	text := noticeText(notices)
	if len(notices) != 1 || !strings.Contains(text, `sip-communicator.properties:214: "gptest_jabber_org" is marked verified but has no _publicKey`) {
		t.Errorf("notices:\n%s", text)
	}
	for _, n := range notices {
		if n.Source != "jitsi:"+jitsiSample {
			t.Errorf("notice without the store's name: %+v", n)
		}
	}
}

// TestJitsiRoundTripKeepsFile writes what was read back into the sample:
// the file comes back byte for byte, and contactlist.xml is not written.
func TestJitsiRoundTripKeepsFile(t *testing.T) {
	dir := jitsiCopy(t)
	if n := roundTrip(t, "jitsi", dir); n != 1 {
		t.Errorf("%d files planned, want 1", n)
	}
	s, _ := read(t, "jitsi", dir)
	files, _ := write(t, "jitsi", dir, s)
	if !files[0].Secret || filepath.Base(files[0].Path) != jitsiProps {
		t.Errorf("planned %s, secret %v", files[0].Path, files[0].Secret)
	}
}

// changedLines returns the lines of b that are not in a, and of a not in b.
func changedLines(a, b []byte) (removed, added []string) {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for _, l := range al {
		if !slices.Contains(bl, l) {
			removed = append(removed, l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			added = append(added, l)
		}
	}
	return removed, added
}

// TestJitsiPidginIntoOldScheme writes the Pidgin sample into the Jitsi
// sample, which uses the old scheme: the key of gptest@jabber.org replaces
// Jitsi's under its ACCOUNT_UID, hans@eds.org's flag goes (Pidgin has his
// key unverified; Jitsi's unverify removes the flag), no other line
// changes, and what Jitsi cannot hold is reported with why.
func TestJitsiPidginIntoOldScheme(t *testing.T) {
	dir := jitsiCopy(t)
	s, _ := read(t, "pidgin", fixtures+"/pidgin")
	files, notices := write(t, "jitsi", dir, s)
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	removed, added := changedLines(mustRead(t, filepath.Join(dir, jitsiProps)), files[0].Data)
	for _, l := range added {
		if !strings.HasPrefix(l, jitsiOTR+"Jabber_gptest_jabber_org_jabber_org_") {
			t.Errorf("added line %.80s…", l)
		}
	}
	for _, l := range removed {
		if !strings.HasPrefix(l, jitsiOTR+"Jabber_gptest_jabber_org_jabber_org_") && l != jitsiOTR+"hans_eds_org_publicKey_verified=true" {
			t.Errorf("removed line %.80s…", l)
		}
	}
	if len(removed) != 3 || len(added) != 2 {
		t.Errorf("%d lines removed, %d added; want the key pair's 2 and a flag", len(removed), len(added))
	}
	text := noticeText(notices)
	for _, want := range []string{
		"skipped 1 private key, 2 fingerprints: Jitsi does not speak bonjour",
		"skipped 1 private key: Jitsi has no account for it in sip-communicator.properties",
		"skipped 2 fingerprints: the file uses Jitsi's old OTR scheme",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no notice %q in\n%s", want, text)
		}
	}
	// Read back: the new key, the file's other trust unchanged.
	copyFile(t, filepath.Join(dir, jitsiProps), filepath.Join(dir, "orig"))
	if err := os.WriteFile(filepath.Join(dir, jitsiProps), files[0].Data, 0o600); err != nil {
		t.Fatal(err)
	}
	back, _ := read(t, "jitsi", dir)
	equal(t, "keys", keyFingerprints(back), []string{
		"xmpp:guardianproject@gmail.com=9e9448fa7bbf7b236936d2cb4808ae91bb39507b",
		"xmpp:gptest@jabber.org=f247f8b86842ffc7ba0b8348440f154d520169eb",
	})
}

// jitsiAccounts is a properties file with the two XMPP accounts of the
// Pidgin sample, as Jitsi writes them, and no OTR property.
const jitsiAccountsProps = `#Tue Dec 01 12:00:00 UTC 2026
net.java.sip.communicator.impl.protocol.jabber.acc1=acc1
net.java.sip.communicator.impl.protocol.jabber.acc1.ACCOUNT_UID=Jabber\:gptest@jabber.org@jabber.org
net.java.sip.communicator.impl.protocol.jabber.acc1.PROTOCOL_NAME=Jabber
net.java.sip.communicator.impl.protocol.jabber.acc1.USER_ID=gptest@jabber.org
net.java.sip.communicator.impl.protocol.jabber.acc2=acc2
net.java.sip.communicator.impl.protocol.jabber.acc2.ACCOUNT_UID=Jabber\:gptest@limun.org@limun.org
net.java.sip.communicator.impl.protocol.jabber.acc2.PROTOCOL_NAME=Jabber
net.java.sip.communicator.impl.protocol.jabber.acc2.USER_ID=gptest@limun.org
net.java.sip.communicator.impl.gui.main.MainFrame.height=600
`

// contactList returns a contactlist.xml with the given (account-id,
// address) contacts.
func contactList(contacts ...[2]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n<sip-communicator>\n<group name=\"RootMetaContactGroup\" uid=\"RootMetaContactGroup\"><child-contacts>\n")
	for _, c := range contacts {
		b.WriteString(`<meta-contact uid="1"><display-name>x</display-name><contact account-id="` + c[0] + `" address="` + c[1] + `" parent-proto-group-uid="ContactListRoot"/></meta-contact>` + "\n")
	}
	b.WriteString("</child-contacts></group>\n</sip-communicator>\n")
	return b.String()
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func apply(t *testing.T, files []written) {
	t.Helper()
	for _, f := range files {
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	jabberUID = "Jabber:gptest@jabber.org@jabber.org"
	limunUID  = "Jabber:gptest@limun.org@limun.org"
)

// TestJitsiPidginRoundTrip converts pidgin → jitsi → pidgin: keys and trust
// come back when each (contact, fingerprint) has one trust; the Pidgin
// sample's one contact with two trusts comes back trusted under both, with
// a notice.
func TestJitsiPidginRoundTrip(t *testing.T) {
	src := t.TempDir()
	copyFile(t, fixtures+"/pidgin/otr.private_key", filepath.Join(src, "otr.private_key"))
	copyFile(t, fixtures+"/pidgin/accounts.xml", filepath.Join(src, "accounts.xml"))
	// The XMPP rows of the sample, but for gptest@jabber.ccc.de's second
	// trust, and the own key of one account known to the other.
	fps := "gptest@jabber.ccc.de\tgptest@jabber.org/\tprpl-jabber\ta2cd015572d256703e7624840f91209160185410\tverified\n" +
		"gptest@jabber.ccc.de\tgptest@limun.org/\tprpl-jabber\ta2cd015572d256703e7624840f91209160185410\tverified\n" +
		"hans@eds.org\tgptest@jabber.org/\tprpl-jabber\tff66e8c909c4deb51cbd4a02b9e6af4d6af215f8\t\n" +
		"hans@eds.org\tgptest@limun.org/\tprpl-jabber\tf83fe8c909c4deb51c234574bab3e4f66af215f8\tsmp\n" +
		"gptest@limun.org\tgptest@jabber.org/\tprpl-jabber\t64d5417f685ec59424ade08cd68911873642840c\tverified\n"
	writeFiles(t, src, map[string]string{"otr.fingerprints": fps})
	before, _ := read(t, "pidgin", src)

	jd := t.TempDir()
	writeFiles(t, jd, map[string]string{
		jitsiProps: jitsiAccountsProps,
		jitsiContacts: contactList([2]string{jabberUID, "gptest@jabber.ccc.de"}, [2]string{limunUID, "gptest@jabber.ccc.de"},
			[2]string{jabberUID, "hans@eds.org"}, [2]string{limunUID, "hans@eds.org"}, [2]string{jabberUID, "gptest@limun.org"}),
	})
	files, notices := write(t, "jitsi", jd, before)
	if text := noticeText(notices); text != "jitsi: skipped 1 private key: Jitsi does not speak bonjour\n" {
		t.Errorf("notices:\n%s", text)
	}
	apply(t, files)
	mid, notices := read(t, "jitsi", jd)
	if len(notices) != 0 {
		t.Errorf("read notices:\n%s", noticeText(notices))
	}

	dst := t.TempDir()
	copyFile(t, fixtures+"/pidgin/accounts.xml", filepath.Join(dst, "accounts.xml"))
	files, _ = write(t, "pidgin", dst, mid)
	apply(t, files)
	after, _ := read(t, "pidgin", dst)
	keys := keyFingerprints(after)
	slices.Sort(keys)
	equal(t, "keys", keys, []string{
		"xmpp:gptest@jabber.org=f247f8b86842ffc7ba0b8348440f154d520169eb",
		"xmpp:gptest@limun.org=64d5417f685ec59424ade08cd68911873642840c",
	})
	for _, la := range before.Accounts {
		for _, k := range la.Keys {
			if a := after.Account(la.Account); la.Protocol == "xmpp" && (a == nil || !a.Keys[0].PrivateKey.Equal(k.PrivateKey)) {
				t.Errorf("key of %s lost or changed", la.Account)
			}
		}
	}
	// Jitsi keeps one verification per contact address: hans@eds.org's
	// ff66… (unverified) and f83f… (smp) are both known to both accounts
	// after the trip, with their trust.
	got := rows(after)
	slices.Sort(got)
	equal(t, "rows", got, []string{
		"xmpp:gptest@jabber.org|gptest@jabber.ccc.de|a2cd015572d256703e7624840f91209160185410|verified",
		"xmpp:gptest@jabber.org|gptest@limun.org|64d5417f685ec59424ade08cd68911873642840c|verified",
		"xmpp:gptest@jabber.org|hans@eds.org|f83fe8c909c4deb51c234574bab3e4f66af215f8|verified",
		"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|",
		"xmpp:gptest@limun.org|gptest@jabber.ccc.de|a2cd015572d256703e7624840f91209160185410|verified",
		"xmpp:gptest@limun.org|hans@eds.org|f83fe8c909c4deb51c234574bab3e4f66af215f8|verified",
		"xmpp:gptest@limun.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|",
	})
	// Every row of before is there with its trust, up to the spelling of
	// a trusted value (Jitsi holds a boolean).
	for _, f := range before.Fingerprints {
		want := f.Local().String() + "|" + f.Contact + "|" + f.Fingerprint.String() + "|"
		if f.Trust.Trusted() {
			want += "verified"
		}
		if !slices.Contains(got, want) {
			t.Errorf("row %s lost", want)
		}
	}
}

// TestJitsiNewSchemeFile writes into a store without OTR properties: the
// newer per-fingerprint scheme, fingerprints in upper case, keys under
// the sanitized ACCOUNT_UID, other lines kept; the contacts not in
// contactlist.xml are reported.
func TestJitsiNewSchemeFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{jitsiProps: jitsiAccountsProps,
		jitsiContacts: contactList([2]string{jabberUID, "Hans@eds.org"}, [2]string{jabberUID, "gptest@jabber.ccc.de"})})
	s, _ := read(t, "pidgin", fixtures+"/pidgin")
	files, notices := write(t, "jitsi", dir, s)
	out := string(files[0].Data)
	if !strings.HasPrefix(out, jitsiAccountsProps) {
		t.Error("the file's lines are not kept")
	}
	for _, want := range []string{
		jitsiOTR + "Jabber_gptest_jabber_org_jabber_org_privateKey=MII",
		jitsiOTR + "Jabber_gptest_jabber_org_jabber_org_publicKey=MII",
		jitsiOTR + "Jabber_gptest_limun_org_limun_org_privateKey=MII",
		// contactlist.xml's spelling of hans@eds.org
		jitsiOTR + "Hans_eds_org_fingerprints=FF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8,F83FE8C909C4DEB51C234574BAB3E4F66AF215F8\n",
		jitsiOTR + "Hans_eds_orgFF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8_fingerprint_verified=false\n",
		jitsiOTR + "gptest_jabber_ccc_de_fingerprints=A2CD015572D256703E7624840F91209160185410\n",
		jitsiOTR + "gptest_jabber_ccc_deA2CD015572D256703E7624840F91209160185410_fingerprint_verified=true\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q", want)
		}
	}
	if strings.Contains(out, "bonjour") || strings.Contains(out, "n8fr8") {
		t.Error("a Bonjour record was written")
	}
	if !strings.Contains(noticeText(notices), "verified under some accounts only") {
		t.Errorf("no notice of the folded trust:\n%s", noticeText(notices))
	}
	// A folder without Jitsi's files: no account to hold a key, no
	// contact to hold a fingerprint, so nothing is written.
	empty := t.TempDir()
	files, notices = write(t, "jitsi", empty, s)
	if len(files) != 0 || !strings.Contains(noticeText(notices), "skipped 2 private keys: Jitsi has no account") ||
		!strings.Contains(noticeText(notices), "skipped 4 fingerprints: no contactlist.xml in "+empty) {
		t.Errorf("new store: %d files, notices\n%s", len(files), noticeText(notices))
	}
}

// TestJitsiContactsByEquality: a sanitized name is resolved by equality
// with a sanitized address of contactlist.xml; two addresses spelled the
// same are ambiguous, and a name no address gives is reported.
func TestJitsiContactsByEquality(t *testing.T) {
	dir := t.TempDir()
	data := string(mustRead(t, filepath.Join(jitsiSample, jitsiProps)))
	// ab_c_d matches a.b@c.d, and ab.c@d would too: ambiguous. x_y_z has no
	// contact; hans_eds_org's regex twin hansXedsXorg must not match.
	hans := jitsiOTR + "hans_eds_org_publicKey="
	i := strings.Index(data, hans)
	key := data[i+len(hans) : i+strings.Index(data[i:], "\n")]
	data += jitsiOTR + "a_b_c_d_publicKey=" + key + "\n" +
		jitsiOTR + "x_y_z_publicKey=" + key + "\n"
	writeFiles(t, dir, map[string]string{
		jitsiProps: data,
		jitsiContacts: contactList([2]string{jabberUID, "a.b@c.d"}, [2]string{jabberUID, "a_b@c.d"},
			[2]string{jabberUID, "hansXedsXorg"}, [2]string{jabberUID, "hans@eds.org"}),
	})
	s, notices := read(t, "jitsi", dir)
	text := noticeText(notices)
	for _, want := range []string{
		`"a_b_c_d": ambiguous: the contacts "a.b@c.d" and "a_b@c.d" of contactlist.xml are all spelled "a_b_c_d"; skipped`,
		`"x_y_z": no contact in contactlist.xml has an address that Jitsi spells "x_y_z"; skipped`,
		`"gptest_limun_org": no contact in contactlist.xml`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no notice %q in\n%s", want, text)
		}
	}
	equal(t, "fingerprints", rows(s), []string{"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified"})
}

// TestJitsiID spells ids as Jitsi does.
func TestJitsiID(t *testing.T) {
	for in, want := range map[string]string{
		"Jabber:gptest@jabber.org@jabber.org.privateKey": "Jabber_gptest_jabber_org_jabber_org_privateKey",
		"Google Talk:a@b":  "Google_Talk_a_b",
		"1user@host":       "p1user_host",
		"josé@exämple.org": "josé_exämple_org",
		"日本@x":             "日本_x",
		"a😀b":              "a__b",
		"":                 "",
	} {
		if got := jitsiID(in); got != want {
			t.Errorf("jitsiID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJitsiBadInput names the file and line and shows no content.
func TestJitsiBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{jitsiProps: "a=1\nb=\\u00zz secret\n"})
	_, _, err := jitsiApp{}.Read(ReadRequest{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "sip-communicator.properties: line 2") || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v", err)
	}
	writeFiles(t, dir, map[string]string{jitsiProps: "", jitsiContacts: "<sip-communicator><contact address='password123'></sip-communicator>"})
	_, _, err = jitsiApp{}.Read(ReadRequest{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "contactlist.xml: line 1") || strings.Contains(err.Error(), "password123") {
		t.Errorf("error %v", err)
	}
	writeFiles(t, dir, map[string]string{jitsiContacts: strings.Repeat("<a>", maxXMLDepth+1)})
	_, _, err = jitsiApp{}.Read(ReadRequest{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep XML: %v", err)
	}
	_, _, err = jitsiApp{}.Read(ReadRequest{Dir: t.TempDir()})
	if !errors.Is(err, ErrNoStore) {
		t.Errorf("empty folder: %v", err)
	}
	// A bad key is an error that shows no key material.
	writeFiles(t, dir, map[string]string{jitsiContacts: contactList(),
		jitsiProps: strings.Replace(jitsiAccountsProps, "acc1.USER_ID", "acc1.X", 1) +
			jitsiOTR + "Jabber_gptest_jabber_org_jabber_org_privateKey=MIIBSwIBADCCASwGByqGSM44BAEwgg\\=\\=\n"})
	_, _, err = jitsiApp{}.Read(ReadRequest{Dir: dir})
	if err == nil || !strings.HasSuffix(err.Error(), `sip-communicator.properties:11: private key of "Jabber:gptest@jabber.org@jabber.org": not a DSA key in Java's DER form: asn1: syntax error: data truncated`) ||
		strings.Contains(err.Error(), "MII") {
		t.Errorf("bad key: %v", err)
	}
}

// TestJitsiDefaultDir is ~/.jitsi on Linux.
func TestJitsiDefaultDir(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	d, err := jitsiApp{}.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"linux": "/home/u/.jitsi", "darwin": "/home/u/Library/Application Support/Jitsi"}[runtime.GOOS]; want != "" && d != want {
		t.Errorf("DefaultDir = %q, want %q", d, want)
	}
}

// jitsiJava compiles testdata/jitsi/JitsiCheck.java and returns a function
// running it.
func jitsiJava(t *testing.T) func(stdin string, args ...string) string {
	t.Helper()
	javac := peer.Need(t, "javac")
	java := peer.Need(t, "java")
	dir := t.TempDir()
	if out, err := exec.Command(javac, "-d", dir, "testdata/jitsi/JitsiCheck.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(java, append([]string{"-cp", dir, "JitsiCheck"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("java JitsiCheck %s: %v\n%s", args[0], err, stderr.String())
		}
		return string(out)
	}
}

// TestJitsiJava: java.util.Properties and KeyFactory read what keysync
// writes, with the fingerprints and flags of the model; a store Java
// writes reads here with Java's fingerprints; ids are spelled as Java's
// Character.isLetterOrDigit spells them.
func TestJitsiJava(t *testing.T) {
	run := jitsiJava(t)

	// keysync → Java, into the sample (old scheme) and a new-scheme file.
	pidgin, _ := read(t, "pidgin", fixtures+"/pidgin")
	old := jitsiCopy(t)
	files, _ := write(t, "jitsi", old, pidgin)
	apply(t, files)
	got := run("", "read", filepath.Join(old, jitsiProps))
	for _, want := range []string{
		"key Jabber_gptest_jabber_org_jabber_org_privateKey f247f8b86842ffc7ba0b8348440f154d520169eb\n",
		"key Jabber_gptest_jabber_org_jabber_org_publicKey f247f8b86842ffc7ba0b8348440f154d520169eb\n",
		"key Google_Talk_guardianproject_gmail_com_talk_google_com_privateKey 9e9448fa7bbf7b236936d2cb4808ae91bb39507b\n",
		"key hans_eds_org_publicKey ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8\n",
		"prop hans_guardianproject_info_publicKey_verified=true\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Java did not read %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "hans_eds_org_publicKey_verified") {
		t.Error("hans@eds.org's flag stayed, though Pidgin has his key unverified")
	}
	nd := t.TempDir()
	writeFiles(t, nd, map[string]string{jitsiProps: jitsiAccountsProps,
		jitsiContacts: contactList([2]string{jabberUID, "hans@eds.org"}, [2]string{jabberUID, "gptest@jabber.ccc.de"})})
	files, _ = write(t, "jitsi", nd, pidgin)
	apply(t, files)
	got = run("", "read", filepath.Join(nd, jitsiProps))
	want := "key Jabber_gptest_jabber_org_jabber_org_privateKey f247f8b86842ffc7ba0b8348440f154d520169eb\n" +
		"key Jabber_gptest_jabber_org_jabber_org_publicKey f247f8b86842ffc7ba0b8348440f154d520169eb\n" +
		"key Jabber_gptest_limun_org_limun_org_privateKey 64d5417f685ec59424ade08cd68911873642840c\n" +
		"key Jabber_gptest_limun_org_limun_org_publicKey 64d5417f685ec59424ade08cd68911873642840c\n" +
		"prop gptest_jabber_ccc_deA2CD015572D256703E7624840F91209160185410_fingerprint_verified=true\n" +
		"prop gptest_jabber_ccc_de_fingerprints=A2CD015572D256703E7624840F91209160185410\n" +
		"prop hans_eds_orgF83FE8C909C4DEB51C234574BAB3E4F66AF215F8_fingerprint_verified=false\n" +
		"prop hans_eds_orgFF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8_fingerprint_verified=false\n" +
		"prop hans_eds_org_fingerprints=FF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8,F83FE8C909C4DEB51C234574BAB3E4F66AF215F8\n"
	if got != want {
		t.Errorf("Java read\n%s\nwant\n%s", got, want)
	}

	// Java → keysync.
	jd := t.TempDir()
	fps := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(run("", "gen", filepath.Join(jd, jitsiProps))), "\n") {
		f := strings.Fields(l)
		fps[f[1]] = f[2]
	}
	const alice = "Jabber:alice@example.org@example.org"
	writeFiles(t, jd, map[string]string{jitsiContacts: contactList([2]string{alice, "bob@example.org"}, [2]string{alice, "carol@example.org"})})
	s, notices := read(t, "jitsi", jd)
	if len(notices) != 0 {
		t.Errorf("notices:\n%s", noticeText(notices))
	}
	equal(t, "keys", keyFingerprints(s), []string{"xmpp:alice@example.org=" + fps["alice"]})
	equal(t, "fingerprints", rows(s), []string{
		"xmpp:alice@example.org|bob@example.org|" + fps["bob"] + "|verified",
		"xmpp:alice@example.org|carol@example.org|" + fps["carol"] + "|verified",
	})
	if err := s.Accounts[0].Keys[0].PrivateKey.Validate(); err != nil {
		t.Error(err)
	}

	// Ids, against Java's Character class.
	names := []string{"Jabber:gptest@jabber.org@jabber.org", "1a", "٣x", "josé.ü@ß", "日本語@x.y", "a😀b", "Ωmega-1_2", "tab\there", "ｆｕｌｌ", "\u00aa\u00b5\u00ba", "x\u0301"}
	javaIDs := strings.Split(strings.TrimSuffix(run(strings.Join(names, "\n")+"\n", "sanitize"), "\n"), "\n")
	for i, n := range names {
		if i < len(javaIDs) && jitsiID(n) != javaIDs[i] {
			t.Errorf("jitsiID(%q) = %q, Java %q", n, jitsiID(n), javaIDs[i])
		}
	}
	if len(javaIDs) != len(names) {
		t.Errorf("Java spelled %d names of %d", len(javaIDs), len(names))
	}
}

// TestJitsiNoticesBounded: a file of many unresolvable contacts gives
// jitsiMaxNotices notices and a count of the rest.
func TestJitsiNoticesBounded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range jitsiMaxNotices + 10 {
		b.WriteString(jitsiOTR + "c" + strings.Repeat("x", i) + "_publicKey_verified=true\n")
	}
	writeFiles(t, dir, map[string]string{jitsiProps: b.String()})
	_, notices := read(t, "jitsi", dir)
	if len(notices) != jitsiMaxNotices+1 || notices[jitsiMaxNotices].Msg != "10 more notices like these" {
		t.Errorf("%d notices, the last %q", len(notices), notices[len(notices)-1].Msg)
	}
}

// TestJitsiAmbiguousAccounts: two ACCOUNT_UIDs spelled alike share one
// key property, which Jitsi uses for both; reading gives it to both, with
// a notice, rather than leaving it out of the model, where a conversion
// would replace it unseen.
func TestJitsiAmbiguousAccounts(t *testing.T) {
	dir := jitsiCopy(t)
	data := string(mustRead(t, filepath.Join(dir, jitsiProps))) +
		"net.java.sip.communicator.impl.protocol.jabber.acc9.ACCOUNT_UID=Jabber\\:gptest@jabber_org@jabber.org\n"
	writeFiles(t, dir, map[string]string{jitsiProps: data})
	s, notices := read(t, "jitsi", dir)
	if !strings.Contains(noticeText(notices), `private key "Jabber_gptest_jabber_org_jabber_org": the ACCOUNT_UIDs of 2 accounts ("Jabber:gptest@jabber.org@jabber.org", "Jabber:gptest@jabber_org@jabber.org") are all spelled so: Jitsi uses it for each, and so does keysync`) {
		t.Errorf("notices:\n%s", noticeText(notices))
	}
	equal(t, "keys", keyFingerprints(s), []string{"xmpp:guardianproject@gmail.com=9e9448fa7bbf7b236936d2cb4808ae91bb39507b",
		"xmpp:gptest@jabber.org=2ec4bc07e1d3e81a5604e75e00c9b03ebe4b7aea", "xmpp:gptest@jabber_org=2ec4bc07e1d3e81a5604e75e00c9b03ebe4b7aea"})
	// The two accounts can hold only one key: a model giving them two is
	// refused, not written with whichever comes last.
	var other []keysync.Key
	for _, la := range s.Accounts {
		if la.Account.Address == "guardianproject@gmail.com" {
			other = la.Keys
		}
	}
	for _, la := range s.Accounts {
		if la.Account.Address == "gptest@jabber_org" {
			la.Keys = other
		}
	}
	if _, _, err := (jitsiApp{}).Write(dir, "jitsi:"+dir, s); err == nil || !strings.Contains(err.Error(), "share one key") {
		t.Errorf("two keys for one key property: %v", err)
	}
}

// BenchmarkJitsiWrite measures writing 20k contacts' fingerprints into a
// new-scheme store and encoding the file.
func BenchmarkJitsiWrite(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, jitsiProps), []byte(jitsiAccountsProps), 0o600); err != nil {
		b.Fatal(err)
	}
	o := &keysync.Origin{Source: "pidgin:x", App: "pidgin", Local: keysync.Account{Protocol: "xmpp", Address: "gptest@jabber.org"}}
	m := &keysync.Model{Accounts: []*keysync.LocalAccount{{Account: o.Local, Origins: []*keysync.Origin{o}}}}
	for i := range 20000 {
		var sum [20]byte
		sum[0], sum[1], sum[2] = byte(i), byte(i>>8), byte(i%3)
		m.Fingerprints = append(m.Fingerprints, keysync.KnownFingerprint{Contact: fmt.Sprintf("c%d@example.org", i/2),
			Fingerprint: keysync.OTRFingerprint(sum), Trust: keysync.Verified, Origin: o})
	}
	for b.Loop() {
		plan, _, err := jitsiApp{}.Write(dir, "jitsi:"+dir, m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := plan.Files[0].Content.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJitsiNewSchemeRead reads the per-fingerprint scheme: the list in
// either case, flags as Boolean.parseBoolean reads them, a flag whose
// fingerprint is not listed; writing the same model back changes nothing,
// and a new trust changes only its flag, in the list's spelling.
func TestJitsiNewSchemeRead(t *testing.T) {
	dir := t.TempDir()
	props := jitsiAccountsProps +
		jitsiOTR + "hans_eds_org_fingerprints=ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8,zz,F83FE8C909C4DEB51C234574BAB3E4F66AF215F8\n" +
		jitsiOTR + "hans_eds_orgff66e8c909c4deb51cbd4a02b9e6af4d6af215f8_fingerprint_verified=TRUE\n" +
		jitsiOTR + "hans_eds_orgF83FE8C909C4DEB51C234574BAB3E4F66AF215F8_fingerprint_verified=false\n" +
		jitsiOTR + "hans_eds_org2F66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8_fingerprint_verified=true\n"
	writeFiles(t, dir, map[string]string{jitsiProps: props, jitsiContacts: contactList([2]string{limunUID, "hans@eds.org"})})
	s, notices := read(t, "jitsi", dir)
	equal(t, "fingerprints", rows(s), []string{
		"xmpp:gptest@limun.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified",
		"xmpp:gptest@limun.org|hans@eds.org|f83fe8c909c4deb51c234574bab3e4f66af215f8|",
		"xmpp:gptest@limun.org|hans@eds.org|2f66e8c909c4deb51cbd4a02b9e6af4d6af215f8|verified",
	})
	if text := noticeText(notices); !strings.Contains(text, `fingerprints of "hans_eds_org": "zz" is not a fingerprint; skipped`) {
		t.Errorf("notices:\n%s", text)
	}
	files, _ := write(t, "jitsi", dir, s)
	if string(files[0].Data) != props {
		t.Errorf("writing back changed the file:\n%s", files[0].Data)
	}
	s.Fingerprints[0].Trust = keysync.Unverified
	s.Fingerprints[1].Trust = keysync.SMP
	files, _ = write(t, "jitsi", dir, s)
	removed, added := changedLines([]byte(props), files[0].Data)
	equal(t, "removed", removed, []string{
		jitsiOTR + "hans_eds_orgff66e8c909c4deb51cbd4a02b9e6af4d6af215f8_fingerprint_verified=TRUE",
		jitsiOTR + "hans_eds_orgF83FE8C909C4DEB51C234574BAB3E4F66AF215F8_fingerprint_verified=false",
	})
	equal(t, "added", added, []string{
		jitsiOTR + "hans_eds_orgff66e8c909c4deb51cbd4a02b9e6af4d6af215f8_fingerprint_verified=false",
		jitsiOTR + "hans_eds_orgF83FE8C909C4DEB51C234574BAB3E4F66AF215F8_fingerprint_verified=true",
	})
}

// TestJitsiAccountOf maps ACCOUNT_UIDs without USER_ID as Jitsi builds
// them: protocol, user id, and the server after a second '@'.
func TestJitsiAccountOf(t *testing.T) {
	for uid, want := range map[string]string{
		"Jabber:gptest@jabber.org@jabber.org":                   "xmpp:gptest@jabber.org",
		"Google Talk:guardianproject@gmail.com@talk.google.com": "xmpp:guardianproject@gmail.com",
		"SIP:gptest@sip.antisip.com":                            "sip:gptest@sip.antisip.com",
		"ICQ:12345":                                             "icq:12345",
		"Yahoo!:me@yahoo.com":                                   "yahoo:me@yahoo.com",
	} {
		if got := jitsiAccountOf(uid, "", "").Account.String(); got != want {
			t.Errorf("%s: %s, want %s", uid, got, want)
		}
	}
}

// TestJitsiReadRecordsSeen: both files are read through ReadRequest, so a
// write can refuse them if they change.
func TestJitsiReadRecordsSeen(t *testing.T) {
	seen := &Seen{}
	if _, _, err := (jitsiApp{}).Read(ReadRequest{Dir: jitsiSample, Source: "jitsi:" + jitsiSample, Seen: seen}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{jitsiProps, jitsiContacts} {
		if seen.Version(filepath.Join(jitsiSample, f)) == (atomicfile.Version{}) {
			t.Errorf("%s: not recorded", f)
		}
	}
}

// TestJitsiDamagedPrivateKey: a private key property that does not decode
// is an error naming the file and line, as in every other app, and never
// a notice after which writing replaces it; the error quotes no key
// material. Writing refuses the file too.
func TestJitsiDamagedPrivateKey(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"base64", "=MIIBSwIBADCC", "=MIIBSwIB!!CC", `:212: private key of "Jabber:gptest@jabber.org@jabber.org": not valid base64`},
		{"der", "=MIIBSwIBADCC", "=MIIBSwIBATCC", `:212: private key of "Jabber:gptest@jabber.org@jabber.org": not a DSA key in Java's DER form: PKCS#8 version 1, want 0`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := jitsiCopy(t)
			path := filepath.Join(dir, jitsiProps)
			lines := strings.Split(string(mustRead(t, path)), "\n")
			lines[211] = strings.Replace(lines[211], c.from, c.to, 1)
			data := strings.Join(lines, "\n")
			writeFiles(t, dir, map[string]string{jitsiProps: data})
			_, _, err := jitsiApp{}.Read(ReadRequest{Dir: dir})
			if err == nil || err.Error() != path+c.want || strings.Contains(err.Error(), "MII") {
				t.Errorf("read: %v", err)
			}
			_, _, err = jitsiApp{}.Write(dir, "jitsi:"+dir, &keysync.Model{})
			if err == nil || err.Error() != path+c.want {
				t.Errorf("write: %v", err)
			}
		})
	}
	// A private key of no account is checked too.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{jitsiProps: "a=1\n" + jitsiOTR + "nobody_privateKey=MII!\n"})
	_, _, err := jitsiApp{}.Read(ReadRequest{Dir: dir})
	if want := filepath.Join(dir, jitsiProps) + `:2: private key "nobody": not valid base64`; err == nil || err.Error() != want {
		t.Errorf("read: %v", err)
	}
}

// TestJitsiWritesOnlyWhatReadsBack: Jitsi keeps a contact's fingerprints
// under its address, which only contactlist.xml turns back into a contact:
// a fingerprint of a contact that is not there, or with no contact list at
// all, is reported and not written, and a folder with neither of Jitsi's
// files gets nothing.
func TestJitsiWritesOnlyWhatReadsBack(t *testing.T) {
	o := &keysync.Origin{Source: "pidgin:x", App: "pidgin", Local: keysync.Account{Protocol: "xmpp", Address: "gptest@jabber.org"}}
	m := &keysync.Model{Accounts: []*keysync.LocalAccount{{Account: o.Local, Origins: []*keysync.Origin{o}}}}
	for i, c := range []string{"hans@eds.org", "nobody@eds.org"} {
		m.Fingerprints = append(m.Fingerprints, keysync.KnownFingerprint{Contact: c,
			Fingerprint: keysync.OTRFingerprint([20]byte{byte(i + 1)}), Trust: keysync.Verified, Origin: o})
	}
	empty := t.TempDir()
	files, notices := write(t, "jitsi", empty, m)
	if len(files) != 0 || !strings.Contains(noticeText(notices), "jitsi: skipped 2 fingerprints: no contactlist.xml in "+empty) {
		t.Errorf("empty folder: %d files\n%s", len(files), noticeText(notices))
	}
	// With only the properties file, still no contact to place them with.
	writeFiles(t, empty, map[string]string{jitsiProps: jitsiAccountsProps})
	files, _ = write(t, "jitsi", empty, m)
	if len(files) != 1 || files[0].Summary != "0 private keys, 0 fingerprints" || string(files[0].Data) != jitsiAccountsProps {
		t.Errorf("no contact list: %+v", files)
	}

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{jitsiProps: jitsiAccountsProps, jitsiContacts: contactList([2]string{jabberUID, "hans@eds.org"})})
	files, notices = write(t, "jitsi", dir, m)
	if len(files) != 1 || files[0].Summary != "0 private keys, 1 fingerprint" {
		t.Fatalf("files %+v", files)
	}
	if !strings.Contains(noticeText(notices), "jitsi: skipped 1 fingerprint: Jitsi has no contact with this address in contactlist.xml (add the contact in Jitsi first)") {
		t.Errorf("notices:\n%s", noticeText(notices))
	}
	apply(t, files)
	back, _ := read(t, "jitsi", dir)
	equal(t, "read back", rows(back), []string{"xmpp:gptest@jabber.org|hans@eds.org|0100000000000000000000000000000000000000|verified"})
}

// TestJitsiDamagedPropertiesKept: the damaged OTR properties that stay
// notices lose nothing: a local account's public key is written anew from
// its private key, and a contact's key that does not decode is left as it
// is, with its flag, when the model is written back.
func TestJitsiDamagedPropertiesKept(t *testing.T) {
	dir := jitsiCopy(t)
	path := filepath.Join(dir, jitsiProps)
	lines := strings.Split(string(mustRead(t, path)), "\n")
	goodPub := lines[212]
	lines[212] = strings.Replace(lines[212], "=MIIB", "=MI!B", 1) // gptest@jabber.org's public key
	lines[214] = strings.Replace(lines[214], "=MIIB", "=MI!B", 1) // hans@eds.org's key
	data := strings.Join(lines, "\n")
	writeFiles(t, dir, map[string]string{jitsiProps: data})
	s, notices := read(t, "jitsi", dir)
	text := noticeText(notices)
	for _, want := range []string{
		`:213: public key of "Jabber:gptest@jabber.org@jabber.org": not valid base64`,
		`:215: public key "hans_eds_org": not valid base64; skipped`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no notice %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "MI") {
		t.Errorf("notices quote key material:\n%s", text)
	}
	files, _ := write(t, "jitsi", dir, s)
	removed, added := changedLines([]byte(data), files[0].Data)
	equal(t, "removed", removed, []string{lines[212]})
	equal(t, "added", added, []string{goodPub})
}
