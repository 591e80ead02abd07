package app

import (
	"strings"
	"testing"
)

// accounts.xml holds passwords: a malformed one must not reach the error.
func TestPurpleAccountsErrorHidesPassword(t *testing.T) {
	const secret = "hunter2-0xC0FFEE"
	for _, bad := range []string{
		"&" + secret + ";",
		"&" + secret + " x",
		secret + "<" + secret,
		secret + "</pass>",
		secret + "\x00",
	} {
		doc := "<account>\n<account>\n<protocol>prpl-jabber</protocol>\n<name>me@host/</name>\n<password>" + bad + "</password>\n</account>\n</account>\n"
		_, err := readPurpleAccounts(strings.NewReader(doc))
		if err == nil {
			t.Errorf("%q: accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter") || strings.Contains(err.Error(), "C0FFEE") {
			t.Errorf("%q: error shows the password: %v", bad, err)
		}
		if !strings.HasPrefix(err.Error(), "line 5: ") {
			t.Errorf("%q: error %v, want it to start with line 5", bad, err)
		}
	}
}

func TestPurpleAccountsErrorIsShort(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	for _, doc := range []string{
		"<" + long + "/>",
		"<account><" + long + "></account>",
		"<?xml version='" + long + "'?><account/>",
		"<?xml version='1.0' encoding='" + long + "'?><account/>",
	} {
		_, err := readPurpleAccounts(strings.NewReader(doc))
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("error of %d bytes: %.200v", len(fmt0(err)), err)
		}
	}
}

// Both XML files of the apps are bounded in depth by one walker.
func TestAppXMLDepthBounded(t *testing.T) {
	deep := strings.Repeat("<g>", maxXMLDepth+1)
	for name, read := range map[string]func(string) error{
		"accounts.xml":    func(doc string) error { _, err := readPurpleAccounts(strings.NewReader(doc)); return err },
		"contactlist.xml": func(doc string) error { _, err := readContactList(strings.NewReader(doc)); return err },
	} {
		for _, doc := range []string{"<account>" + deep, "<account><account><protocol>p</protocol><name>n</name>" + deep} {
			if err := read(doc); err == nil || !strings.Contains(err.Error(), "nested more than 256 deep") {
				t.Errorf("%s: %v, want the depth refused", name, err)
			}
		}
		if err := read("<account>" + strings.Repeat("<g>", 10)); err == nil || !strings.Contains(err.Error(), "unexpected end") {
			t.Errorf("%s: %v, want the early end refused", name, err)
		}
	}
}

func fmt0(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Notices quote names from the files cut short: a private key's name has
// no length limit.
func TestNoticesQuoteAShortName(t *testing.T) {
	name := strings.Repeat("n", 1<<20)
	dir := t.TempDir()
	writeFile(t, dir+"/otr.private_key", `(privkeys (account (name "`+name+`") (protocol prpl-`+name+`)`+
		` (private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#) (x #01#)))))`)
	_, notices := read(t, "adium", dir)
	if len(notices) < 2 {
		t.Fatalf("want notices of the invalid key and the unmapped account, got %d", len(notices))
	}
	for _, n := range notices {
		if len(n.String()) > 400 {
			t.Errorf("notice of %d bytes: %.100s", len(n.String()), n.String())
		}
	}
}
