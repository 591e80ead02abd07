package app

import (
	"bytes"
	"os"
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
