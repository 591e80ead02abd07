package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzPurpleAccounts(f *testing.F) {
	for _, p := range []string{"../testdata/fixtures/pidgin/accounts.xml", "../testdata/fixtures/SAMENESS/pidgin/accounts.xml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("<account><account><protocol>prpl-irc</protocol></account></account>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := readPurpleAccounts(bytes.NewReader(data))
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

func FuzzAdiumAccounts(f *testing.F) {
	for _, p := range []string{"../testdata/fixtures/adium/Accounts.plist", "../testdata/fixtures/SAMENESS/adium/Accounts.plist"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parseAdiumAccounts(data)
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
// never panic, and an invalid key is a notice, not an error.
func FuzzReadPrivateKeys(f *testing.F) {
	for _, p := range []string{"../testdata/fixtures/pidgin/otr.private_key", "../testdata/fixtures/adium/otr.private_key"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	huge := "#01" + strings.Repeat("FF", 4096) + "#" // p of 32k bits
	f.Add([]byte("(privkeys (account (name a) (protocol prpl-irc) (private-key (dsa (p " + huge +
		") (q #00EAB4FEDFB2C033131204EADDFD9EFA21B50D0AE9#) (g #02#) (y #03#) (x #05#)))))"))
	pidgin, _ := Lookup("pidgin")
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "otr.private_key"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, notices, err := pidgin.Read(ReadRequest{Dir: dir, Source: "pidgin:" + dir})
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
