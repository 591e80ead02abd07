package app

import (
	"strings"
	"testing"
)

func mustStore(t *testing.T, arg string) Store {
	t.Helper()
	s, err := ParseStore(arg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseStore(t *testing.T) {
	s := mustStore(t, "pidgin:./a/b/")
	if s.Name != "pidgin:a/b" || s.Dir != "a/b" || s.App.Name() != "pidgin" {
		t.Errorf("ParseStore = %+v", s)
	}
	if s := mustStore(t, "irssi:C:x"); s.Dir != "C:x" {
		t.Errorf("folder with a colon: %q", s.Dir)
	}
	for _, bad := range []string{"nosuchapp", "pidgin:"} {
		if _, err := ParseStore(bad); err == nil {
			t.Errorf("ParseStore(%q) accepted", bad)
		}
	}
}

// Pidgin's and Adium's samples hold different keys for one account: the
// conversion stops at the conflict unless one store is preferred, and a
// target's own store takes part in the merge.
func TestConvertConflictAndPrefer(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"otr.private_key", "otr.fingerprints", "Accounts.plist"} {
		copyFile(t, fixtures+"/adium/"+f, dir+"/"+f)
	}
	from := []Store{mustStore(t, "pidgin:"+fixtures+"/pidgin")}
	to := []Store{mustStore(t, "adium:"+dir)}
	c, err := Convert(from, to, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Unresolved != 1 || len(c.Files) != 0 || !strings.Contains(c.Conflicts[0].Account.String(), "gptest@jabber.org") {
		t.Fatalf("without prefer: %d unresolved, %d files, conflicts %+v", c.Unresolved, len(c.Files), c.Conflicts)
	}
	c, err = Convert(from, to, to[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unresolved != 0 || c.Conflicts[0].Winner != to[0].Name || len(c.Files) != 2 {
		t.Fatalf("with prefer: %d unresolved, winner %q, %d files", c.Unresolved, c.Conflicts[0].Winner, len(c.Files))
	}
	var skipped int
	for _, n := range c.Notices {
		if n.Source == to[0].Name && strings.Contains(n.Msg, "skipped") {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("want the two accounts Adium lacks reported as skipped by the target, got %v", c.Notices)
	}
}
