// Package imap is the channel over a mailbox of the user's mail account:
// imap://USER@HOST:PORT/MAILBOX.
//
// Send APPENDs the message to the mailbox (or, with Options.SMTP, mails
// it to the own address and waits until it is in the mailbox); Receive
// reads the mailbox in its UID order, waiting with IDLE where the server
// has it and polling otherwise. A Position is the mailbox's UIDVALIDITY
// and the message's UID; a changed UIDVALIDITY makes older positions
// unknown (channel.ErrUnknownPosition).
//
// The channel's messages are told from the user's other mail by a header
// that Send puts first, X-Keysync-Channel (with a random value); Receive
// delivers only messages that carry it, with it and every header line
// above it (the trace headers a mail server adds) taken off, so that the
// data comes back byte for byte. Data that is not mail text (a NUL, or a
// CR or LF that is not one CRLF, which mail servers would change) goes
// base64-encoded in the body of a mail of its own. Other mail in the
// mailbox is never read past its header, changed, delivered or
// expunged. Sync messages older than Options.MaxAge, or the URL's
// ?max_age=DURATION (0: never), are expunged by UID, so that messages the
// user marked deleted stay for the user's client to expunge.
//
// The password comes from Options.Password, or else from the file named
// by KEYSYNC_IMAP_PASSWORD_FILE, or else from KEYSYNC_IMAP_PASSWORD;
// never from the URL. imap:// speaks implicit TLS (port 993 by default);
// imap+insecure:// speaks plain IMAP (port 143) and is refused for any
// host but a loopback address.
package imap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/internal/excerpt"
)

// Header is the header field that marks the channel's messages.
const Header = "X-Keysync-Channel"

// Defaults of Options.
const (
	DefaultPoll   = 30 * time.Second
	DefaultMaxAge = 14 * 24 * time.Hour
)

// MinMaxAge is the shortest ?max_age a URL may give: a shorter one would
// expunge messages before a device that is off for a while reads them.
const MinMaxAge = time.Hour

// batch is the most messages one Receive returns.
const batch = 32

// Options adjust a channel.
type Options struct {
	// Password is the account's password. Empty: read it from the
	// environment (PasswordFromEnv).
	Password string
	// TLS is the TLS configuration of imap:// (and smtp://, smtps://);
	// nil means the system's roots and the URL's host name.
	TLS *tls.Config
	// Poll is how often Receive asks for new mail on a server without
	// IDLE; zero means DefaultPoll.
	Poll time.Duration
	// MaxAge: sync messages older than this are expunged from the
	// mailbox. Zero means DefaultMaxAge, a negative age never expunges.
	MaxAge time.Duration
	// SMTP, when set, is the URL of the submission server that Send
	// mails each message through, to Address, instead of APPENDing it:
	// smtps://USER@HOST:PORT (implicit TLS, port 465),
	// smtp://USER@HOST:PORT (STARTTLS, port 587) or
	// smtp+insecure://USER@HOST:PORT (plain, loopback only). USER may be
	// left out for the IMAP user; the password is the IMAP password.
	// The mail must be delivered to MAILBOX: with SMTP, MAILBOX is
	// normally INBOX.
	SMTP string
	// Address is the own address that mail over SMTP goes from and to.
	// Empty means the IMAP user.
	Address string
	// Delivery bounds how long a Send over SMTP waits for its message
	// to reach the mailbox; zero means a minute. A Send that gives up
	// returns an error wrapping channel.ErrUnavailable, and a retry of
	// it first looks again for the message it sent.
	Delivery time.Duration
	// Log receives what the channel does (connections lost and made,
	// messages passed over, expunges); nil means slog.Default().
	Log *slog.Logger
}

// PasswordFromEnv returns the password from the file named by
// KEYSYNC_IMAP_PASSWORD_FILE (its first line), or else from
// KEYSYNC_IMAP_PASSWORD.
func PasswordFromEnv() (string, error) {
	if name := os.Getenv("KEYSYNC_IMAP_PASSWORD_FILE"); name != "" {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("imap: password file: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, 4096))
		if err != nil {
			return "", fmt.Errorf("imap: password file %s: %w", name, err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", fmt.Errorf("imap: password file %s: the first line is empty", name)
		}
		return line, nil
	}
	if p := os.Getenv("KEYSYNC_IMAP_PASSWORD"); p != "" {
		return p, nil
	}
	return "", errors.New("imap: no password: set KEYSYNC_IMAP_PASSWORD_FILE to a file holding it, or KEYSYNC_IMAP_PASSWORD")
}

// Channel is an IMAP mailbox as a channel.Channel. It holds two
// connections: one that receives (SELECT, IDLE, FETCH) and one that
// sends (APPEND, the search for a retried message, expunges).
type Channel struct {
	addr     string // HOST:PORT
	host     string
	insecure bool
	user     string
	mailbox  string
	o        Options
	smtp     *smtpTarget
	log      *slog.Logger

	closed chan struct{}
	once   sync.Once
	sent   chan struct{} // a Send of this channel placed a message

	rmu  sync.Mutex // one Receive at a time on recv
	recv conn
	smu  sync.Mutex // one Send at a time on send
	send conn

	failed      map[[32]byte]string // data of failed Sends → the marker they went with
	failedOrder [][32]byte
	expunged    time.Time // when the last expunge ran
}

// Open returns the channel of the URL imap://USER@HOST[:PORT]/MAILBOX or
// imap+insecure://… (loopback only). It logs in once to check the
// account and creates MAILBOX if the account has none of that name.
func Open(rawURL string, o Options) (*Channel, error) {
	c, err := parse(rawURL, o)
	if err != nil {
		return nil, err
	}
	if c.o.Password == "" {
		p, err := PasswordFromEnv()
		if err != nil {
			return nil, err
		}
		c.o.Password = p
	}
	if o.SMTP != "" {
		if c.smtp, err = parseSMTP(o.SMTP, c); err != nil {
			return nil, err
		}
		if err := c.smtp.checkAddress(); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.send.get(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// parse reads the URL into a channel that has not connected yet.
func parse(rawURL string, o Options) (*Channel, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("imap: channel URL: %s", urlProblem(err))
	}
	c := &Channel{o: o, closed: make(chan struct{}), sent: make(chan struct{}, 1), failed: map[[32]byte]string{}}
	port := "993"
	switch u.Scheme {
	case "imap":
	case "imap+insecure":
		c.insecure, port = true, "143"
	default:
		return nil, fmt.Errorf("imap: channel URL %s: scheme %q, want imap or imap+insecure", redact(u), u.Scheme)
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("imap: channel URL %s: no user (imap://USER@HOST:PORT/MAILBOX)", redact(u))
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("imap: channel URL %s: a password in the URL; give it in KEYSYNC_IMAP_PASSWORD_FILE or KEYSYNC_IMAP_PASSWORD instead", redact(u))
	}
	c.user = u.User.Username()
	c.host = u.Hostname()
	if c.host == "" {
		return nil, fmt.Errorf("imap: channel URL %s: no host", redact(u))
	}
	if p := u.Port(); p != "" {
		port = p
	}
	if err := checkPort(port); err != nil {
		return nil, fmt.Errorf("imap: channel URL %s: %v", redact(u), err)
	}
	c.addr = net.JoinHostPort(c.host, port)
	if c.insecure && !loopback(c.host) {
		return nil, fmt.Errorf("imap: channel URL %s: imap+insecure is only for a loopback address (127.0.0.1, ::1, localhost), not %s: use imap:// (TLS)", redact(u), c.host)
	}
	c.mailbox = strings.TrimPrefix(u.Path, "/")
	if c.mailbox == "" {
		return nil, fmt.Errorf("imap: channel URL %s: no mailbox (imap://USER@HOST:PORT/MAILBOX)", redact(u))
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("imap: channel URL %s: a fragment, which the channel does not take", redact(u))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("imap: channel URL %s: query: %v", redact(u), err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k != "max_age" {
			return nil, fmt.Errorf("imap: channel URL %s: unknown query option %s (known: max_age)", redact(u), excerpt.Quote(k))
		}
		if len(q[k]) != 1 {
			return nil, fmt.Errorf("imap: channel URL %s: max_age given %d times", redact(u), len(q[k]))
		}
		v := q[k][0]
		age, err := time.ParseDuration(v)
		if err != nil || age < 0 || (age > 0 && age < MinMaxAge) {
			return nil, fmt.Errorf("imap: channel URL %s: max_age=%s: want a duration of at least %v, such as 720h, or 0 for never", redact(u), excerpt.Quote(v), MinMaxAge)
		}
		c.o.MaxAge = age
		if age == 0 {
			c.o.MaxAge = -1 // never
		}
	}
	if c.o.Poll <= 0 {
		c.o.Poll = DefaultPoll
	}
	if c.o.MaxAge == 0 {
		c.o.MaxAge = DefaultMaxAge
	}
	if c.o.Delivery <= 0 {
		c.o.Delivery = time.Minute
	}
	c.log = c.o.Log
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("channel", "imap", "mailbox", c.mailbox, "server", c.addr)
	return c, nil
}

// urlProblem is what url.Parse found wrong, without the URL it quotes
// (which may hold a password).
func urlProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "not a URL: " + ue.Err.Error()
	}
	return "not a URL"
}

// checkPort accepts a TCP port number, 1 to 65535.
func checkPort(p string) error {
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return fmt.Errorf("port %s: want a number from 1 to 65535", excerpt.Quote(p))
	}
	return nil
}

// redact returns u as errors show it: without its password, query and
// fragment, which may hold secrets a user put there.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.RawFragment = "", "", ""
	return v.Redacted()
}

// CheckURL reports what is wrong with the channel URL rawURL and, if not
// empty, the submission URL smtp of Options.SMTP, without connecting: the
// errors of Open that no retry mends, but for the own address, which Open
// checks.
func CheckURL(rawURL, smtp string) error {
	c, err := parse(rawURL, Options{})
	if err != nil || smtp == "" {
		return err
	}
	_, err = parseSMTP(smtp, c)
	return err
}

// loopback reports whether host is a loopback address or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// conn is one connection with the mailbox selected, made again after it
// is lost, with backoff.
type conn struct {
	cl       *imapclient.Client
	validity uint32
	idle     bool          // the server has IDLE
	uidplus  bool          // the server has UIDPLUS (UID EXPUNGE)
	poke     chan struct{} // a message count or flag change was announced
	failures int           // dials failed in a row
	next     time.Time     // no dial before then
}

// get returns the connection, dialing it if there is none.
func (k *conn) get(ctx context.Context, c *Channel) (*imapclient.Client, error) {
	if k.cl != nil {
		select {
		case <-k.cl.Closed():
			k.cl = nil
		default:
			return k.cl, nil
		}
	}
	if wait := time.Until(k.next); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, channel.ErrClosed
		}
	}
	cl, err := k.dial(ctx, c)
	if err != nil {
		k.failures++
		k.next = time.Now().Add(backoff(k.failures))
		c.log.Warn("connecting failed", "error", err, "attempt", k.failures)
		return nil, err
	}
	if k.failures > 0 {
		c.log.Info("connected again", "after", k.failures)
	}
	k.failures, k.next, k.cl = 0, time.Time{}, cl
	return cl, nil
}

// backoff is the wait before dial number n+1 after n failures: 100ms
// doubling up to 30s.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond
	for range min(n-1, 10) {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// drop closes the connection, to be dialed anew by the next get.
func (k *conn) drop() {
	if k.cl != nil {
		k.cl.Close()
		k.cl = nil
	}
}

// dial connects, logs in and selects the mailbox, creating it once if
// the server has none of that name.
func (k *conn) dial(ctx context.Context, c *Channel) (*imapclient.Client, error) {
	k.poke = make(chan struct{}, 1)
	poke := k.poke
	opts := &imapclient.Options{
		TLSConfig: c.tlsConfig(),
		Dialer:    &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(*imapclient.UnilateralDataMailbox) {
				select {
				case poke <- struct{}{}:
				default:
				}
			},
		},
	}
	var cl *imapclient.Client
	var err error
	if c.insecure {
		cl, err = imapclient.DialInsecure(c.addr, opts)
	} else {
		cl, err = imapclient.DialTLS(c.addr, opts)
	}
	if err != nil {
		var cert *tls.CertificateVerificationError
		var record tls.RecordHeaderError
		if errors.As(err, &cert) || errors.As(err, &record) {
			// Not worth retrying: the server is not who the URL names, or
			// speaks no TLS on that port.
			return nil, fmt.Errorf("imap: %s: TLS: %w", c.addr, err)
		}
		return nil, fmt.Errorf("imap: %s: %w: %v", c.addr, channel.ErrUnavailable, err)
	}
	var sel *goimap.SelectData
	err = run(ctx, c, cl, func() error {
		if err := cl.Login(c.user, c.o.Password).Wait(); err != nil {
			return fmt.Errorf("login as %s: %w", c.user, err)
		}
		sel, err = cl.Select(c.mailbox, nil).Wait()
		var ie *goimap.Error
		if errors.As(err, &ie) && ie.Type == goimap.StatusResponseTypeNo {
			if cerr := cl.Create(c.mailbox, nil).Wait(); cerr != nil && !errors.As(cerr, &ie) {
				return cerr
			}
			c.log.Info("created the mailbox")
			sel, err = cl.Select(c.mailbox, nil).Wait()
		}
		return err
	})
	if err != nil {
		cl.Close()
		return nil, err
	}
	caps := cl.Caps()
	k.validity = sel.UIDValidity
	k.idle = caps.Has(goimap.CapIdle) || caps.Has(goimap.CapIMAP4rev2)
	k.uidplus = caps.Has(goimap.CapUIDPlus) || caps.Has(goimap.CapIMAP4rev2)
	if sel.UIDValidity == 0 {
		cl.Close()
		return nil, fmt.Errorf("imap: %s: mailbox %s has no UIDVALIDITY", c.addr, c.mailbox)
	}
	return cl, nil
}

func (c *Channel) tlsConfig() *tls.Config {
	if c.o.TLS != nil {
		return c.o.TLS.Clone()
	}
	return &tls.Config{ServerName: c.host}
}

// run runs f, the commands of one step on cl, closing cl if ctx ends
// or the channel is closed first. It sorts the error: the context's,
// ErrClosed, the server's refusal (permanent unless its code says the
// server is busy), or any other, which is the connection's and wraps
// ErrUnavailable.
func run(ctx context.Context, c *Channel, cl *imapclient.Client, f func() error) error {
	done := make(chan struct{})
	stopped := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			cl.Close()
			stopped <- true
		case <-c.closed:
			cl.Close()
			stopped <- true
		case <-done:
			stopped <- false
		}
	}()
	err := f()
	close(done)
	if <-stopped {
		select {
		case <-c.closed:
			return channel.ErrClosed
		default:
			return ctx.Err()
		}
	}
	if err == nil {
		return nil
	}
	var ie *goimap.Error
	if errors.As(err, &ie) {
		switch ie.Code {
		case goimap.ResponseCodeUnavailable, goimap.ResponseCodeInUse, goimap.ResponseCodeServerBug, goimap.ResponseCodeLimit, goimap.ResponseCodeOverQuota:
			return fmt.Errorf("imap: %s: %w: %v", c.addr, channel.ErrUnavailable, err)
		}
		return fmt.Errorf("imap: %s: %w", c.addr, err)
	}
	if errors.Is(err, channel.ErrUnavailable) || errors.Is(err, channel.ErrUnknownPosition) {
		return err
	}
	return fmt.Errorf("imap: %s: %w: %v", c.addr, channel.ErrUnavailable, err)
}

// step runs f on the connection k, dialed if need be, and drops the
// connection when the step failed for any reason but the server's
// refusal.
func (c *Channel) step(ctx context.Context, k *conn, f func(cl *imapclient.Client) error) error {
	select {
	case <-c.closed:
		return channel.ErrClosed
	default:
	}
	cl, err := k.get(ctx, c)
	if err != nil {
		return err
	}
	err = run(ctx, c, cl, func() error { return f(cl) })
	var ie *goimap.Error
	if err != nil && !errors.Is(err, channel.ErrUnknownPosition) && (!errors.As(err, &ie) || errors.Is(err, channel.ErrUnavailable)) {
		k.drop()
	}
	return err
}

// position encodes a place: UIDVALIDITY and UID.
func position(validity uint32, uid goimap.UID) channel.Position {
	return channel.Position(fmt.Sprintf("%d/%d", validity, uid))
}

// parsePosition decodes a position; Beginning is 0, 0.
func parsePosition(p channel.Position) (validity uint32, uid goimap.UID, err error) {
	if p == channel.Beginning {
		return 0, 0, nil
	}
	v, u, ok := strings.Cut(string(p), "/")
	vn, err1 := strconv.ParseUint(v, 10, 32)
	un, err2 := strconv.ParseUint(u, 10, 32)
	if !ok || err1 != nil || err2 != nil || vn == 0 || un == 0 {
		return 0, 0, fmt.Errorf("imap: position %q: %w: not UIDVALIDITY/UID", p, channel.ErrUnknownPosition)
	}
	return uint32(vn), goimap.UID(un), nil
}

// Receive returns the channel's messages after position after, in UID
// order, waiting for one if there is none.
func (c *Channel) Receive(ctx context.Context, after channel.Position) ([]channel.Message, error) {
	validity, uid, err := parsePosition(after)
	if err != nil {
		return nil, err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		var msgs []channel.Message
		var wait bool
		err := c.step(ctx, &c.recv, func(cl *imapclient.Client) error {
			if validity != 0 && validity != c.recv.validity {
				return fmt.Errorf("imap: position %q: %w: the mailbox's UIDVALIDITY is now %d", after, channel.ErrUnknownPosition, c.recv.validity)
			}
			select {
			case <-c.recv.poke:
			default:
			}
			select {
			case <-c.sent:
			default:
			}
			uids, err := c.search(cl, uid)
			if err != nil {
				return err
			}
			if len(uids) == 0 {
				wait = true
				return nil
			}
			uids = uids[:min(len(uids), batch)]
			msgs, err = c.fetch(cl, c.recv.validity, uids)
			if len(msgs) == 0 {
				uid = uids[len(uids)-1] // all of them gone or passed over
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(msgs) > 0 {
			return msgs, nil
		}
		if wait {
			if err := c.wait(ctx, uid); err != nil {
				return nil, err
			}
		}
	}
}

// search returns the UIDs after uid of the channel's messages, in order.
func (c *Channel) search(cl *imapclient.Client, uid goimap.UID) ([]goimap.UID, error) {
	crit := &goimap.SearchCriteria{
		UID:    []goimap.UIDSet{{goimap.UIDRange{Start: uid + 1, Stop: 0}}},
		Header: []goimap.SearchCriteriaHeaderField{{Key: Header, Value: ""}},
	}
	data, err := cl.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, err
	}
	var out []goimap.UID
	for _, u := range data.AllUIDs() {
		if u > uid { // UID n:* also matches the last message when n is past it
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out, nil
}

// fetch reads the messages uids, in UID order, with the marker and the
// header lines above it taken off. Messages too large for the channel or
// without the marker in their header are passed over, and logged.
func (c *Channel) fetch(cl *imapclient.Client, validity uint32, uids []goimap.UID) ([]channel.Message, error) {
	limit := int64(channel.MaxSize + 64<<10) // room for the marker and trace headers
	section := &goimap.FetchItemBodySection{Peek: true, Partial: &goimap.SectionPartial{Offset: 0, Size: limit}}
	bufs, err := cl.Fetch(goimap.UIDSetNum(uids...), &goimap.FetchOptions{
		UID:         true,
		RFC822Size:  true,
		BodySection: []*goimap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(bufs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	var out []channel.Message
	for _, b := range bufs {
		if b.UID == 0 || !slices.Contains(uids, b.UID) {
			continue // a flag change of another message, announced in passing
		}
		if b.RFC822Size > limit || len(b.BodySection) == 0 {
			c.log.Warn("passing over a message too large for the channel", "uid", b.UID, "size", b.RFC822Size)
			continue
		}
		data, ok := unmark(b.BodySection[0].Bytes)
		if !ok {
			c.log.Warn("passing over a message without the channel's header at its top", "uid", b.UID)
			continue
		}
		if len(data) > channel.MaxSize {
			c.log.Warn("passing over a message too large for the channel", "uid", b.UID, "size", len(data))
			continue
		}
		out = append(out, channel.Message{Pos: position(validity, b.UID), Data: data})
	}
	return out, nil
}

// wait waits until the mailbox may have changed after the channel's
// message uid: an announcement during IDLE, or the poll interval on a
// server without IDLE.
func (c *Channel) wait(ctx context.Context, uid goimap.UID) error {
	k := &c.recv
	if !k.idle {
		t := time.NewTimer(c.o.Poll)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.sent:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closed:
			return channel.ErrClosed
		}
		return c.step(ctx, k, func(cl *imapclient.Client) error { return cl.Noop().Wait() })
	}
	// The caller's ctx ending stops the IDLE with DONE rather than by
	// closing the connection, which the next Receive then goes on with;
	// the step's own bound covers a server that does not answer.
	stepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 6*time.Minute)
	defer cancel()
	err := c.step(stepCtx, k, func(cl *imapclient.Client) error {
		idle, err := cl.Idle()
		if err != nil {
			return err
		}
		// A message placed after the search but before the server began
		// to watch for IDLE is announced by nothing (Dovecot): look once
		// more, now that it watches, over the sending connection.
		recheck := time.Duration(0)
		if found, ok := c.placedAfter(ctx, uid); found {
			recheck = time.Nanosecond
		} else if !ok {
			recheck = time.Second // a Send holds that connection: look again soon
		}
		// Check the state of the connection now and then: a connection
		// that died silently announces nothing.
		t := time.NewTimer(5 * time.Minute)
		defer t.Stop()
		var r <-chan time.Time
		if recheck > 0 {
			rt := time.NewTimer(recheck)
			defer rt.Stop()
			r = rt.C
		}
		select {
		case <-r:
		case <-k.poke:
		case <-c.sent:
		case <-t.C:
		case <-cl.Closed():
		case <-ctx.Done():
		case <-c.closed:
		}
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// placedAfter reports, over the sending connection, whether the mailbox
// holds a channel message after uid; ok is false when it could not tell
// (a Send holds that connection, or the look failed).
func (c *Channel) placedAfter(ctx context.Context, uid goimap.UID) (found, ok bool) {
	if !c.smu.TryLock() {
		return false, false
	}
	defer c.smu.Unlock()
	err := c.step(ctx, &c.send, func(cl *imapclient.Client) error {
		if err := cl.Noop().Wait(); err != nil {
			return err
		}
		uids, err := c.search(cl, uid)
		found = len(uids) > 0
		return err
	})
	return found, err == nil
}

// Notes in the marker's value, after the random part, on how Send put
// data into the mail.
const (
	// addedEnd: Send added a CRLF at the end of data that had none
	// (mail over SMTP must end in one).
	addedEnd = "; end=added"
	// inBase64: data is not mail text (a NUL, or a CR or LF that is not
	// one CRLF): the mail carries it base64-encoded in its body.
	inBase64 = "; encoding=base64"
)

// mark returns the mail that carries data: data with the marker header,
// with value v, on top (and a CRLF at its end if it has none), or, for
// data that is not mail text, a mail with data base64-encoded in its
// body.
func mark(data []byte, v string) []byte {
	if !mailText(data) {
		enc := base64.StdEncoding.EncodeToString(data)
		var b bytes.Buffer
		b.Grow(len(enc) + len(enc)/38 + 256)
		b.WriteString(Header + ": " + v + inBase64 + "\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		for len(enc) > 0 {
			n := min(len(enc), 76)
			b.WriteString(enc[:n] + "\r\n")
			enc = enc[n:]
		}
		return b.Bytes()
	}
	end := !bytes.HasSuffix(data, []byte("\r\n"))
	if end {
		v += addedEnd
	}
	out := make([]byte, 0, len(Header)+len(v)+6+len(data))
	out = append(out, Header+": "+v+"\r\n"...)
	out = append(out, data...)
	if end {
		out = append(out, "\r\n"...)
	}
	return out
}

// unmark returns the data that mail carries: the mail without the
// marker header and every header line above it (and without the CRLF
// that mark added at the end), or the base64 body decoded.
func unmark(msg []byte) ([]byte, bool) {
	rest := msg
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok || len(line) == 0 {
			return nil, false // the end of the header: no marker
		}
		name, value, colon := bytes.Cut(line, []byte(":"))
		if !colon || !strings.EqualFold(string(name), Header) {
			rest = after
			continue
		}
		switch {
		case bytes.HasSuffix(value, []byte(addedEnd)):
			after, ok = bytes.CutSuffix(after, []byte("\r\n"))
			return after, ok
		case bytes.HasSuffix(value, []byte(inBase64)):
			_, body, ok := bytes.Cut(after, []byte("\r\n\r\n"))
			if !ok {
				return nil, false
			}
			data, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(body, []byte("\r\n"), nil)))
			return data, err == nil
		}
		return after, true
	}
}

// mailText reports whether a mailbox gives data back byte for byte as
// it is: no NUL bytes, and no CR or LF that is not one CRLF (but for a
// CR at the very end, which stays as it is).
func mailText(data []byte) bool {
	for i, b := range data {
		switch b {
		case 0:
			return false
		case '\r':
			if i+1 < len(data) && data[i+1] != '\n' {
				return false
			}
		case '\n':
			if i == 0 || data[i-1] != '\r' {
				return false
			}
		}
	}
	return true
}

// Send places data at the end of the mailbox.
func (c *Channel) Send(ctx context.Context, data []byte) error {
	select {
	case <-c.closed:
		return channel.ErrClosed
	default:
	}
	if len(data) > channel.MaxSize {
		return fmt.Errorf("imap: send: %d bytes: %w (%d)", len(data), channel.ErrTooLarge, channel.MaxSize)
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	sum := sha256.Sum256(data)
	nonce, retry := c.failed[sum]
	if !retry {
		var b [16]byte
		rand.Read(b[:])
		nonce = hex.EncodeToString(b[:])
	}
	err := c.place(ctx, mark(data, nonce), nonce, retry)
	if err != nil {
		if !retry && errors.Is(err, channel.ErrUnavailable) {
			c.remember(sum, nonce)
		}
		return err
	}
	if retry {
		delete(c.failed, sum)
	}
	select { // wake this channel's own waiting Receive at once
	case c.sent <- struct{}{}:
	default:
	}
	c.expireOld(ctx)
	return nil
}

// remember keeps the marker of a failed Send of data (the last 64), so
// that a retry finds the message if the server placed it after all.
func (c *Channel) remember(sum [32]byte, nonce string) {
	c.failed[sum] = nonce
	c.failedOrder = append(c.failedOrder, sum)
	if len(c.failedOrder) > 64 {
		delete(c.failed, c.failedOrder[0])
		c.failedOrder = c.failedOrder[1:]
	}
}

// place appends (or mails) msg, unless retry and the message with marker
// nonce is in the mailbox already.
func (c *Channel) place(ctx context.Context, msg []byte, nonce string, retry bool) error {
	if retry {
		var found bool
		if err := c.step(ctx, &c.send, func(cl *imapclient.Client) error {
			var err error
			found, err = c.find(cl, nonce)
			return err
		}); err != nil {
			return err
		}
		if found {
			c.log.Info("a failed send had reached the mailbox", "marker", nonce)
			return nil
		}
	}
	if c.smtp != nil {
		if err := c.smtp.send(ctx, msg); err != nil {
			return err
		}
		return c.delivered(ctx, nonce)
	}
	return c.step(ctx, &c.send, func(cl *imapclient.Client) error {
		cmd := cl.Append(c.mailbox, int64(len(msg)), &goimap.AppendOptions{Flags: []goimap.Flag{goimap.FlagSeen}})
		if _, err := cmd.Write(msg); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
}

// find reports whether the message with marker nonce is in the mailbox.
func (c *Channel) find(cl *imapclient.Client, nonce string) (bool, error) {
	if err := cl.Noop().Wait(); err != nil {
		return false, err
	}
	data, err := cl.UIDSearch(&goimap.SearchCriteria{Header: []goimap.SearchCriteriaHeaderField{{Key: Header, Value: nonce}}}, nil).Wait()
	if err != nil {
		return false, err
	}
	return len(data.AllUIDs()) > 0, nil
}

// delivered waits until the message with marker nonce is in the mailbox.
func (c *Channel) delivered(ctx context.Context, nonce string) error {
	deadline := time.Now().Add(c.o.Delivery)
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		var found bool
		err := c.step(ctx, &c.send, func(cl *imapclient.Client) error {
			var err error
			found, err = c.find(cl, nonce)
			return err
		})
		if err != nil || found {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("imap: send: %w: the message mailed over SMTP is not in %s after %v", channel.ErrUnavailable, c.mailbox, c.o.Delivery)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.closed:
			t.Stop()
			return channel.ErrClosed
		}
	}
}

// expireOld expunges the channel's messages older than MaxAge, at most
// once per tenth of MaxAge (and at least once an hour). Only messages
// with the marker are flagged \Deleted, and UID EXPUNGE removes only
// those; a server without UIDPLUS gets no expunge.
func (c *Channel) expireOld(ctx context.Context) {
	if c.o.MaxAge < 0 || time.Since(c.expunged) < min(c.o.MaxAge/10, time.Hour) {
		return
	}
	c.expunged = time.Now()
	if !c.send.uidplus {
		c.log.Warn("the server has no UIDPLUS: old sync messages are not expunged")
		return
	}
	cutoff := time.Now().Add(-c.o.MaxAge)
	var n int
	err := c.step(ctx, &c.send, func(cl *imapclient.Client) error {
		data, err := cl.UIDSearch(&goimap.SearchCriteria{
			Header: []goimap.SearchCriteriaHeaderField{{Key: Header, Value: ""}},
			Before: cutoff.AddDate(0, 0, 2), // day granularity in the server's zone: a superset
		}, nil).Wait()
		if err != nil || len(data.AllUIDs()) == 0 {
			return err
		}
		bufs, err := cl.Fetch(goimap.UIDSetNum(data.AllUIDs()...), &goimap.FetchOptions{UID: true, InternalDate: true}).Collect()
		if err != nil {
			return err
		}
		var old goimap.UIDSet
		for _, b := range bufs {
			if b.UID != 0 && !b.InternalDate.IsZero() && b.InternalDate.Before(cutoff) {
				old.AddNum(b.UID)
				n++
			}
		}
		if n == 0 {
			return nil
		}
		if err := cl.Store(old, &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Silent: true, Flags: []goimap.Flag{goimap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		_, err = cl.UIDExpunge(old).Collect()
		return err
	})
	if err != nil {
		c.log.Warn("expunging old sync messages failed", "error", err)
		return
	}
	if n > 0 {
		c.log.Info("expunged old sync messages", "count", n, "older than", c.o.MaxAge)
	}
}

// Close closes the connections; waiting Receives return ErrClosed.
func (c *Channel) Close() error {
	c.once.Do(func() { close(c.closed) })
	c.rmu.Lock()
	c.recv.drop()
	c.rmu.Unlock()
	c.smu.Lock()
	c.send.drop()
	c.smu.Unlock()
	return nil
}
