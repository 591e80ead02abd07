package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keysync/keysync/internal/plistcheck"
	"github.com/keysync/keysync/internal/plistcheck/bplisttest"
	"howett.net/plist"
)

// maxErrorLen bounds every error a reader gives: input is quoted cut short.
const maxErrorLen = 1 << 10

// checkMessages fails unless err and every notice are short, valid UTF-8
// and free of control characters, tabs and newlines included: each is
// printed as one line, and input in it is escaped (internal/excerpt).
func checkMessages(t *testing.T, err error, notices []Notice) {
	t.Helper()
	msgs := make([]string, 0, len(notices)+1)
	if err != nil {
		msgs = append(msgs, err.Error())
	}
	for _, n := range notices {
		msgs = append(msgs, n.String())
	}
	for _, m := range msgs {
		if len(m) > maxErrorLen {
			t.Fatalf("message of %d bytes: %.200q", len(m), m)
		}
		if !utf8.ValidString(m) {
			t.Fatalf("message is not UTF-8: %q", m)
		}
		if i := strings.IndexFunc(m, unicode.IsControl); i >= 0 {
			t.Fatalf("message holds control character %q: %q", m[i], m)
		}
	}
}

// FuzzPurpleAccounts checks that reading accounts.xml never panics, keeps
// only complete accounts and gives short errors. Its seeds are small (the
// 44 KB fixture stalled minimisation): the fixture's structure, deep
// nesting, a long name and a malformed password.
func FuzzPurpleAccounts(f *testing.F) {
	f.Add([]byte("<?xml version='1.0' encoding='UTF-8' ?>\n<account version='1.0'>\n\t<account>\n" +
		"\t\t<protocol>prpl-jabber</protocol>\n\t\t<name>gptest@jabber.org/</name>\n\t\t<password>mypassword</password>\n" +
		"\t\t<statuses><status type='away' name='Away' active='false'><attributes>" +
		"<attribute id='message' value='I&apos;m not here'/></attributes></status></statuses>\n" +
		"\t\t<settings><setting name='port' type='int'>5222</setting></settings>\n\t</account>\n" +
		"\t<account><protocol>prpl-irc</protocol><name>nick@irc.example.net</name></account>\n</account>\n"))
	f.Add([]byte("<account><account><protocol>prpl-irc</protocol></account></account>"))
	f.Add([]byte("<account><account>" + strings.Repeat("<x>", 300) + strings.Repeat("</x>", 300) + "</account></account>"))
	f.Add([]byte("<account><account><protocol>p</protocol><name>" + strings.Repeat("n", 1<<10) + "</name></account></account>"))
	f.Add([]byte("<account><account><protocol>p</protocol><name>n</name><password>&secret;</password></account></account>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := readPurpleAccounts(bytes.NewReader(data))
		checkMessages(t, err, nil)
		if err != nil {
			return
		}
		for _, a := range list {
			if a.Name == "" || a.Protocol == "" {
				t.Fatalf("accepted an account without name or protocol: %+v", a)
			}
		}
	})
}

// FuzzAdiumAccounts checks that reading Accounts.plist never panics, keeps
// only complete accounts and gives short errors. Seeds include both forms
// of the fixture and plists beyond plistcheck's bounds.
func FuzzAdiumAccounts(f *testing.F) {
	for _, p := range []string{"../testdata/fixtures/adium/Accounts.plist", "../testdata/fixtures/SAMENESS/adium/Accounts.plist"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		var doc any
		if _, err := plist.Unmarshal(data, &doc); err != nil {
			f.Fatal(err)
		}
		bin, err := plist.Marshal(doc, plist.BinaryFormat)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bin)
	}
	f.Add([]byte("bplist00"))
	f.Add([]byte(`<plist version="1.0"><dict><key>Accounts</key>` + strings.Repeat("<array>", plistcheck.MaxDepth) + strings.Repeat("</array>", plistcheck.MaxDepth) + `</dict></plist>`))
	f.Add(nestedBinaryPlist(plistcheck.MaxDepth + 1))
	f.Add(bplisttest.Build([][]byte{{0x6F, 0x13, 0x80, 0, 0, 0, 0, 0, 0, 0}}, 0))
	f.Add(bplisttest.Build([][]byte{bplisttest.Array(1, 1), bplisttest.Array(2, 2), bplisttest.Array(3, 3), {0x51, 'x'}}, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parseAdiumAccounts(data)
		checkMessages(t, err, nil)
		if err != nil {
			return
		}
		for _, a := range list {
			if a.id() == "" || a.UID == "" || a.Type == "" {
				t.Fatalf("accepted an incomplete account: %+v", a)
			}
		}
	})
}

// FuzzReadPrivateKeys reads a Pidgin store whose otr.private_key is the
// input: parsing, mapping and key validation (bounded for any sizes) must
// never panic, an invalid key is a notice, not an error, and messages are
// short and escaped. Its seeds are small: the engine minimises every new
// input, in time quadratic in its length, so a seed of a real key (1 KB)
// leaves it minimising rather than fuzzing. TestHugeKeyIsANotice covers
// large parameters, format/libotr's FuzzValidatePrivKeys valid keys.
func FuzzReadPrivateKeys(f *testing.F) {
	f.Add([]byte("(privkeys (account (name \"a@b/\") (protocol prpl-jabber) (private-key (dsa (p #17#) (q #0B#) (g #04#) (y #08#) (x #03#)))))"))
	f.Add([]byte("(privkeys (account (name 1:a) (protocol \"prpl-\\x1b]0\") (private-key (dsa (p |AQ==|) (q [h]\"\") (g 2:ab) (y #00#) (x 5#0102#)))))"))
	f.Add([]byte("(privkeys (account (name a) (protocol prpl-irc)) (account (name a) (protocol IRC)))"))
	pidgin, _ := Lookup("pidgin")
	dir := f.TempDir() // one folder, rewritten by every run: a new one costs more than the read
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "otr.private_key"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, notices, err := pidgin.Read(ReadRequest{Dir: dir, Source: "pidgin:" + dir})
		checkMessages(t, err, notices)
		if err != nil {
			return
		}
		keys := 0
		for _, la := range m.Accounts {
			keys += len(la.Keys)
		}
		if len(notices) > keys {
			t.Fatalf("%d notices for %d keys", len(notices), keys)
		}
	})
}

// A key whose p is far beyond OTR's sizes (32k bits) is read, then reported
// invalid by a notice at once: nothing computes g^x mod p of that size.
func TestHugeKeyIsANotice(t *testing.T) {
	huge := "#01" + strings.Repeat("FF", 4096) + "#"
	dir := storeDir(t, map[string]string{"otr.private_key": "(privkeys (account (name a) (protocol prpl-irc) (private-key (dsa (p " + huge +
		") (q #00EAB4FEDFB2C033131204EADDFD9EFA21B50D0AE9#) (g #02#) (y #03#) (x #05#)))))"})
	start := time.Now()
	s, notices := read(t, "pidgin", dir)
	if len(s.Accounts) != 1 || len(s.Accounts[0].Keys) != 1 || len(notices) != 1 || !strings.Contains(notices[0].Msg, "p has 32769 bits") {
		t.Errorf("accounts %+v, notices %v", s.Accounts, notices)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("read took %v", d)
	}
}

// FuzzParseLocation checks that parsing an APP[:DIR] argument never panics
// and gives short errors.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"pidgin", "pidgin:/tmp/x", "adium:", "nope:dir", "irssi:a:b", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		s, err := ParseLocation(arg)
		checkMessages(t, err, nil)
		if err != nil {
			return
		}
		if s.App == nil || s.Dir == "" {
			t.Fatalf("accepted %q as %+v", arg, s)
		}
	})
}
