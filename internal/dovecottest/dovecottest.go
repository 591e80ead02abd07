// Package dovecottest runs a real Dovecot IMAP server (Debian's
// dovecot-imapd) for tests: configured in a temporary folder, listening
// on a loopback port, one mail user with a maildir, its mail processes
// run as an unprivileged user (nobody when the test runs as root).
//
// A missing dovecot skips the test, or fails it with
// KEYSYNC_REQUIRE_PEERS=1 (internal/peer). Every process a Server starts
// is killed when the test ends, passed or failed.
package dovecottest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keysync/keysync/internal/peer"
)

// User and Password are the mail user's login.
const (
	User     = "keysync@example.org"
	Password = "dovecottest-password"
)

// Options choose how the server is set up.
type Options struct {
	// TLS makes the server speak implicit TLS (port 993 style) with a
	// self-signed certificate for 127.0.0.1, which Server.TLS trusts.
	TLS bool
	// NoIdle leaves IDLE out of the server's capabilities, so that
	// clients poll.
	NoIdle bool
}

// Server is one running Dovecot.
type Server struct {
	// Addr is the listening address, 127.0.0.1:PORT.
	Addr string
	// Dir holds the configuration, logs, state and the maildir.
	Dir string
	// TLS is a client configuration that trusts the server's
	// certificate (nil without Options.TLS).
	TLS *tls.Config

	t       testing.TB
	conf    string
	cmd     *exec.Cmd
	exit    chan struct{}
	lastPid int
}

// Start configures and starts a Dovecot for t, stopped when t ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := peer.Need(t, "dovecot")
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		peer.Missing(t, "dovecot's imap server is not installed (Debian package dovecot-imapd)")
	}
	dir, err := os.MkdirTemp("", "dovecottest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The mail processes run as another user: they must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, t: t, conf: filepath.Join(dir, "dovecot.conf")}
	uid, gid, login, group := mailUser(t)
	mail := filepath.Join(dir, "mail")
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(mail, uid, gid); err != nil {
		t.Fatal(err)
	}
	passwd := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::\n", User, Password, uid, gid, mail)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	listener := fmt.Sprintf("inet_listener imap {\n    address = 127.0.0.1\n    port = %d\n  }\n  inet_listener imaps {\n    port = 0\n  }", port)
	sslConf := "ssl = no\n"
	if o.TLS {
		listener = fmt.Sprintf("inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = %d\n    ssl = yes\n  }", port)
		s.TLS = selfSigned(t, dir)
		sslConf = fmt.Sprintf("ssl = required\nssl_cert = <%s/cert.pem\nssl_key = <%s/key.pem\n", dir, dir)
	}
	caps := ""
	if o.NoIdle {
		caps = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS ESEARCH SEARCHRES UNSELECT CHILDREN NAMESPACE\n"
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
%[2]sdisable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = %[3]s
default_internal_user = %[3]s
default_internal_group = %[4]s
first_valid_uid = 1
first_valid_gid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/passwd
}
mail_location = maildir:%[1]s/mail/%%u
mailbox_idle_check_interval = 1 secs
protocol imap {
  mail_max_userip_connections = 1000
}
%[5]sservice imap-login {
  %[6]s
}
service stats {
  unix_listener stats-reader {
    user = %[3]s
  }
  unix_listener stats-writer {
    user = %[3]s
  }
}
`, dir, sslConf, login, group, caps, listener)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.start(bin)
	return s
}

// mailUser returns the user the mail processes run as: nobody when the
// test runs as root, else the test's own user.
func mailUser(t testing.TB) (uid, gid int, name, group string) {
	t.Helper()
	name = "nobody"
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		name = u.Username
	}
	u, err := user.Lookup(name)
	if err != nil {
		peer.Missing(t, "no unprivileged user for dovecot's mail processes: "+err.Error())
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return uid, gid, name, g.Name
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs dovecot in the foreground, in its own process group, and
// waits until it accepts connections.
func (s *Server) start(bin string) {
	s.t.Helper()
	cmd := exec.Command(bin, "-F", "-c", s.conf)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := os.OpenFile(filepath.Join(s.Dir, "dovecot.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting dovecot: %v", err)
	}
	s.cmd, s.exit, s.lastPid = cmd, make(chan struct{}), cmd.Process.Pid
	go func() { cmd.Wait(); close(s.exit) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-s.exit:
			s.cmd = nil
			s.t.Fatalf("dovecot exited at start: %s", s.logs())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("dovecot not listening on %s after 15s: %s", s.Addr, s.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logs returns the end of dovecot's logs, for a failure message.
func (s *Server) logs() string {
	var b strings.Builder
	for _, f := range []string{"dovecot.out", "dovecot.log"} {
		data, _ := os.ReadFile(filepath.Join(s.Dir, f))
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "\n%s:\n%s", f, data)
	}
	return b.String()
}

// Stop kills dovecot and every process it started (SIGKILL to its
// process group: a crash, not a shutdown). Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exit
	s.cmd = nil
	// Children that were between fork and exec, or were reparented,
	// share the process group: make sure none is left running (a zombie
	// waiting for init to reap it is not running).
	for range 500 {
		if len(running(s.lastPid)) == 0 {
			return
		}
		syscall.Kill(-s.lastPid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Errorf("dovecot processes %v still running after SIGKILL", running(s.lastPid))
}

// running returns the processes of group pgid that are not zombies,
// from /proc.
func running(pgid int) []int {
	dirs, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parens.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// Restart starts a stopped server again on the same port, with its
// mail as it was.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		s.t.Fatal(err)
	}
	s.start(bin)
}

// Logs returns the end of dovecot's logs.
func (s *Server) Logs() string { return s.logs() }

// selfSigned writes a new self-signed certificate for 127.0.0.1 and its
// key to dir (cert.pem, key.pem) and returns a client configuration
// that trusts it.
func selfSigned(t testing.TB, dir string) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "dovecottest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
