package webui

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustwords"
)

// TestDevicesWithoutAgent: with no device the page says how to make
// one; with a device and no agent it shows the store's status, and an
// answer says that no agent runs; an unknown answer is not found.
func TestDevicesWithoutAgent(t *testing.T) {
	u := newTestUI(t, "")
	if _, body := u.get("/devices"); !strings.Contains(body, "keysync init --home") {
		t.Errorf("no device:\n%s", body)
	}
	home := filepath.Join(t.TempDir(), "dev")
	if err := device.Create(home, "me@example.org", "", &device.PGP{}); err != nil {
		t.Fatal(err)
	}
	u = newTestUI(t, home)
	_, body := u.get("/devices")
	if !strings.Contains(body, "me@example.org") || !strings.Contains(body, "No handshake is pending") {
		t.Errorf("device without agent:\n%s", body)
	}
	for _, lang := range trustwords.Languages() {
		if !strings.Contains(body, `<option value="`+lang+`"`) {
			t.Errorf("no language choice %s", lang)
		}
	}
	for _, op := range []string{"accept", "reject", "cancel", "leave"} {
		code, body := u.post("/devices/"+op, url.Values{"csrf": {u.srv.csrf}})
		if code != http.StatusOK || !strings.Contains(body, "no agent runs") {
			t.Errorf("%s without agent: %d\n%s", op, code, body)
		}
	}
	if code, _ := u.post("/devices/format", url.Values{"csrf": {u.srv.csrf}}); code != http.StatusNotFound {
		t.Errorf("unknown op: %d", code)
	}
}
