package imap

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/keysync/keysync/channel"
)

// smtpTarget is where Send mails messages when Options.SMTP is set.
type smtpTarget struct {
	addr     string // HOST:PORT
	host     string
	mode     string // "tls" (implicit), "starttls" or "insecure"
	user     string
	password string
	address  string // envelope sender and recipient
	tls      *tls.Config
}

// parseSMTP reads Options.SMTP for channel c; Open checks the own address
// it mails to (checkAddress).
func parseSMTP(raw string, c *Channel) (*smtpTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("imap: SMTP URL: %s", urlProblem(err))
	}
	s := &smtpTarget{user: c.user, password: c.o.Password, address: c.o.Address}
	port := ""
	switch u.Scheme {
	case "smtps":
		s.mode, port = "tls", "465"
	case "smtp":
		s.mode, port = "starttls", "587"
	case "smtp+insecure":
		s.mode, port = "insecure", "25"
	default:
		return nil, fmt.Errorf("imap: SMTP URL %s: scheme %q, want smtps, smtp or smtp+insecure", redact(u), u.Scheme)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("imap: SMTP URL %s: a password in the URL; the IMAP password is used", redact(u))
		}
		if n := u.User.Username(); n != "" {
			s.user = n
		}
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("imap: SMTP URL %s: no host", redact(u))
	}
	if p := u.Port(); p != "" {
		port = p
	}
	if err := checkPort(port); err != nil {
		return nil, fmt.Errorf("imap: SMTP URL %s: %v", redact(u), err)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("imap: SMTP URL %s: want smtp://USER@HOST:PORT, with no path or query", redact(u))
	}
	if s.mode == "insecure" && !loopback(s.host) {
		return nil, fmt.Errorf("imap: SMTP URL %s: smtp+insecure is only for a loopback address, not %s", redact(u), s.host)
	}
	s.addr = net.JoinHostPort(s.host, port)
	if s.address == "" {
		s.address = c.user
	}
	s.tls = c.tlsConfig()
	if c.o.TLS == nil {
		s.tls.ServerName = s.host
	}
	return s, nil
}

// mailAddress checks that a is a bare address local@domain.
func mailAddress(a string) (string, error) {
	at := bytes.LastIndexByte([]byte(a), '@')
	if at <= 0 || at == len(a)-1 {
		return "", errors.New("not an address local@domain")
	}
	for _, r := range a {
		if r <= ' ' || r == '<' || r == '>' || r == 0x7f {
			return "", errors.New("a space, control character or angle bracket in it")
		}
	}
	return a, nil
}

// send mails msg from the own address to itself.
func (s *smtpTarget) send(ctx context.Context, msg []byte) error {
	unavailable := func(err error) error {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return fmt.Errorf("imap: SMTP %s: %w", s.addr, err)
		}
		return fmt.Errorf("imap: SMTP %s: %w: %v", s.addr, channel.ErrUnavailable, err)
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return unavailable(err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var cl *smtp.Client
	switch s.mode {
	case "tls":
		cl = smtp.NewClient(tls.Client(nc, s.tls))
	case "starttls":
		if cl, err = smtp.NewClientStartTLS(nc, s.tls); err != nil {
			nc.Close()
			return unavailable(err)
		}
	default:
		cl = smtp.NewClient(nc)
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", s.user, s.password)); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 535 {
			return fmt.Errorf("imap: SMTP %s: login as %s refused: %w", s.addr, s.user, err)
		}
		return unavailable(err)
	}
	if err := cl.SendMail(s.address, []string{s.address}, bytes.NewReader(msg)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return unavailable(err)
	}
	cl.Quit()
	return nil
}

// checkAddress reports whether s mails to an address.
func (s *smtpTarget) checkAddress() error {
	if _, err := mailAddress(s.address); err != nil {
		return fmt.Errorf("imap: SMTP: own address %q: %v (set Options.Address)", s.address, err)
	}
	return nil
}
