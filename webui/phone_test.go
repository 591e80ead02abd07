package webui

import (
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPhonePush: with a phone that adb sees, the Phone page offers the
// push, and the export pushes the keystore to the phone's storage root.
func TestPhonePush(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake adb is a shell script")
	}
	bin := t.TempDir()
	log := filepath.Join(bin, "adb.log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\n" +
		"if [ \"$1\" = devices ]; then printf 'List of devices attached\\nX1\\tdevice\\n\\n'; fi\n"
	if err := os.WriteFile(filepath.Join(bin, "adb"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	u := newTestUI(t, "")
	if _, body := u.get("/phone"); !strings.Contains(body, `name="push"`) || !strings.Contains(body, "1 attached") {
		t.Fatalf("the page does not offer the push:\n%s", body)
	}
	u.post("/identities/settle", url.Values{"csrf": {u.srv.csrf}, "prefer": {u.stores[0].Name}})
	_, body := u.post("/phone/export", url.Values{"csrf": {u.srv.csrf}, "push": {"1"}})
	if !strings.Contains(body, "Pushed to <code>/sdcard/otr_keystore.ofcaes</code>") {
		t.Fatalf("export with push:\n%s", body)
	}
	calls, _ := os.ReadFile(log)
	keystore := filepath.Join(u.root, "phone", "otr_keystore.ofcaes")
	if !strings.Contains(string(calls), "push "+keystore+" /sdcard/otr_keystore.ofcaes\n") {
		t.Errorf("adb was called with:\n%s", calls)
	}
}
