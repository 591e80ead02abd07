package imap

import (
	"strings"
	"sync"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/dovecottest"
)

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
		m := dovecottest.StartSubmission(t, s, u[strings.LastIndexByte(u, '/')+1:])
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			rcp = append(rcp, m.Recipients()...)
		})
		o := testOptions(s)
		o.SMTP = "smtp+insecure://" + m.Addr
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
	s, err = parseSMTP("smtps://mail.example.org", c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.checkAddress(); err == nil || !strings.Contains(err.Error(), "Options.Address") {
		t.Errorf("a login that is not an address, and no Address: %v", err)
	}
	if _, err := Open("imap://plainuser@mail.example.org/Sync", Options{Password: "x", SMTP: "smtps://mail.example.org", Log: quiet}); err == nil || !strings.Contains(err.Error(), "Options.Address") {
		t.Errorf("Open, a login that is not an address, and no Address: %v", err)
	}
}
