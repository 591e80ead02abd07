// Package webui serves keysync's local web page: the apps found on this
// machine, the merged identities and their conflicts, the export to
// ChatSecure and the device group. It adds no logic of its own: every
// page calls the library functions the command line calls (app.Detect,
// app.Show, app.Convert, agent.Status, agent.Call, trustsync.ResolveHome).
//
// The page is served on loopback only, to a browser that opened the URL
// with the access token printed at start (see Server.URL); the token
// becomes an HttpOnly, SameSite=Strict session cookie. Every request's
// Host must be the listening address (against DNS rebinding), every state
// change is a POST carrying the session's CSRF token, and the
// Content-Security-Policy allows only the server's own script and style.
// No private key or group key is ever sent to the page; the one secret
// shown is the password of a ChatSecure keystore just made, on the page
// that made it, which is its purpose.
package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/device"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the page shows and where.
type Config struct {
	// Stores are the app stores the Identities page merges and the
	// Phone page exports; nil means every store app.Detect finds.
	Stores []app.Location
	// PhoneDir is the folder the Phone page writes otr_keystore.ofcaes
	// into, by default.
	PhoneDir string
	// Home is the device's home folder for the Devices page.
	Home string
	// Codec opens the device store when no agent runs.
	Codec device.Codec
}

// Server is the web UI of one keysync ui run.
type Server struct {
	cfg     Config
	host    string // the listening address, host:port, as Host must name it
	hosts   map[string]bool
	token   string
	session string
	csrf    string
	tmpl    *template.Template
	mux     *http.ServeMux
	writeMu sync.Mutex // one write into the stores at a time
}

// CheckListen refuses an address that is not a loopback IP address (or
// "localhost") with a port, such as 127.0.0.1:0 or [::1]:8080.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT on loopback, such as 127.0.0.1:0", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--listen %q: bad port %q", addr, port)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %q: only a loopback address (127.0.0.1, ::1, localhost) is allowed: the page manages private keys", addr)
	}
	return nil
}

// Listen checks addr with CheckListen and listens on it ("localhost" as
// 127.0.0.1).
func Listen(addr string) (net.Listener, error) {
	if err := CheckListen(addr); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return net.Listen("tcp", addr)
}

// New returns the server for the page served at addr, the address the
// listener is bound to (host:port, a loopback IP), with fresh random
// access, session and CSRF tokens.
func New(cfg Config, addr net.Addr) (*Server, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return nil, fmt.Errorf("webui: %v is not a loopback TCP address", addr)
	}
	s := &Server{cfg: cfg, host: tcp.String(), hosts: map[string]bool{tcp.String(): true}}
	s.hosts["localhost:"+strconv.Itoa(tcp.Port)] = true
	var err error
	for _, t := range []*string{&s.token, &s.session, &s.csrf} {
		if *t, err = randomToken(); err != nil {
			return nil, err
		}
	}
	s.tmpl, err = template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// URL is the link keysync prints: the page with the access token.
func (s *Server) URL() string {
	return "http://" + s.host + "/?token=" + url.QueryEscape(s.token)
}

// randomToken returns 32 random bytes in URL-safe base64.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// cookieName returns the name of the cookie that holds the session
// token. Cookies do not tell ports apart, so the name holds the port: two
// keysync ui runs on one machine keep their own sessions.
func (s *Server) cookieName() string {
	_, port, _ := net.SplitHostPort(s.host)
	return "keysync_session_" + port
}

// csp is the Content-Security-Policy of every response: the server's own
// script and style only, images also as data: URLs (the QR code).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP checks every request against the rules of the package doc
// and hands it on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make Chromium send "Origin: null" on forms
	h.Set("Cache-Control", "no-store")
	if !s.hosts[r.Host] {
		http.Error(w, "wrong Host: keysync ui answers only at "+s.host, http.StatusMisdirectedRequest)
		return
	}
	if r.URL.Path == "/static/style.css" {
		s.mux.ServeHTTP(w, r)
		return
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		if !equal(tok, s.token) {
			s.locked(w)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.session, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q := r.URL.Query()
		q.Del("token")
		target := r.URL.Path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	c, err := r.Cookie(s.cookieName())
	if err != nil || !equal(c.Value, s.session) {
		s.locked(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !equal(r.PostFormValue("csrf"), s.csrf) {
			http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// locked answers a request without a valid token or session.
func (s *Server) locked(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	s.tmpl.ExecuteTemplate(w, "locked.html", nil)
}

// equal compares two tokens in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// routes sets up the pages.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/apps", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /apps", s.apps)
	s.mux.HandleFunc("GET /identities", s.identities)
	s.mux.HandleFunc("POST /identities/preview", s.preview)
	s.mux.HandleFunc("POST /identities/settle", s.settle)
	s.mux.HandleFunc("GET /phone", s.phone)
	s.mux.HandleFunc("POST /phone/export", s.export)
	s.mux.HandleFunc("GET /devices", s.devices)
	s.mux.HandleFunc("POST /devices/{op}", s.deviceOp)
	s.mux.HandleFunc("POST /devices/trust/preview", s.trustPreview)
	s.mux.HandleFunc("POST /devices/trust/resolve", s.trustResolve)
	s.mux.HandleFunc("GET /events", s.events)
}

// page is what every page template gets.
type page struct {
	Title string
	Nav   string // the page's name in the navigation
	CSRF  string
	Error string
	Data  any
}

// render writes the page tmpl with data.
func (s *Server) render(w http.ResponseWriter, status int, tmpl, nav string, data any, problem error) {
	p := page{Title: nav, Nav: nav, CSRF: s.csrf, Data: data}
	if problem != nil {
		p.Error = problem.Error()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, tmpl, p); err != nil {
		fmt.Fprintf(w, "<p>template error: %s</p>", template.HTMLEscapeString(err.Error()))
	}
}

// errBusy says another write from the page is under way.
var errBusy = errors.New("another change is being written; try again in a moment")

var funcs = template.FuncMap{
	"add":      func(a, b int) int { return a + b },
	"list":     func(s ...string) []string { return s },
	"lower":    strings.ToLower,
	"langName": langName,
}

// langNames names the trustword languages in themselves.
var langNames = map[string]string{"ca": "Català", "de": "Deutsch", "en": "English", "es": "Español",
	"fr": "Français", "nl": "Nederlands", "tr": "Türkçe"}

func langName(code string) string {
	if n, ok := langNames[code]; ok {
		return n + " (" + code + ")"
	}
	return code
}
