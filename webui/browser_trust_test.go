package webui

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustsync"
)

// aheadClock is the wall clock moved ahead by what the test sets.
type aheadClock struct{ ahead atomic.Int64 }

// Now returns the wall clock's time, moved ahead.
func (c *aheadClock) Now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

// waitStatus polls home's status until ok holds, for up to a minute.
func waitStatus(t testing.TB, home, what string, ok func(device.Status) bool) device.Status {
	t.Helper()
	for end := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		st, err := agent.Status(home, "", device.Options{Codec: &device.PGP{}, Extension: &trustsync.Store{}})
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(end) {
			t.Fatalf("%s: waited a minute for %s: %+v %v", home, what, st, err)
		}
	}
}

// TestBrowserHandshakeTimeout: a handshake that times out leaves the
// page without a reload. The other device stops; this device's clock is
// moved past the handshake's timeout (120 s, fsm/keysync.fsm), and the
// page turns to "no handshake" by itself.
func TestBrowserHandshakeTimeout(t *testing.T) {
	w := startBrowser(t)
	root := t.TempDir()
	ch := filepath.Join(root, "channel")
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	ua := newTestUI(t, homeA)
	clock := &aheadClock{}
	startAgent(t, homeA, ch, clock)
	_, stopB := startAgent(t, homeB, ch, nil)
	w.navigate(ua.srv.URL())
	w.navigate(ua.base() + "/devices")
	w.find(`//button[@id="accept"]`, time.Minute)
	w.script(`window.keysyncNoReload = 1; return 1`, nil, nil)
	stopB()
	clock.ahead.Store(int64(10 * time.Minute))
	w.find(`//p[@id="no-handshake"]`, 30*time.Second)
	var mark any
	w.script(`return window.keysyncNoReload || 0`, nil, &mark)
	if mark != float64(1) {
		t.Errorf("the page was reloaded (mark %v)", mark)
	}
	if st := waitStatus(t, homeA, "no handshake", func(st device.Status) bool { return st.Handshake == nil }); st.Group.Grouped {
		t.Errorf("grouped after the timeout: %+v", st)
	}
}

// TestBrowserTrustConflict: two paired devices hold two keys for one
// account; on the first one's page a click on a key shows what settling
// does, a second click settles it as `keysync trust resolve` does, and
// the conflict leaves the page without a reload, and both devices.
func TestBrowserTrustConflict(t *testing.T) {
	w := startBrowser(t)
	root := t.TempDir()
	ch := filepath.Join(root, "channel")
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	ua := newTestUI(t, homeA)
	da, _ := startAgent(t, homeA, ch, nil)
	db, _ := startAgent(t, homeB, ch, nil)
	for _, h := range []string{homeA, homeB} {
		waitStatus(t, h, "a handshake", func(st device.Status) bool { return st.Handshake != nil })
		if _, err := agent.Call(h, agent.Request{Op: "accept"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{homeA, homeB} {
		waitStatus(t, h, "the group", func(st device.Status) bool { return st.Group.Grouped })
	}
	addConflict(t, da)
	addConflict(t, db)

	w.navigate(ua.srv.URL())
	w.navigate(ua.base() + "/devices")
	w.find(`//section[@id="trust"]//button`, 30*time.Second)
	w.script(`document.getElementById("trust").scrollIntoView(); return 1`, nil, nil)
	w.keep("devices-trust")
	w.clickLive(`//button[@aria-label="Use key `+conflictFprB+` for `+conflictAcct+`"]`, 30*time.Second)
	w.waitText(`//section[@id="trust-preview"]`, "becomes the key of "+conflictAcct, 10*time.Second)
	if src := w.source(); strings.Contains(src, conflictXA) || strings.Contains(src, conflictXB) {
		t.Error("the page holds a private key")
	}
	w.keep("devices-trust-preview")
	w.clickLive(`//button[@id="resolve"]`, 10*time.Second)
	w.waitText(`//p[@role="status"]`, "resolved: "+conflictAcct+" has key "+conflictFprB, 10*time.Second)
	w.script(`window.keysyncNoReload = 1; return 1`, nil, nil)
	w.find(`//p[@id="no-trust-conflict"]`, time.Minute)
	var mark any
	w.script(`return window.keysyncNoReload || 0`, nil, &mark)
	if mark != float64(1) {
		t.Errorf("the page was reloaded (mark %v)", mark)
	}
	for _, h := range []string{homeA, homeB} {
		waitStatus(t, h, "the conflict settled", func(st device.Status) bool {
			return strings.Contains(string(st.Trust), `"conflicts":[]`)
		})
	}
}
