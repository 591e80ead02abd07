package imap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/dovecottest"
)

// mta is a submission server on loopback that delivers what it takes
// into one mailbox of a Dovecot, as the user's mail system would: with a
// Return-Path and Received header on top.
type mta struct {
	t    testing.TB
	s    *dovecottest.Server
	box  string
	addr string

	mu  sync.Mutex
	cl  *imapclient.Client
	rcp []string // recipients of every delivery
}

func startMTA(t testing.TB, s *dovecottest.Server, box string) *mta {
	m := &mta{t: t, s: s, box: box}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mtaSession{m: m}, nil }))
	srv.Domain = "mta.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m
}

// deliver appends msg to the mailbox over the MTA's own IMAP connection.
func (m *mta) deliver(msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cl == nil {
		cl, err := imapclient.DialInsecure(m.s.Addr, nil)
		if err != nil {
			return err
		}
		if err := cl.Login(dovecottest.User, dovecottest.Password).Wait(); err != nil {
			return err
		}
		m.cl = cl
		m.t.Cleanup(func() { cl.Close() })
	}
	cmd := m.cl.Append(m.box, int64(len(msg)), nil)
	cmd.Write(msg)
	cmd.Close()
	_, err := cmd.Wait()
	return err
}

type mtaSession struct {
	m        *mta
	authed   bool
	from, to string
}

func (s *mtaSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mtaSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != dovecottest.User || pass != dovecottest.Password {
			return errors.New("bad login")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *mtaSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *mtaSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mtaSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.rcp = append(s.m.rcp, s.to)
	s.m.mu.Unlock()
	trace := fmt.Sprintf("Return-Path: <%s>\r\nReceived: from client\r\n\tby mta.test; %s\r\n", s.from, time.Now().Format(time.RFC1123Z))
	return s.m.deliver(append([]byte(trace), body...))
}
func (s *mtaSession) Reset()        {}
func (s *mtaSession) Logout() error { return nil }

// TestSMTP runs the conformance tests with every message mailed to the
// own address through a submission server that delivers it to the
// mailbox with trace headers on top.
func TestSMTP(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	var (
		mu  sync.Mutex
		rcp []string
	)
	channeltest.Run(t, func(t *testing.T) func() (channel.Channel, error) {
		u := mailbox(t, s, "imap+insecure")
		m := startMTA(t, s, u[strings.LastIndexByte(u, '/')+1:])
		t.Cleanup(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			rcp = append(rcp, m.rcp...)
		})
		o := testOptions(s)
		o.SMTP = "smtp+insecure://" + m.addr
		return func() (channel.Channel, error) { return Open(u, o) }
	}, channeltest.Options{Messages: 4})
	mu.Lock()
	defer mu.Unlock()
	if len(rcp) == 0 {
		t.Error("no mail went through the submission server")
	}
	for _, r := range rcp {
		if r != dovecottest.User {
			t.Errorf("mail went to %q, want the own address %s", r, dovecottest.User)
		}
	}
}

// TestSMTPURL: what the SMTP option refuses.
func TestSMTPURL(t *testing.T) {
	c, err := parse("imap://keysync@example.org@mail.example.org/INBOX", Options{Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"smtp+insecure://mail.example.org:25", "only for a loopback"},
		{"smtp://u:pw@mail.example.org", "password in the URL"},
		{"submission://mail.example.org", "scheme"},
		{"smtp://mail.example.org/x", "no path"},
	} {
		if _, err := parseSMTP(tc.url, c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
	s, err := parseSMTP("smtp://mail.example.org", c)
	if err != nil || s.addr != "mail.example.org:587" || s.mode != "starttls" || s.address != "keysync@example.org" || s.user != "keysync@example.org" {
		t.Errorf("smtp://mail.example.org: %+v, %v", s, err)
	}
	s, err = parseSMTP("smtps://other@mail.example.org", c)
	if err != nil || s.addr != "mail.example.org:465" || s.mode != "tls" || s.user != "other" {
		t.Errorf("smtps://other@mail.example.org: %+v, %v", s, err)
	}
	c.user = "plainuser"
	if _, err := parseSMTP("smtps://mail.example.org", c); err == nil || !strings.Contains(err.Error(), "Options.Address") {
		t.Errorf("a login that is not an address, and no Address: %v", err)
	}
}
