package webui

// Browser tests: the pages driven in Debian's headless Chromium through
// chromedriver's WebDriver HTTP API (plain JSON over net/http). Without
// chromium and chromedriver they skip, unless KEYSYNC_REQUIRE_PEERS=1.
// With KEYSYNC_UPDATE_SCREENSHOTS=1 they save a screenshot of each page
// into doc/screenshots/.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustsync"
)

// webDriver is one chromedriver with one browser session.
type webDriver struct {
	t       testing.TB
	base    string // http://127.0.0.1:PORT/session/ID
	session string
}

// needPeer skips the test, or fails it with KEYSYNC_REQUIRE_PEERS=1.
func needPeer(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("KEYSYNC_REQUIRE_PEERS") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startBrowser starts chromedriver and a headless Chromium with a fresh
// profile, both ended when the test ends.
func startBrowser(t testing.TB) *webDriver {
	t.Helper()
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		needPeer(t, "chromedriver not installed (Debian: chromium-driver)")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		needPeer(t, "chromium not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(root + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v", err)
		}
	}
	w := &webDriver{t: t, base: root}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": browser, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--window-size=1200,900", "--user-data-dir=" + t.TempDir(),
		}},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	w.call("POST", "/session", caps, &created)
	if created.SessionID == "" {
		t.Fatal("chromedriver made no session")
	}
	w.session = created.SessionID
	w.base = root + "/session/" + created.SessionID
	t.Cleanup(func() { w.call("DELETE", "", nil, nil) })
	return w
}

// call sends one WebDriver command and decodes its "value" into out.
func (w *webDriver) call(method, path string, body, out any) {
	w.t.Helper()
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.base+path, in)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		w.t.Fatalf("webdriver %s %s: %s", method, path, data)
	}
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("webdriver %s %s: %s: %.500s", method, path, resp.Status, env.Value)
	}
	if out != nil {
		if err := json.Unmarshal(env.Value, out); err != nil {
			w.t.Fatalf("webdriver %s %s: %v: %.300s", method, path, err, env.Value)
		}
	}
}

// try sends one command and reports whether it succeeded.
func (w *webDriver) try(method, path string, body, out any) bool {
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.base+path, in)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if json.NewDecoder(resp.Body).Decode(&env) != nil || resp.StatusCode != http.StatusOK {
		return false
	}
	return out == nil || json.Unmarshal(env.Value, out) == nil
}

func (w *webDriver) navigate(url string) { w.call("POST", "/url", map[string]string{"url": url}, nil) }

func (w *webDriver) currentURL() string {
	var u string
	w.call("GET", "/url", nil, &u)
	return u
}

// elementID takes the id out of a WebDriver element reference.
func elementID(ref map[string]string) string {
	for _, v := range ref {
		return v
	}
	return ""
}

// find returns the element the XPath expression names, waiting up to
// timeout for it to appear.
func (w *webDriver) find(xpath string, timeout time.Duration) string {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ref map[string]string
		if w.try("POST", "/element", map[string]string{"using": "xpath", "value": xpath}, &ref) {
			return elementID(ref)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no element %s on %s:\n%.3000s", xpath, w.currentURL(), w.source())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *webDriver) click(el string) { w.call("POST", "/element/"+el+"/click", map[string]any{}, nil) }

// clickLive clicks the element xpath names inside the live section,
// finding it again if the event stream replaced it meanwhile.
func (w *webDriver) clickLive(xpath string, timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		el := w.find(xpath, timeout)
		if w.try("POST", "/element/"+el+"/click", map[string]any{}, nil) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("cannot click %s", xpath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *webDriver) text(el string) string {
	var s string
	w.call("GET", "/element/"+el+"/text", nil, &s)
	return s
}

func (w *webDriver) source() string {
	var s string
	w.try("GET", "/source", nil, &s)
	return s
}

// waitText waits until the element xpath names has text want.
func (w *webDriver) waitText(xpath, want string, timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	got := ""
	for time.Now().Before(deadline) {
		var ref map[string]string
		if w.try("POST", "/element", map[string]string{"using": "xpath", "value": xpath}, &ref) {
			var s string
			if w.try("GET", "/element/"+elementID(ref)+"/text", nil, &s) {
				if got = s; strings.Contains(s, want) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.t.Fatalf("%s: text %q, want %q", xpath, got, want)
}

// screenshot returns the viewport (el "") or one element as PNG.
func (w *webDriver) screenshot(el string) []byte {
	w.t.Helper()
	path := "/screenshot"
	if el != "" {
		path = "/element/" + el + "/screenshot"
	}
	var b64 string
	w.call("GET", path, nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		w.t.Fatal(err)
	}
	return png
}

// keep saves a screenshot of the page as doc/screenshots/NAME.png when
// KEYSYNC_UPDATE_SCREENSHOTS=1.
func (w *webDriver) keep(name string) {
	w.t.Helper()
	if os.Getenv("KEYSYNC_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	png := w.screenshot("")
	if err := os.WriteFile(filepath.Join("..", "doc", "screenshots", name+".png"), png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// newWindow opens a tab and returns its handle, staying in the current.
func (w *webDriver) newWindow() string {
	var out struct {
		Handle string `json:"handle"`
	}
	w.call("POST", "/window/new", map[string]string{"type": "tab"}, &out)
	return out.Handle
}

func (w *webDriver) window() string {
	var h string
	w.call("GET", "/window", nil, &h)
	return h
}

func (w *webDriver) switchTo(handle string) {
	w.call("POST", "/window", map[string]string{"handle": handle}, nil)
}

// treeOf returns every file below dir with its bytes, by relative path.
func treeOf(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// buildKeysync builds the keysync command into a temporary folder.
func buildKeysync(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "keysync")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/keysync").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBrowserConflict: a key conflict between the Pidgin and Adium
// stores is settled on the Identities page by one click on Pidgin's
// side, a preview, and a click on Write; the stores' files end as
// `keysync sync --prefer` leaves copies of them.
func TestBrowserConflict(t *testing.T) {
	w := startBrowser(t)
	u := newTestUI(t, "")
	keysyncBin := buildKeysync(t)
	// The same stores, copied, settled by the command line.
	cli := t.TempDir()
	pidginCopy, adiumCopy := copyDir(t, "pidgin", cli), copyDir(t, "adium", cli)
	out, err := exec.Command(keysyncBin, "sync", "pidgin:"+pidginCopy, "adium:"+adiumCopy, "--prefer", "pidgin:"+pidginCopy).CombinedOutput()
	if err != nil {
		t.Fatalf("keysync sync --prefer: %v\n%s", err, out)
	}

	w.navigate(u.srv.URL())
	w.find(`//h1[text()="Apps"]`, 10*time.Second)
	w.keep("apps")
	w.navigate(u.base() + "/identities")
	w.find(`//h2[text()="Conflicts"]`, 5*time.Second)
	w.keep("identities")
	pidgin := u.stores[0].Name
	w.click(w.find(fmt.Sprintf(`//form[input[@name="prefer" and @value=%q]]/button`, pidgin), 5*time.Second))
	w.find(`//button[text()="Write these changes"]`, 5*time.Second)
	w.keep("identities-preview")
	assertUnchanged(t, u) // the preview wrote nothing
	w.click(w.find(`//button[text()="Write these changes"]`, time.Second))
	w.find(`//h1[text()="Written"]`, 10*time.Second)

	for _, pair := range [][2]string{{u.stores[0].Dir, pidginCopy}, {u.stores[1].Dir, adiumCopy}} {
		got, want := treeOf(t, pair[0]), treeOf(t, pair[1])
		for name, b := range want {
			if got[name] != b {
				t.Errorf("%s differs from what keysync sync --prefer wrote", filepath.Join(pair[0], name))
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: keysync sync --prefer made no such file", filepath.Join(pair[0], name))
			}
		}
	}
	// And the page now shows no conflict.
	w.navigate(u.base() + "/identities")
	w.find(`//p[text()="None: the stores agree."]`, 5*time.Second)
}

// TestBrowserPhone: the Phone page makes a ChatSecure keystore; the QR
// code on the page, as the browser draws it, decodes (zbarimg) to the
// password shown as text, which decrypts the keystore (openssl).
func TestBrowserPhone(t *testing.T) {
	for _, tool := range []string{"zbarimg", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			needPeer(t, "%s not installed", tool)
		}
	}
	w := startBrowser(t)
	u := newTestUI(t, "")
	// The stores' conflict is settled first, or nothing is exported.
	if code, body := u.post("/identities/settle", url.Values{"csrf": {u.srv.csrf}, "prefer": {u.stores[0].Name}}); !strings.Contains(body, "replaced") {
		t.Fatalf("settle: %d\n%s", code, body)
	}
	w.navigate(u.srv.URL())
	w.navigate(u.base() + "/phone")
	w.keep("phone")
	w.click(w.find(`//button[text()="Make the keystore"]`, 5*time.Second))
	qr := w.find(`//img[@id="qr"]`, 10*time.Second)
	text := w.text(w.find(`//output[@id="pw"]`, time.Second))
	w.keep("phone-qr")
	png := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(png, w.screenshot(qr), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", png).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	pw := strings.TrimRight(string(out), "\n")
	if pw != text || len(pw) != 44 {
		t.Fatalf("QR code holds %q, the page says %q", pw, text)
	}
	keystore := filepath.Join(u.root, "phone", "otr_keystore.ofcaes")
	cmd := exec.Command("openssl", "enc", "-d", "-aes-256-cbc", "-md", "md5", "-in", keystore, "-pass", "stdin")
	cmd.Stdin = strings.NewReader(pw + "\n")
	plain, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl does not decrypt the keystore with the QR code's password: %v", err)
	}
	if !bytes.Contains(plain, []byte("gptest@jabber.org")) {
		t.Errorf("the decrypted keystore lacks the Pidgin account:\n%.300s", plain)
	}
	// The password is on no other page.
	for _, path := range []string{"/phone", "/apps", "/identities", "/devices"} {
		if _, body := u.get(path); strings.Contains(body, pw) {
			t.Errorf("%s shows the password again", path)
		}
	}
}

// runAgent creates a device in home and runs its agent on the folder
// channel ch until the test ends.
func runAgent(t testing.TB, home, ch string) { startAgent(t, home, ch, nil) }

// startAgent creates a device in home and runs its agent on the folder
// channel ch until stop is called or the test ends. The device syncs
// trust (trustsync.Store, the resolve op as keysync agent has it); clock,
// when not nil, is its clock, which the agent asks every 50 ms.
func startAgent(t testing.TB, home, ch string, clock interface{ Now() time.Time }) (d *device.Device, stop func()) {
	t.Helper()
	if err := device.Create(home, "alice@example.org", "Alice", &device.PGP{}); err != nil {
		t.Fatal(err)
	}
	d, err := device.Open(home, device.Options{Codec: &device.PGP{}, Clock: clock, Extension: &trustsync.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dir.Open(ch, dir.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a := &agent.Agent{Dev: d, Ch: c, Home: home, Ops: map[string]func([]string) error{trustsync.OpResolve: func(args []string) error {
		p, addr, _ := strings.Cut(args[0], ":")
		return trustsync.Resolve(d, keysync.Account{Protocol: p, Address: addr}, args[1])
	}}}
	if clock != nil {
		a.TimerPoll = 50 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			d.Close()
			c.Close()
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// TestBrowserPair: two devices pair through their pages. The handshake
// appears on both pages without a reload (Server-Sent Events), with the
// same trustwords; Accept is clicked on one page and then on the other;
// the first page turns to Grouped by itself, and both devices hold the
// same group key.
func TestBrowserPair(t *testing.T) {
	w := startBrowser(t)
	root := t.TempDir()
	ch := filepath.Join(root, "channel")
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	ua, ub := newTestUI(t, homeA), newTestUI(t, homeB)
	// The pages are open before the devices start: what follows arrives live.
	tabA := w.window()
	w.navigate(ua.srv.URL())
	w.navigate(ua.base() + "/devices")
	w.find(`//p[contains(., "No device in")]`, 5*time.Second)
	tabB := w.newWindow()
	w.switchTo(tabB)
	w.navigate(ub.srv.URL())
	w.navigate(ub.base() + "/devices")
	runAgent(t, homeA, ch)
	runAgent(t, homeB, ch)

	accept := `//button[@id="accept"]`
	w.find(accept, time.Minute)
	wordsB := w.text(w.find(`//p[@id="trustwords"]`, time.Second))
	w.switchTo(tabA)
	w.find(accept, time.Minute)
	wordsA := w.text(w.find(`//p[@id="trustwords"]`, time.Second))
	if wordsA == "" || wordsA != wordsB {
		t.Fatalf("trustwords differ: %q and %q", wordsA, wordsB)
	}
	w.keep("devices-handshake")
	// In another language, on request.
	w.navigate(ua.base() + "/devices?lang=de")
	de := w.text(w.find(`//p[@id="trustwords"]`, 5*time.Second))
	st, err := agent.Status(homeA, "de", device.Options{Codec: &device.PGP{}})
	if err != nil || st.Handshake == nil || de != st.Handshake.Trustwords || de == wordsA {
		t.Errorf("German trustwords %q; status says %+v (%v)", de, st.Handshake, err)
	}
	w.navigate(ua.base() + "/devices")
	w.clickLive(accept, 10*time.Second)
	w.waitText(`//section[@id="handshake"]`, "Accepted here", 30*time.Second)

	w.switchTo(tabB)
	w.clickLive(accept, 10*time.Second)
	w.waitText(`//dd[@id="state"]`, "Grouped", time.Minute)
	// Page A was not touched since its Accept: it follows the agent.
	w.switchTo(tabA)
	w.waitText(`//dd[@id="state"]`, "Grouped", time.Minute)
	w.waitText(`//dd[@id="group"]`, "2 devices", time.Minute)
	w.keep("devices-grouped")
	a, err := agent.Status(homeA, "", device.Options{Codec: &device.PGP{}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := agent.Status(homeB, "", device.Options{Codec: &device.PGP{}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Group.Grouped || !b.Group.Grouped || len(a.Group.Keys) == 0 || strings.Join(a.Group.Keys, " ") != strings.Join(b.Group.Keys, " ") {
		t.Errorf("group keys %v and %v", a.Group.Keys, b.Group.Keys)
	}
}

// script runs JavaScript in the page (as WebDriver does, outside the
// page's CSP) and decodes its result into out.
func (w *webDriver) script(js string, args []any, out any) {
	w.t.Helper()
	if args == nil {
		args = []any{}
	}
	w.call("POST", "/execute/sync", map[string]any{"script": js, "args": args}, out)
}

// keys types text (WebDriver key codes allowed) into the focused element.
func (w *webDriver) keys(text string) {
	w.t.Helper()
	var actions []map[string]string
	for _, r := range text {
		actions = append(actions, map[string]string{"type": "keyDown", "value": string(r)}, map[string]string{"type": "keyUp", "value": string(r)})
	}
	w.call("POST", "/actions", map[string]any{"actions": []any{map[string]any{"type": "key", "id": "keyboard", "actions": actions}}}, nil)
}

// TestBrowserKeyboardAndZoom: the pages work from the keyboard (the
// filter typed and sent with Enter, a conflict's side chosen by Tab and
// Enter) and need no sideways scrolling at 200% zoom (a window half as
// wide).
func TestBrowserKeyboardAndZoom(t *testing.T) {
	w := startBrowser(t)
	u := newTestUI(t, "")
	w.navigate(u.srv.URL())
	w.navigate(u.base() + "/identities")
	w.click(w.find(`//input[@id="q"]`, 5*time.Second))
	w.keys("hans@eds.org\uE007") // Enter
	w.find(`//p[contains(., "2 contacts match")]`, 5*time.Second)
	if got := w.currentURL(); !strings.Contains(got, "q=hans%40eds.org") {
		t.Errorf("the filter went to %s", got)
	}
	// Tab from the top of the page reaches the first conflict's button.
	w.navigate(u.base() + "/identities")
	w.find(`//h2[text()="Conflicts"]`, 5*time.Second)
	reached := false
	for range 20 {
		w.keys("\uE004") // Tab
		var label string
		w.script(`return document.activeElement ? document.activeElement.textContent : ""`, nil, &label)
		if label == "Keep this side…" {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reached a conflict's button")
	}
	w.keys("\uE007")
	w.find(`//button[text()="Write these changes"]`, 5*time.Second)

	// 200% zoom: a window half as wide as a small laptop's.
	w.call("POST", "/window/rect", map[string]int{"width": 640, "height": 900}, nil)
	for _, path := range []string{"/apps", "/identities", "/phone", "/devices"} {
		w.navigate(u.base() + path)
		w.find(`//h1`, 5*time.Second)
		var wide bool
		w.script(`return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`, nil, &wide)
		if wide {
			t.Errorf("%s scrolls sideways at 640 CSS pixels", path)
		}
	}
}

// TestBrowserReject: Reject on the page ends the handshake on this
// device and switches its sync off, as `keysync handshake reject` does.
func TestBrowserReject(t *testing.T) {
	w := startBrowser(t)
	root := t.TempDir()
	ch := filepath.Join(root, "channel")
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	ua := newTestUI(t, homeA)
	runAgent(t, homeA, ch)
	runAgent(t, homeB, ch)
	w.navigate(ua.srv.URL())
	w.navigate(ua.base() + "/devices")
	w.clickLive(`//button[@id="reject"]`, time.Minute)
	w.waitText(`//dd[@id="state"]`, "(sync off)", 30*time.Second)
	if src := w.source(); strings.Contains(src, `id="accept"`) {
		t.Error("the handshake is still offered after Reject")
	}
	st, err := agent.Status(homeA, "", device.Options{Codec: &device.PGP{}})
	if err != nil || st.Running || st.Handshake != nil || st.Group.Grouped {
		t.Errorf("after Reject: %+v %v", st, err)
	}
}
