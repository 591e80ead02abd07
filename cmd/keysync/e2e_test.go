package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keysync/keysync/device"
)

// The end-to-end tests run devices as separate `keysync agent` processes
// on a dir: channel and drive them only through the command line.

const e2eAddress = "me@e2e.example"

type e2e struct {
	t    *testing.T
	root string
	ch   string
	smtp string // the agents' --smtp, if any
}

func newE2E(t *testing.T) *e2e {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	// Socket paths must stay short (108 bytes): a folder of our own.
	root, err := os.MkdirTemp("", "ks")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return &e2e{t: t, root: root, ch: "dir:" + filepath.Join(root, "ch")}
}

// ks runs keysync and returns its standard output.
func (e *e2e) ks(args ...string) string {
	e.t.Helper()
	out, err := exec.Command("keysync", args...).Output()
	if err != nil {
		var stderr []byte
		if x, ok := err.(*exec.ExitError); ok {
			stderr = x.Stderr
		}
		e.t.Fatalf("keysync %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// dev is one device: its home and its running agent.
type dev struct {
	e    *e2e
	name string
	home string
	cmd  *exec.Cmd
	log  *lockedBuffer
	logs []string // logs of earlier runs
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (e *e2e) device(name string) *dev {
	d := &dev{e: e, name: name, home: filepath.Join(e.root, name)}
	e.ks("init", "--home", d.home, "--address", e2eAddress, "--name", name)
	return d
}

func (d *dev) start() {
	d.e.t.Helper()
	d.log = &lockedBuffer{}
	args := []string{"agent", "--home", d.home, "--channel", d.e.ch}
	if d.e.smtp != "" {
		args = append(args, "--smtp", d.e.smtp)
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

// stop ends the agent with SIGTERM.
func (d *dev) stop() { d.end(syscall.SIGTERM) }

// kill ends the agent with SIGKILL.
func (d *dev) kill() { d.end(syscall.SIGKILL) }

func (d *dev) end(sig syscall.Signal) {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(sig)
	d.cmd.Wait()
	d.cmd = nil
	d.logs = append(d.logs, d.log.String())
	if d.e.t.Failed() {
		d.e.t.Logf("%s's agent log:\n%s", d.name, d.log.String())
	}
}

func (d *dev) status() device.Status {
	d.e.t.Helper()
	var s device.Status
	if err := json.Unmarshal([]byte(d.e.ks("status", "--home", d.home, "--json")), &s); err != nil {
		d.e.t.Fatal(err)
	}
	return s
}

func (d *dev) do(args ...string) {
	d.e.t.Helper()
	d.e.ks(append(args, "--home", d.home)...)
}

// wait polls ok for up to a minute.
func (e *e2e) wait(what string, ok func() bool) {
	e.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func (e *e2e) handshake(ds ...*dev) []device.Status {
	e.t.Helper()
	var out []device.Status
	e.wait("a handshake", func() bool {
		out = nil
		for _, d := range ds {
			s := d.status()
			if s.Handshake == nil {
				return false
			}
			out = append(out, s)
		}
		return true
	})
	for _, s := range out[1:] {
		if s.Handshake.Trustwords != out[0].Handshake.Trustwords || s.Handshake.TrustwordsFull != out[0].Handshake.TrustwordsFull {
			e.t.Fatalf("trustwords differ: %q and %q", out[0].Handshake.Trustwords, s.Handshake.Trustwords)
		}
	}
	if n := len(strings.Fields(out[0].Handshake.Trustwords)); n != 5 {
		e.t.Fatalf("short trustwords have %d words", n)
	}
	return out
}

// grouped waits until ds are Grouped with one group key, and returns it.
func (e *e2e) grouped(ds ...*dev) string {
	e.t.Helper()
	var key string
	e.wait("the group", func() bool {
		var keys []string
		for i, d := range ds {
			s := d.status()
			if s.State != "Grouped" || s.Outbox > 0 || (i > 0 && !slices.Equal(keys, s.Group.Keys)) {
				return false
			}
			keys = s.Group.Keys
		}
		key = keys[0]
		return true
	})
	return key
}

func secretOf(s device.Status, fpr string) bool {
	for _, k := range s.Keys {
		if k.Fpr == fpr {
			return k.Secret
		}
	}
	return false
}

func TestE2EPairJoinLeave(t *testing.T) { e2ePairJoinLeave(newE2E(t)) }

// e2ePairJoinLeave, on e's channel: two devices pair with equal
// trustwords, a third joins, one leaves and the other two get a new group
// key the leaver lacks.
func e2ePairJoinLeave(e *e2e) {
	t := e.t
	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	k1 := e.grouped(a, b)

	c := e.device("c")
	c.start()
	hs := e.handshake(c, a)
	if hs[0].Handshake.Kind != "join-group" || hs[1].Handshake.Kind != "add-device" {
		t.Fatalf("handshake kinds %s and %s", hs[0].Handshake.Kind, hs[1].Handshake.Kind)
	}
	c.do("handshake", "accept")
	a.do("handshake", "accept")
	if k := e.grouped(a, b, c); k != k1 {
		t.Fatalf("group key changed on join: %s, was %s", k, k1)
	}

	b.do("group", "leave")
	var k2 string
	e.wait("a new group key", func() bool {
		k2 = e.grouped(a, c)
		return k2 != k1
	})
	sb := b.status()
	if sb.Group.Grouped || sb.Running {
		t.Fatalf("the leaver: %+v", sb)
	}
	if secretOf(sb, k2) {
		t.Fatal("the leaver holds the new group key")
	}
	for _, k := range sb.Keys {
		if k.Fpr == k2 {
			t.Fatalf("the leaver knows the new group key: %+v", k)
		}
	}
}

func TestE2EReject(t *testing.T) { e2eReject(newE2E(t)) }

// e2eReject, on e's channel: a rejected handshake leaves no shared key.
func e2eReject(e *e2e) {
	t := e.t
	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	e.handshake(a, b)
	a.do("handshake", "reject")
	e.wait("sync off on both", func() bool { return !a.status().Running && !b.status().Running })
	sa, sb := a.status(), b.status()
	for _, k := range sa.Keys {
		if k.Secret && secretOf(sb, k.Fpr) {
			t.Fatalf("both hold secret key %s", k.Fpr)
		}
	}
	if sa.Group.Grouped || sb.Group.Grouped {
		t.Fatal("grouped after a reject")
	}
}

var handledRE = regexp.MustCompile(`handled (\S+)`)

func TestE2EKillMidHandshake(t *testing.T) { e2eKillMidHandshake(newE2E(t)) }

// e2eKillMidHandshake, on e's channel: a device killed with SIGKILL
// mid-handshake recovers, handling no message twice.
func e2eKillMidHandshake(e *e2e) {
	t := e.t
	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	before := e.handshake(a, b)[1]
	b.kill()
	if s := b.status(); s.State != before.State || s.Handshake == nil || s.Handshake.Trustwords != before.Handshake.Trustwords {
		t.Fatalf("store after SIGKILL: %+v, was %+v", s, before)
	}
	b.start()
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	e.grouped(a, b)
	b.stop()
	seen := map[string]bool{}
	for _, l := range b.logs {
		for _, m := range handledRE.FindAllStringSubmatch(l, -1) {
			if seen[m[1]] {
				t.Fatalf("message %s handled twice", m[1])
			}
			seen[m[1]] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no message handled")
	}
}

// TestE2EStatusWithoutAgent reads the store when no agent runs.
func TestE2EStatusWithoutAgent(t *testing.T) {
	e := newE2E(t)
	a := e.device("a")
	s := a.status()
	if s.State != "not started" || len(s.Identities) != 1 || s.Identities[0].Address != e2eAddress || len(s.Identities[0].Fpr) != 40 {
		t.Fatalf("status %+v", s)
	}
	out, err := exec.Command("keysync", "handshake", "accept", "--home", a.home).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no agent runs") {
		t.Fatalf("handshake without agent: %v %s", err, out)
	}
	fi, err := os.Stat(a.home)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("home mode %v %v", fi.Mode(), err)
	}
	fi, err = os.Stat(filepath.Join(a.home, device.DBFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store mode %v %v", fi.Mode(), err)
	}
}
