package app

import (
	"strings"
	"testing"
)

func mustLocation(t *testing.T, arg string) Location {
	t.Helper()
	s, err := ParseLocation(arg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseLocation(t *testing.T) {
	s := mustLocation(t, "pidgin:./a/b/")
	if s.Name != "pidgin:a/b" || s.Dir != "a/b" || s.App.Name() != "pidgin" {
		t.Errorf("ParseLocation = %+v", s)
	}
	if s := mustLocation(t, "irssi:C:x"); s.Dir != "C:x" {
		t.Errorf("folder with a colon: %q", s.Dir)
	}
	for _, bad := range []string{"nosuchapp", "pidgin:"} {
		if _, err := ParseLocation(bad); err == nil {
			t.Errorf("ParseLocation(%q) accepted", bad)
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
	from := []Location{mustLocation(t, "pidgin:"+fixtures+"/pidgin")}
	to := []Location{mustLocation(t, "adium:"+dir)}
	c, err := Convert(from, to, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unresolved != 1 || len(c.Plan.Files) != 0 || !strings.Contains(c.Conflicts[0].Account.String(), "gptest@jabber.org") {
		t.Fatalf("without prefer: %d unresolved, %d files, conflicts %+v", c.Unresolved, len(c.Plan.Files), c.Conflicts)
	}
	c, err = Convert(from, to, to[0].Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unresolved != 0 || c.Conflicts[0].Winner != to[0].Name || len(c.Plan.Files) != 2 {
		t.Fatalf("with prefer: %d unresolved, winner %q, %d files", c.Unresolved, c.Conflicts[0].Winner, len(c.Plan.Files))
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

// A reader names its store in every record and notice.
func TestReadStampsSource(t *testing.T) {
	l := mustLocation(t, "pidgin:"+fixtures+"/pidgin")
	m, notices, err := l.Read(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) == 0 {
		t.Fatal("want the invalid key's notice")
	}
	for _, n := range notices {
		if n.Source != l.Name {
			t.Errorf("notice %q names %q, want %q", n, n.Source, l.Name)
		}
	}
	for _, la := range m.Accounts {
		for _, k := range la.Keys {
			if k.Origin.Source != l.Name || k.Origin.App != "pidgin" || k.Origin.Local != la.Account {
				t.Errorf("key of %s: origin %+v", la.Account, *k.Origin)
			}
		}
	}
	for _, f := range m.Fingerprints {
		if f.Origin.Source != l.Name {
			t.Errorf("fingerprint origin %+v", *f.Origin)
		}
	}
}
