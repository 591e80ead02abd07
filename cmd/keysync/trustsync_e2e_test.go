package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync/internal/otrtest"
	"github.com/keysync/keysync/trustsync"
)

// The trustsync end-to-end tests run agents with --sync, each with its own
// app folders, and look only at the apps' files (read by libotr itself) and
// at `keysync status`.

// startSync starts d's agent syncing apps (APP:DIR each).
func (d *dev) startSync(apps ...string) {
	d.e.t.Helper()
	d.log = &lockedBuffer{}
	args := []string{"agent", "--home", d.home, "--channel", d.e.ch}
	for _, a := range apps {
		args = append(args, "--sync", a)
	}
	d.cmd = exec.Command("keysync", args...)
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		d.e.t.Fatal(err)
	}
	d.e.t.Cleanup(d.stop)
	d.e.wait(d.name+"'s agent", func() bool {
		_, err := os.Stat(filepath.Join(d.home, "agent.sock"))
		return err == nil && strings.Contains(d.log.String(), "agent for")
	})
}

// trust returns the trust part of d's status.
func (d *dev) trust() trustsync.Status {
	d.e.t.Helper()
	var s struct {
		Trust trustsync.Status `json:"trust"`
	}
	if err := json.Unmarshal([]byte(d.e.ks("status", "--home", d.home, "--json")), &s); err != nil {
		d.e.t.Fatal(err)
	}
	return s.Trust
}

// fixtureDir copies testdata/fixtures/APP's files into a new folder.
func fixtureDir(t *testing.T, root, name, appName string, files ...string) string {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", appName, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// libotrSees returns what libotr reads of an irssi/xchat folder.
func libotrSees(t *testing.T, otr *otrtest.OTR, dir string) string {
	key, fp := filepath.Join(dir, "otr.key"), filepath.Join(dir, "otr.fp")
	for _, f := range []*string{&key, &fp} {
		if _, err := os.Stat(*f); err != nil {
			*f = ""
		}
	}
	s, err := otr.TryDump(key, fp, "")
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

// setFPTrust rewrites contact's trust in an irssi/xchat otr.fp.
func setFPTrust(t *testing.T, dir, contact, trust string) {
	t.Helper()
	path := filepath.Join(dir, "otr.fp")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if f := strings.Split(l, "\t"); len(f) == 5 && f[0] == contact {
			f[4] = trust
			lines[i] = strings.Join(f, "\t")
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func fpLine(s, contact string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "fp\t"+contact+"\t") {
			return l
		}
	}
	return ""
}

func trustIn(s, contact string) (string, bool) {
	l := fpLine(s, contact)
	if l == "" {
		return "", false
	}
	f := strings.Split(l, "\t")
	return f[len(f)-1], true
}

func TestE2ETrustSync(t *testing.T) { e2eTrustSync(newE2E(t)) }

// e2eTrustSync, on e's channel: after pairing each app holds the group's
// keys and fingerprints; a verification and a clearing reach the other
// app; a device killed after its app changed converges after restart; a
// joiner's second key of one account is a conflict on every device that
// replaces no key, until resolved; after a leave the leaver's app gets no
// new rows.
func e2eTrustSync(e *e2e) {
	t := e.t
	otr := otrtest.Tool(t)
	apps := filepath.Join(e.root, "apps")
	irssiA := fixtureDir(t, apps, "a-irssi", "irssi", "otr.key", "otr.fp")
	xchatB := filepath.Join(apps, "b-xchat")
	if err := os.MkdirAll(xchatB, 0o700); err != nil {
		t.Fatal(err)
	}
	a, b := e.device("a"), e.device("b")
	a.startSync("irssi:" + irssiA)
	b.startSync("xchat:" + xchatB)
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	e.grouped(a, b)

	// After pairing, b's app holds the key and every fingerprint.
	want := libotrSees(t, otr, irssiA)
	e.wait("b's xchat to hold a's keys and fingerprints", func() bool { return libotrSees(t, otr, xchatB) == want })
	// Each device asked the other for its replica on pairing; on a channel
	// with latency (IMAP) one may still be applying the answer when the
	// other's app is written, so the status is awaited.
	for _, d := range []*dev{a, b} {
		e.wait(d.name+"'s trust status synced, 4 fingerprints, 1 key, its app in sync", func() bool {
			st := d.trust()
			return st.Synced && st.Fingerprints == 4 && st.Keys == 1 && len(st.Apps) == 1 && st.Apps[0].State == trustsync.StateInSync
		})
	}

	// A verification in one app reaches the other within seconds; so does
	// clearing one.
	start := time.Now()
	setFPTrust(t, irssiA, "goldy", "manual")
	e.wait("goldy verified in b's app", func() bool { tr, _ := trustIn(libotrSees(t, otr, xchatB), "goldy"); return tr == "manual" })
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the verification took %v", d)
	}
	setFPTrust(t, xchatB, "blue", "")
	e.wait("blue cleared in a's app", func() bool {
		tr, ok := trustIn(libotrSees(t, otr, irssiA), "blue")
		return ok && tr == ""
	})

	// A device killed right after its app changed converges after restart.
	setFPTrust(t, xchatB, "bigbear", "smp")
	time.Sleep(20 * time.Millisecond)
	b.kill()
	setFPTrust(t, irssiA, "testymctest", "")
	b.startSync("xchat:" + xchatB)
	e.wait("both changes on both devices", func() bool {
		sa, sb := libotrSees(t, otr, irssiA), libotrSees(t, otr, xchatB)
		ta, _ := trustIn(sa, "bigbear")
		tb, _ := trustIn(sb, "testymctest")
		return ta == "smp" && tb == "" && sa == sb
	})

	// A third device with another key of the same account joins: a conflict
	// on every device, and no app's key replaced.
	irssiC := filepath.Join(apps, "c-irssi")
	if err := os.MkdirAll(irssiC, 0o700); err != nil {
		t.Fatal(err)
	}
	otr.Generate(t, irssiC, otrtest.Spec{PrivKeys: "otr.key", Keys: []otrtest.Account{{Name: "test@example.org", Protocol: "IRC"}}})
	keyC, _ := os.ReadFile(filepath.Join(irssiC, "otr.key"))
	keyA, _ := os.ReadFile(filepath.Join(irssiA, "otr.key"))
	c := e.device("c")
	c.startSync("irssi:" + irssiC)
	hs := e.handshake(c, a)
	if hs[0].Handshake.Kind != "join-group" {
		t.Fatalf("c's handshake: %s", hs[0].Handshake.Kind)
	}
	c.do("handshake", "accept")
	a.do("handshake", "accept")
	e.grouped(a, b, c)
	for _, d := range []*dev{a, b, c} {
		e.wait(d.name+" to report the key conflict", func() bool {
			cs := d.trust().Conflicts
			return len(cs) == 1 && cs[0].Account == "irc:test@example.org" && len(cs[0].Fprs) == 2
		})
	}
	e.wait("c's app to get the group's fingerprints", func() bool { _, ok := trustIn(libotrSees(t, otr, irssiC), "goldy"); return ok })
	if now, _ := os.ReadFile(filepath.Join(irssiC, "otr.key")); string(now) != string(keyC) {
		t.Error("c's key was replaced during the conflict")
	}
	if now, _ := os.ReadFile(filepath.Join(irssiA, "otr.key")); string(now) != string(keyA) {
		t.Error("a's key was replaced during the conflict")
	}
	// The user settles it on c; every device stops reporting it.
	fprA := a.trust().Conflicts[0].Fprs
	var keep string
	for _, f := range fprA {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(libotrSees(t, otr, irssiA), " ", "")), f) {
			keep = f
		}
	}
	if keep == "" {
		t.Fatalf("a's key is none of %v", fprA)
	}
	c.do("trust", "resolve", "irc:test@example.org", keep)
	for _, d := range []*dev{a, b, c} {
		e.wait(d.name+" to settle the conflict", func() bool { return len(d.trust().Conflicts) == 0 })
	}

	// After c leaves, its app gets nothing new.
	c.do("group", "leave")
	e.wait("c out of the group", func() bool { return !c.status().Group.Grouped })
	e.grouped(a, b)
	before := libotrSees(t, otr, irssiC)
	setFPTrust(t, irssiA, "goldy", "smp")
	e.wait("goldy's new trust in b's app", func() bool { tr, _ := trustIn(libotrSees(t, otr, xchatB), "goldy"); return tr == "smp" })
	time.Sleep(3 * time.Second)
	if after := libotrSees(t, otr, irssiC); after != before {
		t.Errorf("the leaver's app changed after the leave:\n%s\nwas\n%s", after, before)
	}
}

// TestDemoSecondAct runs keysync demo and checks its second act: the
// verification made in Pidgin is in irssi's and Kopete's files.
func TestDemoSecondAct(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs six devices")
	}
	var out strings.Builder
	if err := runDemo(t.Context(), &out, "en", false, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	_, act2, ok := strings.Cut(out.String(), "== Act 2")
	if !ok {
		t.Fatalf("no second act:\n%s", out.String())
	}
	_, after, _ := strings.Cut(act2, "later, in each app's file:")
	for _, want := range []string{"server  irssi:  carol | bob@irc.example.org | IRC | c0ffee42c0ffee42c0ffee42c0ffee42c0ffee42 | verified",
		"desktop kopete: carol | bob@irc.example.org | IRC | c0ffee42c0ffee42c0ffee42c0ffee42c0ffee42 | verified"} {
		if !strings.Contains(after, want) {
			t.Errorf("the second act lacks %q:\n%s", want, act2)
		}
	}
}
