package dovecottest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Submission is a submission server on loopback standing in for the
// user's mail system: it takes mail from User and delivers it into one
// mailbox of a Server, with a Return-Path and a Received header on top.
type Submission struct {
	Addr string // host:port to give as smtp+insecure://Addr

	s   *Server
	box string
	tb  testing.TB

	mu   sync.Mutex
	cl   *imapclient.Client
	rcpt []string // recipients of every delivery
	err  error    // the first failed delivery
}

// StartSubmission starts a Submission delivering into mailbox box of s;
// it stops when the test ends.
func StartSubmission(tb testing.TB, s *Server, box string) *Submission {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	m := &Submission{Addr: l.Addr().String(), s: s, box: box, tb: tb}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &submissionSession{m: m}, nil }))
	srv.Domain = "submission.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	go srv.Serve(l)
	tb.Cleanup(func() {
		srv.Close()
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.cl != nil {
			m.cl.Close()
		}
	})
	return m
}

// Recipients returns the recipient of every mail delivered so far.
func (m *Submission) Recipients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rcpt)
}

// Err returns the first delivery that failed, or nil.
func (m *Submission) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// deliver appends msg to the mailbox over the Submission's own IMAP
// connection, made on the first delivery.
func (m *Submission) deliver(to string, msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcpt = append(m.rcpt, to)
	err := m.appendLocked(msg)
	if err != nil && m.err == nil {
		m.err = err
	}
	return err
}

func (m *Submission) appendLocked(msg []byte) error {
	if m.cl == nil {
		cl, err := imapclient.DialInsecure(m.s.Addr, nil)
		if err != nil {
			return err
		}
		if err := cl.Login(User, Password).Wait(); err != nil {
			cl.Close()
			return err
		}
		m.cl = cl
	}
	cmd := m.cl.Append(m.box, int64(len(msg)), nil)
	cmd.Write(msg)
	cmd.Close()
	_, err := cmd.Wait()
	return err
}

type submissionSession struct {
	m        *Submission
	authed   bool
	from, to string
}

func (s *submissionSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *submissionSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != User || pass != Password {
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
	trace := fmt.Sprintf("Return-Path: <%s>\r\nReceived: from client\r\n\tby submission.test; %s\r\n", s.from, time.Now().Format(time.RFC1123Z))
	return s.m.deliver(s.to, append([]byte(trace), body...))
}
func (s *submissionSession) Reset()        {}
func (s *submissionSession) Logout() error { return nil }
