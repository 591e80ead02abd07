package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/dovecottest"
)

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func open(t testing.TB, u string, o Options) *Channel {
	t.Helper()
	c, err := Open(u, o)
	if err != nil {
		t.Fatalf("Open %s: %v", u, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// appendMail puts msg into box as the user's mail client would, with
// flags and an internal date.
func appendMail(t testing.TB, cl *imapclient.Client, box string, msg string, date time.Time, flags ...goimap.Flag) {
	t.Helper()
	cmd := cl.Append(box, int64(len(msg)), &goimap.AppendOptions{Flags: flags, Time: date})
	cmd.Write([]byte(msg))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
}

// userMail is mail of the user's own: plain, marked deleted, and one
// that looks like a p≡p sync message but did not come through the
// channel.
var userMail = []struct {
	msg   string
	flags []goimap.Flag
}{
	{"From: friend@example.org\r\nSubject: lunch\r\n\r\nat noon?\r\n", nil},
	{"From: shop@example.org\r\nSubject: offer\r\n\r\nbuy now\r\n", []goimap.Flag{goimap.FlagDeleted}},
	{"From: keysync@example.org\r\nX-pEp-Version: 2.1\r\nContent-Type: application/pEp.sync\r\n\r\nnot from the channel\r\n", []goimap.Flag{goimap.FlagFlagged}},
}

// TestOtherMail: the user's other mail in the mailbox is never delivered
// and never changed, and survives the expunge of old sync messages, which
// removes only those.
func TestOtherMail(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	u := mailbox(t, s, "imap+insecure")
	box := u[strings.LastIndexByte(u, '/')+1:]
	o := testOptions(s)
	o.MaxAge = -1
	c := open(t, u, o)
	ctx := ctxFor(t, time.Minute)
	user := client(t, s)
	old := time.Now().Add(-48 * time.Hour)
	for i, m := range userMail {
		appendMail(t, user, box, m.msg, old, m.flags...)
		if err := c.Send(ctx, channeltest.Message("sync", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := channeltest.ReadN(ctx, t, c, channel.Beginning, len(userMail))
	for i, m := range got {
		if !bytes.Equal(m.Data, channeltest.Message("sync", i)) {
			t.Errorf("message %d: %q", i, m.Data)
		}
	}

	// Now make the sync messages old and expunge with a short MaxAge.
	o.MaxAge = time.Hour
	e := open(t, u, o)
	if _, err := user.Select(box, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	// The channel's own messages get an old date too: put two there
	// as the channel would, marked, with an old internal date.
	for i := range 2 {
		appendMail(t, user, box, string(mark(channeltest.Message("old", i), fmt.Sprint("old", i))), old)
	}
	if err := e.Send(ctx, channeltest.Message("new", 0)); err != nil {
		t.Fatal(err)
	}
	if err := user.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := user.Fetch(goimap.SeqSet{{Start: 1, Stop: 0}}, &goimap.FetchOptions{
		UID: true, Flags: true, BodySection: []*goimap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, string(m.BodySection[0].Bytes))
	}
	for i, m := range userMail {
		found := false
		for _, b := range msgs {
			if string(b.BodySection[0].Bytes) == m.msg {
				found = true
				want := fmt.Sprint(m.flags)
				if got := fmt.Sprint(b.Flags); got != want {
					t.Errorf("user mail %d: flags %s, want %s", i, got, want)
				}
			}
		}
		if !found {
			t.Errorf("user mail %d is gone: mailbox holds %q", i, bodies)
		}
	}
	for _, b := range bodies {
		if strings.Contains(b, "Subject: old") {
			t.Errorf("an old sync message was not expunged: %q", b)
		}
	}
	if len(msgs) != len(userMail)+len(userMail)+1 {
		t.Errorf("mailbox holds %d messages, want the user's %d and the channel's %d recent ones: %q", len(msgs), len(userMail), len(userMail)+1, bodies)
	}
	// A reader from the beginning gets the channel's messages only.
	got = channeltest.ReadN(ctx, t, e, channel.Beginning, len(userMail)+1)
	if err := channeltest.SenderOrder(got, true); err != nil {
		t.Errorf("from the beginning: %v", err)
	}
	if !bytes.Equal(got[len(got)-1].Data, channeltest.Message("new", 0)) {
		t.Errorf("last message %q", got[len(got)-1].Data)
	}
}

// TestUIDValidity: a position from before the mailbox was made anew is
// unknown; the new mailbox reads from the beginning.
func TestUIDValidity(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	u := mailbox(t, s, "imap+insecure")
	box := u[strings.LastIndexByte(u, '/')+1:]
	c := open(t, u, testOptions(s))
	ctx := ctxFor(t, time.Minute)
	if err := c.Send(ctx, channeltest.Message("first", 0)); err != nil {
		t.Fatal(err)
	}
	pos := channeltest.ReadN(ctx, t, c, channel.Beginning, 1)[0].Pos
	c.Close()
	user := client(t, s)
	if err := user.Delete(box).Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Dovecot's UIDVALIDITY is the time in seconds
	if err := user.Create(box, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c = open(t, u, testOptions(s))
	if err := c.Send(ctx, channeltest.Message("second", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx, pos); !errors.Is(err, channel.ErrUnknownPosition) {
		t.Fatalf("Receive after %q in a new mailbox: %v, want ErrUnknownPosition", pos, err)
	}
	got := channeltest.ReadN(ctx, t, c, channel.Beginning, 1)
	if !bytes.Equal(got[0].Data, channeltest.Message("second", 0)) || got[0].Pos == pos {
		t.Errorf("from the beginning of the new mailbox: %q at %q", got[0].Data, got[0].Pos)
	}
	for _, p := range []channel.Position{"x", "1/", "/1", "0/1", "1/0", "99999999999/1"} {
		if _, err := c.Receive(ctx, p); !errors.Is(err, channel.ErrUnknownPosition) {
			t.Errorf("Receive after %q: %v, want ErrUnknownPosition", p, err)
		}
	}
}

// TestServerRestart kills Dovecot (SIGKILL to all its processes) and
// starts it again while one client sends and another receives, both
// retrying on ErrUnavailable as the agent does: every message arrives
// once, in the order sent.
func TestServerRestart(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	u := mailbox(t, s, "imap+insecure")
	snd, rcv := open(t, u, testOptions(s)), open(t, u, testOptions(s))
	ctx := ctxFor(t, 2*time.Minute)
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	outages := 0 // calls that failed with ErrUnavailable
	outage := func() { mu.Lock(); outages++; mu.Unlock(); time.Sleep(20 * time.Millisecond) }
	wg.Go(func() {
		for i := range n {
			for {
				err := snd.Send(ctx, channeltest.Message("restart", i))
				if err == nil {
					break
				}
				if !errors.Is(err, channel.ErrUnavailable) {
					t.Errorf("Send %d: %v", i, err)
					return
				}
				outage()
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	var got []channel.Message
	wg.Go(func() {
		after := channel.Beginning
		for len(got) < n {
			msgs, err := rcv.Receive(ctx, after)
			if errors.Is(err, channel.ErrUnavailable) {
				outage()
				continue
			}
			if err != nil {
				t.Errorf("Receive after %d messages: %v", len(got), err)
				return
			}
			got = append(got, msgs...)
			after = msgs[len(msgs)-1].Pos
		}
	})
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		s.Restart()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d calls failed with ErrUnavailable", outages)
	if outages == 0 {
		t.Error("no call saw the server go away: the restarts missed the stream")
	}
	if err := channeltest.SenderOrder(got, true); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d messages, want %d", len(got), n)
	}
	// Nothing more: no duplicate placed by a retried Send.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if msgs, err := rcv.Receive(short, got[n-1].Pos); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("after the last message: %q, %v", msgs, err)
	}
}

// TestAnyBytes: data that is not mail text (bare LFs, NULs, every byte
// value) comes back byte for byte, and so does 8-bit text.
func TestAnyBytes(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	c := open(t, mailbox(t, s, "imap+insecure"), testOptions(s))
	ctx := ctxFor(t, time.Minute)
	var all []byte
	for i := range 1024 {
		all = append(all, byte(i))
	}
	sent := [][]byte{all, []byte("From: a\nTo: b\n\nunix lines\n"), []byte("Subject: caf\xc3\xa9\r\n\r\n\xff 8-bit\r\n")}
	for _, d := range sent {
		if err := c.Send(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range channeltest.ReadN(ctx, t, c, channel.Beginning, len(sent)) {
		if !bytes.Equal(m.Data, sent[i]) {
			t.Errorf("message %d came back as %q", i, m.Data)
		}
	}
}

// TestURL: what Open refuses, with errors that name the problem and
// never the password.
func TestURL(t *testing.T) {
	const secret = "s3cret-pass"
	for _, tc := range []struct{ url, want string }{
		{"imap://keysync@example.org:secretx@mail.example.org/keysync", "password in the URL"},
		{"imap+insecure://u@mail.example.org:143/keysync", "only for a loopback"},
		{"imap+insecure://u@192.168.1.2/keysync", "only for a loopback"},
		{"imaps://u@mail.example.org/keysync", "scheme"},
		{"imap://mail.example.org/keysync", "no user"},
		{"imap://u@mail.example.org", "no mailbox"},
		{"imap://u@mail.example.org/box?x=1", "query option"},
		{"imap://u@mail.example.org/box?max_age=soon", "max_age"},
		{"imap://u@mail.example.org/box?max_age=-1h", "max_age"},
		{"imap://u@mail.example.org/box?max_age=1s", "at least 1h0m0s"},
		{"imap://u@mail.example.org/box?max_age=2h&max_age=3h", "2 times"},
		{"imap://u@mail.example.org/box?password=secretx", "unknown query option"},
		{"imap://u@mail.example.org/box#x", "fragment"},
	} {
		_, err := Open(tc.url, Options{Password: secret, Log: quiet})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open %s: %v, want an error saying %q", tc.url, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "secretx")) {
			t.Errorf("Open %s: the error shows the password: %v", tc.url, err)
		}
	}
	c, err := parse("imap://keysync@example.org@mail.example.org/Sync", Options{})
	if err != nil || c.user != "keysync@example.org" || c.addr != "mail.example.org:993" || c.mailbox != "Sync" || c.insecure {
		t.Errorf("parse: %+v, %v", c, err)
	}
	c, err = parse("imap+insecure://u@[::1]/a/b", Options{})
	if err != nil || c.addr != "[::1]:143" || c.mailbox != "a/b" || !c.insecure || c.o.MaxAge != DefaultMaxAge {
		t.Errorf("parse: %+v, %v", c, err)
	}
	for q, want := range map[string]time.Duration{"?max_age=72h": 72 * time.Hour, "?max_age=0": -1} {
		c, err = parse("imap://u@mail.example.org/Sync"+q, Options{})
		if err != nil || c.o.MaxAge != want || c.mailbox != "Sync" {
			t.Errorf("parse %s: max age %v, %v; want %v", q, c.o.MaxAge, err, want)
		}
	}
}

func TestPasswordFromEnv(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("from-file\nsecond line\n"), 0o600)
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", f)
	t.Setenv("KEYSYNC_IMAP_PASSWORD", "from-env")
	if p, err := PasswordFromEnv(); p != "from-file" || err != nil {
		t.Errorf("with a file: %q, %v", p, err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", "")
	if p, err := PasswordFromEnv(); p != "from-env" || err != nil {
		t.Errorf("from the variable: %q, %v", p, err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD", "")
	if _, err := PasswordFromEnv(); err == nil || !strings.Contains(err.Error(), "KEYSYNC_IMAP_PASSWORD_FILE") {
		t.Errorf("with neither: %v", err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", filepath.Join(t.TempDir(), "missing"))
	if _, err := PasswordFromEnv(); err == nil {
		t.Error("a missing password file: no error")
	}
}

// TestLogin: a wrong password is a permanent error (not worth retrying)
// that names the user and not the password.
func TestLogin(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	o := testOptions(s)
	o.Password = "wrong-password"
	_, err := Open(mailbox(t, s, "imap+insecure"), o)
	if err == nil || errors.Is(err, channel.ErrUnavailable) || !strings.Contains(err.Error(), "login as "+dovecottest.User) || strings.Contains(err.Error(), o.Password) {
		t.Errorf("Open with a wrong password: %v", err)
	}
	// A server that is not there is unavailable.
	s.Stop()
	_, err = Open(mailbox(t, s, "imap+insecure"), testOptions(s))
	if !errors.Is(err, channel.ErrUnavailable) {
		t.Errorf("Open with no server: %v, want ErrUnavailable", err)
	}
}

// TestTLS: imap:// checks the server's certificate, and refuses a server
// that speaks no TLS; neither is worth retrying.
func TestTLS(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{TLS: true})
	o := testOptions(s)
	o.TLS = nil // the system's roots, which do not hold the test's certificate
	_, err := Open(mailbox(t, s, "imap"), o)
	if err == nil || errors.Is(err, channel.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open of a server with an unknown certificate: %v", err)
	}
	plain := dovecottest.Start(t, dovecottest.Options{})
	_, err = Open(mailbox(t, plain, "imap"), testOptions(plain))
	if err == nil || errors.Is(err, channel.ErrUnavailable) || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("imap:// to a server without TLS: %v", err)
	}
}

// TestForm: data that is mail text goes as it is (the marker on top),
// anything else base64-encoded; both come back byte for byte.
func TestForm(t *testing.T) {
	for _, d := range []string{"a\nb", "a\rb", "a\x00b", "\n", "\r\r\n"} {
		if mailText([]byte(d)) {
			t.Errorf("%q taken for mail text", d)
		}
		m := mark([]byte(d), "n")
		if !mailText(m) || !bytes.Contains(m, []byte(inBase64)) {
			t.Errorf("mark(%q) = %q, want base64 mail text", d, m)
		}
	}
	for _, d := range []string{"", "a\r\nb\r\n", "ends in CR\r"} {
		if !mailText([]byte(d)) {
			t.Errorf("%q not taken for mail text", d)
		}
	}
	for _, d := range []string{"", "a", "a\r\n", "a\r", "\r\n\r\n", "a\nb", "\x00", strings.Repeat("\n", 200)} {
		if got, ok := unmark(mark([]byte(d), "n")); !ok || string(got) != d {
			t.Errorf("unmark(mark(%q)): %q, %v", d, got, ok)
		}
	}
	for _, m := range []string{"Received: from x\r\n\tby y\r\n" + Header + ": n\r\nA: b\r\n\r\nbody", Header + ": n\r\nA: b\r\n\r\nbody"} {
		if got, ok := unmark([]byte(m)); !ok || string(got) != "A: b\r\n\r\nbody" {
			t.Errorf("unmark %q: %q, %v", m, got, ok)
		}
	}
	for _, m := range []string{"A: b\r\n\r\n" + Header + ": n\r\n", "A: b\r\n"} {
		if _, ok := unmark([]byte(m)); ok {
			t.Errorf("unmark %q: found a marker", m)
		}
	}
}

// TestWaitKeepsConnection: a Receive whose context ends while it waits
// in IDLE leaves the connection for the next Receive.
func TestWaitKeepsConnection(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{})
	c := open(t, mailbox(t, s, "imap+insecure"), testOptions(s))
	ctx := ctxFor(t, time.Minute)
	if err := c.Send(ctx, channeltest.Message("one", 0)); err != nil {
		t.Fatal(err)
	}
	// The first Receive dials; the waits after the message then begin
	// on that connection.
	last := channeltest.ReadN(ctx, t, c, channel.Beginning, 1)[0].Pos
	first := c.recv.cl
	for i := range 3 {
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		if _, err := c.Receive(short, last); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Receive: %v, want DeadlineExceeded", err)
		}
		cancel()
		if c.recv.cl == nil || c.recv.cl != first {
			t.Fatalf("after wait %d the connection is %p, was %p", i, c.recv.cl, first)
		}
	}
}
