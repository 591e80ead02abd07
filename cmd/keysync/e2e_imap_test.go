package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/keysync/keysync/internal/dovecottest"
)

// newIMAPE2E is newE2E with the devices' channel a mailbox on a real
// Dovecot on loopback; the agents read the password from the file
// KEYSYNC_IMAP_PASSWORD_FILE names.
func newIMAPE2E(t *testing.T) *e2e {
	e := newE2E(t)
	s := dovecottest.Start(t, dovecottest.Options{})
	pw := filepath.Join(e.root, "password")
	if err := os.WriteFile(pw, []byte(dovecottest.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", pw)
	e.ch = fmt.Sprintf("imap+insecure://%s@%s/keysync", dovecottest.User, s.Addr)
	return e
}

func TestE2EIMAPPairJoinLeave(t *testing.T)    { e2ePairJoinLeave(newIMAPE2E(t)) }
func TestE2EIMAPReject(t *testing.T)           { e2eReject(newIMAPE2E(t)) }
func TestE2EIMAPKillMidHandshake(t *testing.T) { e2eKillMidHandshake(newIMAPE2E(t)) }

// submission is a submission server on loopback standing in for the
// user's mail system: it takes mail from the IMAP user and delivers it
// into one mailbox of Dovecot, with a trace header on top.
type submission struct {
	addr string
	mu   sync.Mutex
	cl   *imapclient.Client
	rcpt []string // recipients of every delivery
	err  error    // the first failed delivery
}

func startSubmission(t *testing.T, s *dovecottest.Server, box string) *submission {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Login(dovecottest.User, dovecottest.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	m := &submission{addr: l.Addr().String(), cl: cl}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &submissionSession{m: m, box: box}, nil }))
	srv.Domain = "submission.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close(); cl.Close() })
	return m
}

type submissionSession struct {
	m        *submission
	box      string
	authed   bool
	from, to string
}

func (s *submissionSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *submissionSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != dovecottest.User || pass != dovecottest.Password {
			return errors.New("bad login")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *submissionSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *submissionSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *submissionSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := append([]byte(fmt.Sprintf("Return-Path: <%s>\r\nReceived: by submission.test; %s\r\n", s.from, time.Now().Format(time.RFC1123Z))), body...)
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.rcpt = append(s.m.rcpt, s.to)
	cmd := s.m.cl.Append(s.box, int64(len(msg)), nil)
	cmd.Write(msg)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil && s.m.err == nil {
		s.m.err = err
	}
	return err
}
func (s *submissionSession) Reset()        {}
func (s *submissionSession) Logout() error { return nil }

// TestE2EIMAPSMTPPair: two agents with --smtp pair, every message mailed
// through the submission server to the homes' own address and read back
// from the mailbox it delivers into.
func TestE2EIMAPSMTPPair(t *testing.T) {
	e := newE2E(t)
	s := dovecottest.Start(t, dovecottest.Options{})
	pw := filepath.Join(e.root, "password")
	if err := os.WriteFile(pw, []byte(dovecottest.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", pw)
	e.ch = fmt.Sprintf("imap+insecure://%s@%s/INBOX", dovecottest.User, s.Addr)
	m := startSubmission(t, s, "INBOX")
	e.smtp = "smtp+insecure://" + m.addr

	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	e.grouped(a, b)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		t.Fatalf("delivery: %v", m.err)
	}
	if len(m.rcpt) == 0 {
		t.Fatal("no mail went through the submission server")
	}
	for _, r := range m.rcpt {
		if r != e2eAddress {
			t.Errorf("mail went to %q, want the homes' own address %s", r, e2eAddress)
		}
	}
}

func TestE2EIMAPTrustSync(t *testing.T) { e2eTrustSync(newIMAPE2E(t)) }
