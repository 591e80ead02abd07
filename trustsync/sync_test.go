package trustsync

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/peer"
)

func irssiDir(t testing.TB) string { return copyFixture(t, "irssi", "otr.key", "otr.fp") }

// setTrust rewrites the trust of contact's row in an irssi otr.fp, as
// irssi does when the user verifies or clears it.
func setTrust(t testing.TB, dir, contact, trust string) {
	path := filepath.Join(dir, "otr.fp")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) == 5 && f[0] == contact {
			f[4] = trust
			lines[i] = strings.Join(f, "\t")
			found = true
		}
	}
	if !found {
		t.Fatalf("no row of %s in %s", contact, path)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addRow appends a fingerprint row to an irssi otr.fp.
func addRow(t testing.TB, dir, contact, fpr, trust string) {
	f, err := os.OpenFile(filepath.Join(dir, "otr.fp"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(contact + "\ttest@example.org\tIRC\t" + fpr + "\t" + trust + "\n"); err != nil {
		t.Fatal(err)
	}
}

func trustOf(t testing.TB, l app.Location, contact string) (string, bool) {
	for id, tr := range appRows(t, l).Fprs {
		if id.Contact == contact {
			return tr, true
		}
	}
	return "", false
}

// agrees checks that every row of the app that the replica holds has the
// replica's value, and that the app holds every replica row of its
// accounts.
func agrees(t testing.TB, l app.Location, r *Replica) {
	t.Helper()
	rows := appRows(t, l)
	for id, rt := range r.Fprs {
		at, ok := rows.Fprs[id]
		if !ok {
			t.Errorf("%s lacks %v", l.Name, id)
		} else if at != rt {
			t.Errorf("%s: %v trust %q, the replica's %q", l.Name, id, at, rt)
		}
	}
}

func TestPairingFillsEveryApp(t *testing.T) {
	a, b, c := irssiDir(t), copyFixture(t, "irssi", "otr.key"), t.TempDir()
	addRow(t, a, "only-a", strings.Repeat("1a", 20), "smp")
	g := newGroup(t, 1, []app.Location{location(t, "irssi", a)}, []app.Location{location(t, "irssi", b)},
		[]app.Location{location(t, "xchat", c)})
	g.settle(t)
	r := g.devs[0].replica()
	if n, keys, _ := r.Rows(); n != 5 || keys != 1 {
		t.Fatalf("replica holds %d fingerprints and %d keys, want 5 and 1", n, keys)
	}
	for i, d := range g.devs {
		if !d.replica().Equal(r) {
			t.Errorf("device %d's replica differs", i)
		}
		for _, l := range g.syncers[i].Apps {
			agrees(t, l, r)
			if rows := appRows(t, l); len(rows.Keys["irc:test@example.org"]) != 1 {
				t.Errorf("%s: %d keys of the account, want 1", l.Name, len(rows.Keys["irc:test@example.org"]))
			}
			fi, err := os.Stat(filepath.Join(l.Dir, "otr.key"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: otr.key: %v, mode %v", l.Name, err, fi.Mode())
			}
		}
		if st := d.status(); !st.Synced || len(st.Apps) != 1 || st.Apps[0].State != StateInSync || len(st.Conflicts) != 0 {
			t.Errorf("device %d: status %+v", i, st)
		}
	}
}

func TestVerificationAndClearingPropagate(t *testing.T) {
	dirs := []string{irssiDir(t), irssiDir(t), irssiDir(t)}
	g := newGroup(t, 2, []app.Location{location(t, "irssi", dirs[0])}, []app.Location{location(t, "irssi", dirs[1])},
		[]app.Location{location(t, "irssi", dirs[2])})
	g.settle(t)
	setTrust(t, dirs[1], "goldy", "manual")
	g.settle(t)
	for i, d := range dirs {
		if tr, _ := trustOf(t, location(t, "irssi", d), "goldy"); tr != "manual" {
			t.Errorf("app %d: goldy's trust %q after the verification, want manual", i, tr)
		}
	}
	setTrust(t, dirs[2], "blue", "")
	g.settle(t)
	for i, d := range dirs {
		if tr, _ := trustOf(t, location(t, "irssi", d), "blue"); tr != "" {
			t.Errorf("app %d: blue's trust %q after clearing, want none", i, tr)
		}
	}
}

func TestAMissingRowIsNoDeletion(t *testing.T) {
	a, b := irssiDir(t), irssiDir(t)
	g := newGroup(t, 3, []app.Location{location(t, "irssi", a)}, []app.Location{location(t, "irssi", b)})
	g.settle(t)
	// The app loses rows (it holds only some accounts, or rewrote its file):
	// the group keeps them, and writes them back.
	if err := os.WriteFile(filepath.Join(a, "otr.fp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	g.settle(t)
	if n, _, _ := g.devs[1].replica().Rows(); n != 4 {
		t.Fatalf("replica holds %d rows after an app dropped them, want 4", n)
	}
	agrees(t, location(t, "irssi", a), g.devs[0].replica())
}

// otherKey writes into dir's otr.key a different valid DSA key for the
// same account.
func otherKey(t testing.TB, dir string) string {
	l := location(t, "irssi", dir)
	m, _, err := l.Read(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	la := m.Accounts[0]
	k := la.Keys[0].PrivateKey.(*keysync.DSAKey)
	x := new(big.Int).Add(k.X, big.NewInt(1))
	nk := &keysync.DSAKey{P: k.P, Q: k.Q, G: k.G, X: x, Y: new(big.Int).Exp(k.G, x, k.P)}
	la.Keys[0] = keysync.Key{PrivateKey: nk, Origin: &keysync.Origin{Source: "test", App: "test", Local: la.Account, Name: la.Address}}
	plan, _, err := l.App.Write(l.Dir, l.Name, m)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := plan.Prepare(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prep.Apply(); err != nil {
		t.Fatal(err)
	}
	return nk.Fingerprint().String()
}

func TestKeyConflictReplacesNothing(t *testing.T) {
	a, b, c := irssiDir(t), irssiDir(t), t.TempDir()
	fb := otherKey(t, b)
	before := map[string][]byte{}
	for _, d := range []string{a, b} {
		before[d], _ = os.ReadFile(filepath.Join(d, "otr.key"))
	}
	g := newGroup(t, 4, []app.Location{location(t, "irssi", a)}, []app.Location{location(t, "irssi", b)},
		[]app.Location{location(t, "irssi", c)})
	g.settle(t)
	for i, d := range g.devs {
		cs := d.status().Conflicts
		if len(cs) != 1 || cs[0].Account != "irc:test@example.org" || len(cs[0].Fprs) != 2 {
			t.Errorf("device %d: conflicts %+v, want the account's two keys", i, cs)
		}
	}
	for _, d := range []string{a, b} {
		now, _ := os.ReadFile(filepath.Join(d, "otr.key"))
		if !bytes.Equal(now, before[d]) {
			t.Errorf("%s: otr.key changed during a conflict", d)
		}
	}
	if _, err := os.Stat(filepath.Join(c, "otr.key")); err == nil {
		t.Error("an app without a key got one while the account's keys conflict")
	}
	// The user settles it on one device; every device follows.
	if err := Resolve(g.devs[2], keysync.Account{Protocol: "irc", Address: "test@example.org"}, fb); err != nil {
		t.Fatal(err)
	}
	g.settle(t)
	for i, d := range g.devs {
		if cs := d.status().Conflicts; len(cs) != 0 {
			t.Errorf("device %d: conflicts %+v after the resolution", i, cs)
		}
	}
	if got := appRows(t, location(t, "irssi", c)).Keys["irc:test@example.org"]; len(got) != 1 || got[fb].Fpr != fb {
		t.Errorf("the keyless app got %v, want the resolved key", got)
	}
	now, _ := os.ReadFile(filepath.Join(a, "otr.key"))
	if !bytes.Equal(now, before[a]) {
		t.Error("the resolution replaced an app's existing key")
	}
}

func TestConvergenceUnderLossAndRedelivery(t *testing.T) {
	for seed := range uint64(4) {
		dirs := []string{irssiDir(t), irssiDir(t), irssiDir(t)}
		var apps [][]app.Location
		for _, d := range dirs {
			apps = append(apps, []app.Location{location(t, "irssi", d)})
		}
		g := newGroup(t, 10+seed, apps...)
		g.settle(t)
		g.net.loss, g.net.dup = 0.25, 0.25
		rng := rand.New(rand.NewPCG(seed, 2))
		contacts := []string{"bigbear", "goldy", "blue", "testymctest"}
		trusts := []string{"", "smp", "manual", "verified"}
		added := 0
		for range 60 {
			i := rng.IntN(3)
			switch rng.IntN(4) {
			case 0:
				added++
				fpr := strings.Repeat("0", 32) + strings.Repeat("0", 6-len(itoa(added))) + itoa(added) + "ab"
				addRow(t, dirs[i], "new"+itoa(added), fpr, trusts[rng.IntN(4)])
			default:
				setTrust(t, dirs[i], contacts[rng.IntN(4)], trusts[rng.IntN(4)])
			}
			for j := range 3 {
				if rng.IntN(2) == 0 {
					g.syncers[j].Step()
				}
				if rng.IntN(2) == 0 {
					g.devs[j].flush()
				}
				if rng.IntN(2) == 0 {
					g.devs[j].deliver()
				}
			}
		}
		g.settle(t)
		r := g.devs[0].replica()
		for i, d := range g.devs {
			if !d.replica().Equal(r) {
				t.Errorf("seed %d: device %d's replica differs from device 0's", seed, i)
			}
			for _, l := range g.syncers[i].Apps {
				agrees(t, l, r)
				if n := len(appRows(t, l).Fprs); n != len(r.Fprs) {
					t.Errorf("seed %d: %s holds %d rows, the replica %d", seed, l.Name, n, len(r.Fprs))
				}
			}
		}
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// agreesOn is agrees for the rows of accounts of one protocol.
func agreesOn(t testing.TB, l app.Location, r *Replica, protocol string) {
	t.Helper()
	rows := appRows(t, l)
	for id, rt := range r.Fprs {
		if !strings.HasPrefix(id.Account, protocol+":") {
			continue
		}
		if at, ok := rows.Fprs[id]; !ok || at != rt {
			t.Errorf("%s: %v: %q (held %v), the replica's %q", l.Name, id, at, ok, rt)
		}
	}
	for acct := range r.Keys {
		if strings.HasPrefix(acct, protocol+":") && len(rows.Keys[acct]) == 0 {
			t.Errorf("%s lacks the key of %s", l.Name, acct)
		}
	}
}

func TestAppsHoldWhatTheyCan(t *testing.T) {
	irssi := location(t, "irssi", irssiDir(t))
	kopete := location(t, "kopete", copyFixture(t, "kopete", "privkeys", "fingerprints"))
	pidgin := location(t, "pidgin", copyFixture(t, "pidgin", "accounts.xml", "otr.private_key", "otr.fingerprints"))
	g := newGroup(t, 5, []app.Location{irssi}, []app.Location{kopete}, []app.Location{pidgin})
	g.settle(t)
	r := g.devs[0].replica()
	protocols := map[string]int{}
	for id := range r.Fprs {
		p, _, _ := strings.Cut(id.Account, ":")
		protocols[p]++
	}
	if protocols["irc"] != 4 || protocols["xmpp"] < 4 {
		t.Fatalf("replica rows by protocol: %v", protocols)
	}
	agreesOn(t, irssi, r, "irc")
	agreesOn(t, kopete, r, "xmpp")
	agreesOn(t, pidgin, r, "xmpp")
	for i, d := range g.devs {
		for _, a := range d.status().Apps {
			if a.State != StateInSync {
				t.Errorf("device %d: %+v", i, a)
			}
		}
	}
}

func TestClearingInAnAppFilledByTheGroup(t *testing.T) {
	a, b := irssiDir(t), t.TempDir()
	la, lb := location(t, "irssi", a), location(t, "xchat", b)
	g := newGroup(t, 7, []app.Location{la}, []app.Location{lb})
	g.settle(t)
	setTrust(t, a, "goldy", "manual")
	g.settle(t)
	setTrust(t, b, "blue", "")
	g.settle(t)
	if tr, ok := trustOf(t, la, "blue"); !ok || tr != "" {
		t.Errorf("a: blue %q %v after clearing in b", tr, ok)
	}
	if tr, _ := trustOf(t, lb, "goldy"); tr != "manual" {
		t.Errorf("b: goldy %q", tr)
	}
}

func TestOpenPGPKeysAndOwnertrustSync(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		peer.Missing(t, "gpg not found")
	}
	a := copyFixture(t, "gnupg", "pubring.gpg", "secring.gpg", "trustdb.gpg")
	b := t.TempDir()
	la, lb := location(t, "gnupg", a), location(t, "gnupg", b)
	g := newGroup(t, 8, []app.Location{la}, []app.Location{lb})
	g.settle(t)
	r := g.devs[0].replica()
	if len(r.PGP) == 0 {
		t.Fatal("no OpenPGP contact key in the replica")
	}
	got := appRows(t, lb).PGP
	for f, p := range r.PGP {
		if q, ok := got[f]; !ok || q.Ownertrust != p.Ownertrust {
			t.Errorf("b's keyring: key %s: %v, ownertrust %d, want %d", f, ok, q.Ownertrust, p.Ownertrust)
		}
	}
	// The user gives one key full ownertrust on b: a's keyring follows.
	var fpr string
	for f, p := range r.PGP {
		if p.Ownertrust == 5 {
			t.Fatalf("key %s has full ownertrust already", f)
		}
		fpr = f
	}
	cmd := exec.Command("gpg", "--homedir", b, "--batch", "--import-ownertrust")
	cmd.Stdin = strings.NewReader(strings.ToUpper(fpr) + ":5:\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import-ownertrust: %v\n%s", err, out)
	}
	g.settle(t)
	if p := appRows(t, la).PGP[fpr]; p.Ownertrust != 5 {
		t.Errorf("a's ownertrust of %s is %d after b set full (5)", fpr, p.Ownertrust)
	}
}

func TestWriteWaitsWhileTheAppRuns(t *testing.T) {
	a, b := irssiDir(t), irssiDir(t)
	la, lb := location(t, "irssi", a), location(t, "irssi", b)
	g := newGroup(t, 9, []app.Location{la}, []app.Location{lb})
	g.settle(t)
	running := true
	g.syncers[1].Running = func(x app.App) (string, bool) { return "irssi", running && x.Name() == "irssi" }
	setTrust(t, a, "goldy", "smp")
	g.settle(t)
	if tr, _ := trustOf(t, lb, "goldy"); tr != "" {
		t.Fatalf("the running app's file was written: goldy %q", tr)
	}
	st := g.devs[1].status()
	if len(st.Apps) != 1 || st.Apps[0].State != StateWaiting || st.Apps[0].Process != "irssi" {
		t.Fatalf("status while irssi runs: %+v", st.Apps)
	}
	running = false // irssi exits
	g.settle(t)
	if tr, _ := trustOf(t, lb, "goldy"); tr != "smp" {
		t.Fatalf("after the app exits: goldy %q", tr)
	}
	if st := g.devs[1].status(); st.Apps[0].State != StateInSync {
		t.Fatalf("status after the app exits: %+v", st.Apps)
	}
}

func TestOneBackupPerFile(t *testing.T) {
	a, b := irssiDir(t), irssiDir(t)
	g := newGroup(t, 11, []app.Location{location(t, "irssi", a)}, []app.Location{location(t, "irssi", b)})
	g.settle(t)
	for _, tr := range []string{"smp", "manual", "", "verified"} {
		setTrust(t, a, "goldy", tr)
		g.settle(t)
	}
	backups, err := filepath.Glob(filepath.Join(b, "otr.fp.keysync-backup*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 1 {
		t.Fatalf("backups of b's otr.fp after four writes: %v, want one", backups)
	}
	if tr, _ := trustOf(t, location(t, "irssi", b), "goldy"); tr != "verified" {
		t.Fatalf("goldy %q", tr)
	}
}
