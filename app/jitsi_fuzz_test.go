package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzJitsiContactList checks that reading contactlist.xml never panics,
// stops at maxXMLDepth, keeps only contacts with an address and an
// account and gives
// short errors that quote nothing of the input.
func FuzzJitsiContactList(f *testing.F) {
	f.Add([]byte(contactList([2]string{jabberUID, "hans@eds.org"}, [2]string{limunUID, "a&amp;b@c"})))
	f.Add([]byte(strings.Repeat("<group>", maxXMLDepth+10)))
	f.Add([]byte("<a><contact address='" + strings.Repeat("x", 200) + "'/></a>")) // long enough to be cut in messages
	f.Add([]byte("<a><contact address='&secret;'/></a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := readContactList(bytes.NewReader(data))
		checkMessages(t, err, nil)
		if err != nil {
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		for _, c := range list {
			if c.Address == "" || c.AccountID == "" {
				t.Fatalf("a contact without address or account: %+v", c)
			}
		}
	})
}

// FuzzJitsiStore reads arbitrary properties next to the sample's
// contactlist.xml and writes the model back into the same folder: no
// panic, short errors, and what is written reads again to the same
// fingerprints, with every line that is not an OTR property kept.
func FuzzJitsiStore(f *testing.F) {
	// Small seeds and a small contact list: the engine minimises every
	// new input in time quadratic in its length, and the sample's 48 KB
	// left it minimising rather than fuzzing. Private keys cost modular
	// exponentiations; format/dsader has a fuzz target of its own.
	const acc = "net.java.sip.communicator.impl.protocol.jabber.a"
	account := acc + "=a\n" + acc + ".ACCOUNT_UID=Jabber\\:b@c@c\n" + acc + ".USER_ID=b@c\n"
	f.Add([]byte(account + jitsiOTR + "b_c_publicKey_verified=true\n"))
	f.Add([]byte(account + jitsiOTR + "d_e_fingerprints=ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8,zz\n" +
		jitsiOTR + "d_eff66e8c909c4deb51cbd4a02b9e6af4d6af215f8_fingerprint_verified=TRUE\n"))
	f.Add([]byte(jitsiOTR + "Jabber_b_c_c_privateKey=MIIBSwIBADCCASwGByqGSM44BAEwgg\\=\\=\n" + jitsiOTR + "_publicKey=\\\n"))
	f.Add([]byte(account + jitsiOTR + "a_b_c_publicKey_verified=true\n" + jitsiOTR + "p1_fingerprint_verified=false\n"))
	contacts := []byte(contactList([2]string{"Jabber:b@c@c", "d@e"}, [2]string{"Jabber:b@c@c", "a&amp;b@c"}))
	dir := f.TempDir() // both files are rewritten by every run: a new folder costs more than the run
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, b := range map[string][]byte{jitsiProps: data, jitsiContacts: contacts} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, notices, err := jitsiApp{}.Read(ReadRequest{Dir: dir, Source: "jitsi:" + dir})
		checkMessages(t, err, notices)
		if err != nil {
			return
		}
		plan, notices, err := jitsiApp{}.Write(dir, "jitsi:"+dir, s)
		checkMessages(t, nil, notices)
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		var out bytes.Buffer
		if _, err := plan.Files[0].Content.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		kept := map[string]bool{}
		for _, l := range strings.SplitAfter(out.String(), "\n") {
			kept[l] = true
		}
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if !strings.Contains(l, "plugin") && !strings.Contains(l, "\\") && !kept[l] && strings.HasSuffix(l, "\n") {
				t.Fatalf("line %q lost", l)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, jitsiProps), out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		back, _, err := jitsiApp{}.Read(ReadRequest{Dir: dir, Source: "jitsi:" + dir})
		if err != nil {
			t.Fatalf("reading what was written: %v", err)
		}
		if a, b := strings.Join(rows(s), "\n"), strings.Join(rows(back), "\n"); a != b {
			t.Fatalf("fingerprints changed:\n%s\n---\n%s", a, b)
		}
		if a, b := strings.Join(keyFingerprints(s), "\n"), strings.Join(keyFingerprints(back), "\n"); a != b {
			t.Fatalf("keys changed:\n%s\n---\n%s", a, b)
		}
	})
}
