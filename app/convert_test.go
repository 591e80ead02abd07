package app

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/atomicfile"
)

// TestPlanFilesThenCommands applies a plan that holds a file and a command:
// the file is written first, then the command runs with its input.
func TestPlanFilesThenCommands(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	out := filepath.Join(dir, "out")
	plan := Plan{
		Files: []File{{Path: file, Content: atomicfile.Bytes("k\n"), Summary: "1 key"}},
		Commands: []Command{{Path: "sh", Args: []string{"-c", `cat "$1" - > "$2"`, "sh", file, out},
			Stdin: atomicfile.Bytes("from stdin\n"), Summary: "1 import"}},
	}
	p, err := plan.Prepare(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Op != atomicfile.Create || p.Changes[0].Summary != "1 key" {
		t.Fatalf("changes = %+v", p.Changes)
	}
	results, err := p.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Summary != "1 key" {
		t.Fatalf("results = %+v", results)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "k\nfrom stdin\n" {
		t.Fatalf("command wrote %q (%v)", got, err)
	}

	// A failing command names the program and quotes its error output,
	// unless its input is secret.
	fail := Command{Path: "sh", Args: []string{"-c", "echo no such key >&2; exit 2"}}
	if err := fail.run(); err == nil || !strings.Contains(err.Error(), "sh: exit status 2: no such key") {
		t.Errorf("failing command: %v", err)
	}
	fail.Secret = true
	if err := fail.run(); err == nil || strings.Contains(err.Error(), "no such key") {
		t.Errorf("failing secret command: %v", err)
	}
}

// TestParseLocationsRefusesDuplicates checks the one-store-once rule.
func TestParseLocationsRefusesDuplicates(t *testing.T) {
	if _, err := ParseLocations([]string{"pidgin:a", "pidgin:./a/"}); err == nil || !strings.Contains(err.Error(), "pidgin:a given twice") {
		t.Errorf("duplicate: %v", err)
	}
	locs, err := ParseLocations([]string{"pidgin:a", "kopete:a", "pidgin:b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ResolvePrefer("kopete", locs[:1], locs[1:]); err != nil || got != "kopete:a" {
		t.Errorf("ResolvePrefer(kopete) = %q, %v", got, err)
	}
	if _, err := ResolvePrefer("pidgin", locs[:2], locs); err == nil || !strings.Contains(err.Error(), "say which as APP:DIR") {
		t.Errorf("ResolvePrefer(pidgin) with two pidgin stores: %v", err)
	}
}

// A target that changes between Convert's reading it and Prepare (another
// program wrote it) is refused, naming the file: the conversion merged
// what it read, and writing would lose the change.
func TestPrepareRefusesTargetChangedSinceRead(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "otr.fp")
	row := "zed\tme@irc.example.org\tIRC\t2222222222222222222222222222222222222222\tsmp\n"
	if err := os.WriteFile(fp, []byte(row), 0o600); err != nil {
		t.Fatal(err)
	}
	from := []Location{mustLocation(t, "irssi:"+fixtures+"/irssi")}
	to := []Location{mustLocation(t, "xchat:"+dir)}
	c, err := Convert(from, to, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fp, []byte(row+strings.Replace(row, "zed", "amy", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Plan.Prepare(c.Seen, false); err == nil || !strings.Contains(err.Error(), fp+": changed by someone else since it was read") {
		t.Fatalf("Prepare after a change: %v", err)
	}
	// Without the record of the read, nothing is checked.
	if _, err := c.Plan.Prepare(nil, false); err != nil {
		t.Fatal(err)
	}
}

// LockStores locks every folder, recovers each, and reads a source in a
// folder it cannot write without a lock, saying so; a target there fails.
func TestLockStoresReadOnlySource(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skip("root writes read-only folders; Windows has no mode bits")
	}
	ro, out := filepath.Join(t.TempDir(), "ro"), t.TempDir()
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o700)
	src, dst := mustLocation(t, "irssi:"+ro), mustLocation(t, "kopete:"+out)
	l, err := LockStores([]Location{src}, []Location{dst}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := ro + ": cannot be locked (read-only folder); read without a lock"; len(l.Notes) != 1 || l.Notes[0] != want {
		t.Errorf("notes %q, want %q", l.Notes, want)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := LockStores(nil, []Location{mustLocation(t, "kopete:"+ro)}, 0); err == nil {
		t.Error("a read-only target folder was locked")
	}
}

// TestConvertTargetKeepsItsSpelling syncs Pidgin's sample with a Kopete
// copy of it in both orders: each store's files stay as they are. Pidgin's
// files name an account "gptest@limun.org/" while accounts.xml has
// "gptest@limun.org/homeresource"; with Kopete first, the rows used to
// come with Kopete's Origin and Pidgin got the accounts.xml name.
func TestConvertTargetKeepsItsSpelling(t *testing.T) {
	dir := t.TempDir()
	pidgin, kopete := filepath.Join(dir, "pidgin"), filepath.Join(dir, "kopete")
	if err := os.Mkdir(pidgin, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"otr.private_key", "otr.fingerprints", "accounts.xml"} {
		copyFile(t, filepath.Join(fixtures, "pidgin", f), filepath.Join(pidgin, f))
	}
	sync := func(args ...string) *Prepared {
		t.Helper()
		locs, err := ParseLocations(args)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Convert(locs, locs, "", nil)
		if err != nil || c.Err() != nil {
			t.Fatalf("sync %v: %v, %v", args, err, c.Err())
		}
		p, err := c.Plan.Prepare(c.Seen, false)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	froms, _ := ParseLocations([]string{"pidgin:" + pidgin})
	tos, _ := ParseLocations([]string{"kopete:" + kopete})
	c, err := Convert(froms, tos, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan.Prepare(c.Seen, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(); err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{{"pidgin:" + pidgin, "kopete:" + kopete}, {"kopete:" + kopete, "pidgin:" + pidgin}} {
		for _, ch := range sync(order...).Changes {
			if ch.Op != atomicfile.Unchanged {
				t.Errorf("sync %s %s: %s %s", order[0], order[1], ch.Op, ch.Path)
			}
		}
	}
}

// TestCoarseTrustStores checks which readers mark their trust coarse:
// Jitsi and ChatSecure keep only verified or not, the libotr apps and
// Gajim keep the value itself.
func TestCoarseTrustStores(t *testing.T) {
	pw := []byte("6QpT40Omhp6YRX73BzxnPlSvvr7ZsPP6VaS4aqWOyqE=")
	cs, _, err := readChatSecure(t, chatSecureSamples, func(string) ([]byte, error) { return append([]byte(nil), pw...), nil })
	if err != nil {
		t.Fatal(err)
	}
	jitsi, _ := read(t, "jitsi", filepath.Join(fixtures, "jitsi"))
	pidgin, _ := read(t, "pidgin", filepath.Join(fixtures, "pidgin"))
	gajim, _ := read(t, "gajim", filepath.Join(fixtures, "gajim"))
	for _, c := range []struct {
		name   string
		m      *keysync.Model
		coarse bool
	}{{"chatsecure", cs, true}, {"jitsi", jitsi, true}, {"pidgin", pidgin, false}, {"gajim", gajim, false}} {
		if len(c.m.Fingerprints) == 0 {
			t.Fatalf("%s: no fingerprints read", c.name)
		}
		for _, f := range c.m.Fingerprints {
			if f.Origin.CoarseTrust != c.coarse {
				t.Errorf("%s: row %s of %s has CoarseTrust %v", c.name, f.Fingerprint, f.Contact, f.Origin.CoarseTrust)
			}
		}
	}
}

// TestChatSecureSameKeystoreKept writes a ChatSecure exchange file twice
// from one model: the second plan leaves the file as it is (it used to be
// encrypted anew, with a new salt and date, on every sync). Another
// password or other content encrypts it anew.
func TestChatSecureSameKeystoreKept(t *testing.T) {
	m, _ := read(t, "pidgin", filepath.Join(fixtures, "pidgin"))
	cs, _ := Lookup("chatsecure")
	w := cs.(SecretWriter)
	dir := t.TempDir()
	plan := func(pw string, m *keysync.Model) atomicfile.Op {
		t.Helper()
		p, _, err := w.WriteSecret(dir, "chatsecure:"+dir, m, []byte(pw))
		if err != nil {
			t.Fatal(err)
		}
		prep, err := p.Prepare(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(prep.Changes) != 1 {
			t.Fatalf("changes = %+v", prep.Changes)
		}
		op := prep.Changes[0].Op
		if op != atomicfile.Unchanged {
			if _, err := prep.Apply(); err != nil {
				t.Fatal(err)
			}
		}
		return op
	}
	if op := plan("pw-one", m); op != atomicfile.Create {
		t.Fatalf("first write: %s", op)
	}
	if op := plan("pw-one", m); op != atomicfile.Unchanged {
		t.Errorf("same model, same password: %s, want unchanged", op)
	}
	if op := plan("pw-two", m); op != atomicfile.Replace {
		t.Errorf("another password: %s, want replace", op)
	}
	less := *m
	less.Fingerprints = nil
	if op := plan("pw-two", &less); op != atomicfile.Replace {
		t.Errorf("other content: %s, want replace", op)
	}
}
