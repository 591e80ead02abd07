package webui

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustsync"
)

// Two keys the group holds for one account: a replica key conflict.
const (
	conflictAcct = "xmpp:alice@example.org"
	conflictFprA = "1111111111111111111111111111111111111111"
	conflictFprB = "2222222222222222222222222222222222222222"
	conflictXA   = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	conflictXB   = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// addConflict applies to d's replica, as a message from the group would
// be applied, two keys of conflictAcct and an app state.
func addConflict(t testing.TB, d *device.Device) {
	t.Helper()
	p, err := trustsync.Encode(&trustsync.Update{From: "test", Seq: 1, Keys: []trustsync.KeyRow{
		{Account: conflictAcct, Fpr: conflictFprA, P: "0b", Q: "07", G: "02", Y: "05", X: conflictXA},
		{Account: conflictAcct, Fpr: conflictFprB, P: "0b", Q: "07", G: "02", Y: "06", X: conflictXB},
	}})
	if err != nil {
		t.Fatal(err)
	}
	st := &trustsync.Store{}
	if err := d.Update(func(tx *bbolt.Tx) error {
		_, err := st.Apply(tx, device.Event{Pos: "test:1", Self: "self"}, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTrustConflictPreview: the Devices page shows the trust replica's
// size and its key conflict, in the page and in the event stream, with
// no private key; a click on a key previews the decision; settling on a
// device with no group says so (as `keysync trust resolve` does); a key
// that is not in the conflict is refused.
func TestTrustConflictPreview(t *testing.T) {
	home := filepath.Join(t.TempDir(), "dev")
	if err := device.Create(home, "alice@example.org", "", &device.PGP{}); err != nil {
		t.Fatal(err)
	}
	d, err := device.Open(home, device.Options{Codec: &device.PGP{}, Extension: &trustsync.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	addConflict(t, d)
	d.Close()

	u := newTestUI(t, home)
	secrets := append(deviceSecrets(t, home), conflictXA, conflictXB)
	_, body := u.get("/devices")
	for _, want := range []string{"Trust replica", "0 fingerprints, 2 keys, 0 OpenPGP keys", "Key conflicts", conflictAcct, conflictFprA, conflictFprB} {
		if !strings.Contains(body, want) {
			t.Errorf("devices page lacks %q:\n%s", want, body)
		}
	}
	checkNoSecret(t, "devices", body, secrets)
	ev := firstEvent(t, u, "/events")
	if !strings.Contains(ev, "Key conflicts") || !strings.Contains(ev, conflictFprB) {
		t.Errorf("event stream lacks the conflict:\n%s", ev)
	}
	checkNoSecret(t, "event stream", ev, secrets)

	form := url.Values{"csrf": {u.srv.csrf}, "account": {conflictAcct}, "fpr": {conflictFprB}}
	code, body := u.post("/devices/trust/preview", form)
	if code != http.StatusOK || !strings.Contains(body, `id="trust-preview"`) || !strings.Contains(body, "Use this key on every device") ||
		!strings.Contains(body, `name="fpr" value="`+conflictFprB+`"`) {
		t.Errorf("preview: %d\n%s", code, body)
	}
	checkNoSecret(t, "preview", body, secrets)
	if _, body := u.post("/devices/trust/resolve", form); !strings.Contains(body, "not in a device group") {
		t.Errorf("resolve without a group:\n%s", body)
	}
	form.Set("fpr", strings.Repeat("3", 40))
	if _, body := u.post("/devices/trust/preview", form); !strings.Contains(body, "no open conflict") || strings.Contains(body, `id="trust-preview"`) {
		t.Errorf("preview of a key not in the conflict:\n%s", body)
	}
	if code, _ := u.post("/devices/trust/resolve", url.Values{"account": {conflictAcct}, "fpr": {conflictFprA}}); code != http.StatusForbidden {
		t.Errorf("resolve without CSRF token: %d", code)
	}
}

// TestTrustAppStates: each synced app's state shows as status gives it:
// in sync, waiting for the app to exit (with the program), or the error.
func TestTrustAppStates(t *testing.T) {
	u := newTestUI(t, "")
	d := devicesData{Trust: &trustsync.Status{Synced: true, Fingerprints: 3, Keys: 1, Apps: []trustsync.AppStatus{
		{Source: "pidgin:/p", State: trustsync.StateInSync},
		{Source: "irssi:/i", State: trustsync.StateWaiting, Process: "irssi"},
		{Source: "adium:/a", State: "error", Error: "reading /a: <broken>"},
	}}}
	var b strings.Builder
	if err := u.srv.tmpl.ExecuteTemplate(&b, "device-status", page{CSRF: u.srv.csrf, Data: d}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 fingerprints, 1 keys, 0 OpenPGP keys</p>", "<code>pidgin:/p</code></td><td class=\"app-state\">in sync</td>",
		"waiting for the app to exit (irssi)", `class="app-state warn">error: reading /a: &lt;broken&gt;`, `id="no-trust-conflict"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
