package imap

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/dovecottest"
)

// quiet is a logger for tests that do not look at the log.
var quiet = slog.New(slog.DiscardHandler)

// mailbox returns the URL of a new mailbox on s.
func mailbox(t testing.TB, s *dovecottest.Server, scheme string) string {
	return fmt.Sprintf("%s://%s@%s/%s", scheme, "keysync%40example.org", s.Addr, fmt.Sprintf("t%d", time.Now().UnixNano()))
}

// testOptions are the options of a test client of s.
func testOptions(s *dovecottest.Server) Options {
	return Options{Password: dovecottest.Password, TLS: s.TLS, Poll: 50 * time.Millisecond, Log: quiet}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    dovecottest.Options
	}{
		{"Idle", dovecottest.Options{}},
		{"Poll", dovecottest.Options{NoIdle: true}},
		{"TLS", dovecottest.Options{TLS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := dovecottest.Start(t, tc.o)
			scheme := "imap+insecure"
			if tc.o.TLS {
				scheme = "imap"
			}
			channeltest.Run(t, func(t *testing.T) func() (channel.Channel, error) {
				u := mailbox(t, s, scheme)
				return func() (channel.Channel, error) { return Open(u, testOptions(s)) }
			}, channeltest.Options{Messages: 10})
		})
	}
}

// client logs in to s directly, as the user's mail client would.
func client(t testing.TB, s *dovecottest.Server) *imapclient.Client {
	t.Helper()
	var cl *imapclient.Client
	var err error
	if s.TLS != nil {
		cl, err = imapclient.DialTLS(s.Addr, &imapclient.Options{TLSConfig: s.TLS})
	} else {
		cl, err = imapclient.DialInsecure(s.Addr, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if err := cl.Login(dovecottest.User, dovecottest.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	return cl
}
