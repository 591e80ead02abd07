package webui

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/device"
)

// copyDir copies the fixture folder src (below ../testdata/fixtures)
// into a new folder under dst.
func copyDir(t testing.TB, src, dst string) string {
	t.Helper()
	return copyTo(t, src, filepath.Join(dst, src))
}

// copyTo copies the fixture folder src into the folder to.
func copyTo(t testing.TB, src, to string) string {
	t.Helper()
	from := filepath.Join("..", "testdata", "fixtures", src)
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// testUI is a server on a loopback port over copies of the Pidgin and
// Adium samples (which disagree on a private key) and a device home.
type testUI struct {
	t      testing.TB
	srv    *Server
	ts     *httptest.Server
	client *http.Client // logged in
	root   string
	stores []app.Location
}

func newTestUI(t testing.TB, home string) *testUI {
	t.Helper()
	root := t.TempDir()
	// app.Detect looks in the default folders: an empty home here.
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	// Pidgin's store is in its default folder, where the Apps page finds
	// it; so is an irssi store that the other pages do not use.
	pidgin := copyTo(t, "pidgin", filepath.Join(root, "home", ".purple"))
	copyTo(t, "irssi", filepath.Join(root, "home", ".irssi"))
	stores, err := app.ParseLocations([]string{"pidgin:" + pidgin, "adium:" + copyDir(t, "adium", root)})
	if err != nil {
		t.Fatal(err)
	}
	if home == "" {
		home = filepath.Join(root, "nodevice")
	}
	phone := filepath.Join(root, "phone")
	os.Mkdir(phone, 0o700)
	ts := httptest.NewUnstartedServer(nil)
	srv, err := New(Config{Stores: stores, PhoneDir: phone, Home: home, Codec: &device.PGP{}}, ts.Listener.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.CloseClientConnections() // the event streams of a browser still open
		ts.Close()
	})
	u := &testUI{t: t, srv: srv, ts: ts, root: root, stores: stores, client: newClient()}
	resp, err := u.client.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("token") != "" {
		t.Fatalf("login: %s at %s", resp.Status, resp.Request.URL)
	}
	return u
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// base returns the server's address as http://host:port.
func (u *testUI) base() string { return "http://" + u.srv.host }

// get fetches path with the logged-in client and returns status and body.
func (u *testUI) get(path string) (int, string) {
	u.t.Helper()
	resp, err := u.client.Get(u.base() + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post posts form to path with the logged-in client.
func (u *testUI) post(path string, form url.Values) (int, string) {
	u.t.Helper()
	resp, err := u.client.PostForm(u.base()+path, form)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const lockedText = "Open the link keysync printed"

func TestNoToken(t *testing.T) {
	u := newTestUI(t, "")
	for _, path := range []string{"/", "/apps", "/identities", "/phone", "/devices", "/events", "/static/live.js"} {
		resp, err := newClient().Get(u.base() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), lockedText) || strings.Contains(string(b), "pidgin") {
			t.Errorf("GET %s without token: %s\n%s", path, resp.Status, b)
		}
	}
	// A POST without a session does nothing either.
	resp, err := newClient().PostForm(u.base()+"/identities/settle", url.Values{"prefer": {u.stores[0].Name}, "csrf": {u.srv.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without session: %s", resp.Status)
	}
	assertUnchanged(t, u)
}

func TestWrongToken(t *testing.T) {
	u := newTestUI(t, "")
	c := newClient()
	for _, tok := range []string{"wrong", u.srv.token[:len(u.srv.token)-1], u.srv.session, u.srv.csrf} {
		resp, err := c.Get(u.base() + "/?token=" + url.QueryEscape(tok))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), lockedText) || len(resp.Cookies()) > 0 {
			t.Errorf("token %q: %s, cookies %v", tok, resp.Status, resp.Cookies())
		}
	}
	// A forged session cookie is refused too.
	req, _ := http.NewRequest("GET", u.base()+"/apps", nil)
	req.AddCookie(&http.Cookie{Name: u.srv.cookieName(), Value: u.srv.token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the access token as session cookie: %s", resp.Status)
	}
}

func TestCookie(t *testing.T) {
	u := newTestUI(t, "")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	k := cookies[0]
	if !k.HttpOnly || k.SameSite != http.SameSiteStrictMode || k.Value == u.srv.token || k.Value == "" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not the token", k)
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "token") {
		t.Errorf("redirect keeps the token: %s", loc)
	}
}

func TestForeignHost(t *testing.T) {
	u := newTestUI(t, "")
	_, port, _ := strings.Cut(u.srv.host, ":")
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1:1", "localhost.evil.example:" + port, "[::1]:" + port + "0"} {
		for _, path := range []string{"/apps", u.srv.URL()[len(u.base()):]} {
			req, _ := http.NewRequest("GET", u.base()+path, nil)
			req.Host = host
			resp, err := u.client.Do(req) // with the session cookie
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(b), "pidgin") || len(resp.Cookies()) > 0 {
				t.Errorf("Host %s %s: %s", host, path, resp.Status)
			}
		}
	}
	// localhost with the right port is the same server.
	req, _ := http.NewRequest("GET", u.base()+"/static/style.css", nil)
	req.Host = "localhost:" + port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("Host localhost:%s: %s", port, resp.Status)
	}
}

func TestPostNeedsCSRF(t *testing.T) {
	u := newTestUI(t, "")
	prefer := u.stores[0].Name
	for _, form := range []url.Values{
		{"prefer": {prefer}},
		{"prefer": {prefer}, "csrf": {""}},
		{"prefer": {prefer}, "csrf": {"wrong"}},
		{"prefer": {prefer}, "csrf": {u.srv.token}},
	} {
		for _, path := range []string{"/identities/settle", "/identities/preview", "/phone/export", "/devices/accept", "/devices/leave"} {
			if code, body := u.post(path, form); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
				t.Errorf("POST %s %v: %d", path, form, code)
			}
		}
	}
	// The token in the query string is no CSRF token.
	if code, _ := u.post("/identities/settle?csrf="+url.QueryEscape(u.srv.csrf), url.Values{"prefer": {prefer}}); code != http.StatusForbidden {
		t.Errorf("CSRF token in the query: %d", code)
	}
	// A right token from another origin is refused.
	req, _ := http.NewRequest("POST", u.base()+"/identities/settle", strings.NewReader(url.Values{"prefer": {prefer}, "csrf": {u.srv.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := u.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %s", resp.Status)
	}
	// A state change by GET does nothing.
	if code, _ := u.get("/identities/settle?prefer=" + url.QueryEscape(prefer) + "&csrf=" + url.QueryEscape(u.srv.csrf)); code == http.StatusOK {
		t.Errorf("GET settle: %d", code)
	}
	assertUnchanged(t, u)
	// With the token the preview answers, and still writes nothing.
	if code, body := u.post("/identities/preview", url.Values{"prefer": {prefer}, "csrf": {u.srv.csrf}}); code != http.StatusOK || !strings.Contains(body, "Write these changes") {
		t.Errorf("preview with the CSRF token: %d\n%s", code, body)
	}
	assertUnchanged(t, u)
}

// assertUnchanged fails unless the stores hold the samples' bytes.
func assertUnchanged(t *testing.T, u *testUI) {
	t.Helper()
	for _, l := range u.stores {
		for _, f := range []string{"otr.private_key", "otr.fingerprints"} {
			got, err := os.ReadFile(filepath.Join(l.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(filepath.Join("..", "testdata", "fixtures", l.App.Name(), f))
			if string(got) != string(want) {
				t.Errorf("%s/%s changed", l.Dir, f)
			}
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:0", "127.0.0.1:8080", "[::1]:0", "localhost:9000", "127.1.2.3:80"} {
		if err := CheckListen(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:8080", ":8080", "[::]:0", "192.168.1.2:80", "10.0.0.1:0", "example.com:80", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:99999", "", "localhost"} {
		if err := CheckListen(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
		if ln, err := Listen(bad); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) listened", bad)
		}
	}
}

// TestHeaders: every response has the strict CSP, and no page holds an
// inline script or event handler, which that CSP would block anyway.
func TestHeaders(t *testing.T) {
	u := newTestUI(t, "")
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<script>|\son[a-z]+\s*=|javascript:|style=`)
	for _, path := range []string{"/apps", "/identities", "/phone", "/devices", "/static/style.css", "/static/live.js"} {
		resp, err := u.client.Get(u.base() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("%s: CSP %q", path, got)
		}
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q is not strict", csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".css") {
			continue
		}
		if m := inline.FindString(string(b)); m != "" {
			t.Errorf("%s: inline script or style %q", path, m)
		}
	}
}

// secretForms returns every way a private key of the test stores could
// appear in text: x in hex (either case), decimal and base64.
func secretForms(t testing.TB, stores []app.Location) []string {
	t.Helper()
	var out []string
	for _, l := range stores {
		m, _, err := l.Read(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, la := range m.Accounts {
			for _, k := range la.Keys {
				d, ok := k.PrivateKey.(*keysync.DSAKey)
				if !ok || d.X == nil {
					continue
				}
				out = append(out, xForms(d.X)...)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no private keys in the test stores")
	}
	return out
}

func xForms(x *big.Int) []string {
	b := x.Bytes()
	h := fmt.Sprintf("%x", b)
	return []string{h, strings.ToUpper(h), x.String(), base64.StdEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(append([]byte{0}, b...))}
}

// checkNoSecret fails if body holds key material.
func checkNoSecret(t testing.TB, what, body string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s holds private key material %.12s…", what, s)
		}
	}
	for _, marker := range []string{"PRIVATE KEY", "(x #", "private-key"} {
		if strings.Contains(body, marker) {
			t.Errorf("%s holds %q", what, marker)
		}
	}
}

// TestNoKeyMaterial: no page, preview, result or event stream holds a
// private key of the stores or of the device.
func TestNoKeyMaterial(t *testing.T) {
	home := filepath.Join(t.TempDir(), "dev")
	if err := device.Create(home, "me@example.org", "Me", &device.PGP{}); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(t, home)
	secrets := secretForms(t, u.stores)
	secrets = append(secrets, deviceSecrets(t, home)...)
	csrf := url.Values{"csrf": {u.srv.csrf}}
	for _, path := range []string{"/apps", "/identities", "/identities?q=gptest", "/phone", "/devices", "/devices?lang=de"} {
		code, body := u.get(path)
		if code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
		}
		checkNoSecret(t, path, body, secrets)
	}
	form := url.Values{"csrf": csrf["csrf"], "prefer": {u.stores[0].Name}}
	_, body := u.post("/identities/preview", form)
	if !strings.Contains(body, "contents not shown") {
		t.Errorf("preview does not hide the key file:\n%s", body)
	}
	checkNoSecret(t, "preview", body, secrets)
	_, body = u.post("/identities/settle", form)
	if !strings.Contains(body, "replaced") {
		t.Errorf("settle wrote nothing:\n%s", body)
	}
	checkNoSecret(t, "settle", body, secrets)
	_, body = u.post("/phone/export", csrf)
	if !strings.Contains(body, "otr_keystore.ofcaes") {
		t.Errorf("export:\n%s", body)
	}
	checkNoSecret(t, "export", body, secrets)
	checkNoSecret(t, "event stream", firstEvent(t, u, "/events"), secrets)
}

// firstEvent returns the first event the stream at path sends.
func firstEvent(t testing.TB, u *testUI, path string) string {
	t.Helper()
	resp, err := u.client.Get(u.base() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	var ev strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "" && ev.Len() > 0 {
			break
		}
		ev.WriteString(sc.Text() + "\n")
	}
	if !strings.HasPrefix(ev.String(), "event: device\n") {
		t.Fatalf("event %q", ev.String())
	}
	return ev.String()
}

// deviceSecrets returns pieces of the secret keys the device store in
// home holds (the "secret" values of its keyring's JSON records).
func deviceSecrets(t testing.TB, home string) []string {
	t.Helper()
	db, err := os.ReadFile(filepath.Join(home, "device.db"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`"secret":"([^"]{64,})"`).FindAllSubmatch(db, -1) {
		s := string(m[1])
		// Stored JSON-escaped; pieces without escapes are what a page
		// would show verbatim.
		for _, piece := range strings.Split(s, `\n`) {
			if len(piece) >= 32 && !strings.Contains(piece, "PGP") {
				out = append(out, piece[:32])
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no secret keys found in the device store")
	}
	return out
}
