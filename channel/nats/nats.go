// Package nats is the NATS channel,
// "nats://HOST:PORT[,HOST:PORT…]/SUBJECT": a channel.Channel over a NATS
// JetStream stream, for deployments with many devices on a real,
// clustered message system.
//
// The messages of a subject are kept in one JetStream stream: the stream
// that already holds the subject if there is one (made by an operator,
// with the limits and replicas they chose), else a file-backed stream
// this package creates, named KEYSYNC_ and the subject (its characters
// other than letters, digits, - and _ made _) and 8 hex digits of its
// SHA-256. A stream it creates has ?replicas=N replicas (default: 3 on a
// cluster of three servers or more, else one per server) and keeps
// messages for ?max_age (default for ever). The stream sequence is the
// one total order; a Position is the stream's creation time and a
// sequence number, "CREATED:SEQ" (nanoseconds since 1970 in hex,
// decimal), so a position of a stream deleted and made anew is
// channel.ErrUnknownPosition.
//
// Send publishes with a random message id (the Nats-Msg-Id header) and
// waits for the stream's acknowledgement; while the servers are out of
// reach it tries again with the same id, with backoff, for at most
// Options.SendRetry (less than the stream's two-minute duplicate window),
// so a message the server stored before the connection broke is not
// stored twice. Receive reads through an ordered consumer, which checks
// the consumer sequence of every message and starts a new consumer after
// the last message delivered on any gap, lost heartbeat or reconnect; a
// Receive that has waited 5 s checks the stream and starts a consumer
// anew if the stream holds messages past the last one delivered (a
// consumer stalled on a cluster). Positions only go forward, so no
// message is delivered twice or out of order. The client fails over between the servers of the URL and those
// the cluster announces, reconnecting for ever with backoff (100 ms
// doubling to 5 s, with jitter).
//
// Credentials come from the environment (AuthFromEnv), never from the
// command line: a user and password, a token, an NKey seed file or a
// credentials file. tls://… or ?tls=true connects with TLS; ?ca=FILE
// names the authorities of the servers' certificates, ?cert=FILE&key=FILE
// a client certificate. A server whose max_payload cannot carry
// channel.MaxSize and its headers is refused at Open.
//
// A stream deleted and made anew while a client is reading it is noticed
// when that client next starts a consumer (on a Receive from a position
// it was not reading at, after an error) or checks the stream, which a
// waiting Receive does every 5 seconds: until then, messages of the new stream
// past the old one's last sequence may be delivered as the old stream's.
package nats

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/keysync/keysync/channel"
)

// Options tune a NATS channel. The zero value is the default.
type Options struct {
	// Auth is the client's credentials; the zero value is none.
	Auth Auth
	// Log receives a line for each disconnect, reconnect and retry
	// (servers and errors, never credentials or content). Nil means
	// slog.Default().
	Log *slog.Logger
	// SendRetry bounds how long one Send tries again while the servers
	// are out of reach. Zero means DefaultSendRetry. It must stay under
	// the stream's duplicate window (two minutes by default).
	SendRetry time.Duration
	// OpenTimeout bounds Open: connecting and finding or creating the
	// stream. Zero means DefaultOpenTimeout.
	OpenTimeout time.Duration
}

// Defaults of Options.
const (
	DefaultSendRetry   = time.Minute
	DefaultOpenTimeout = 30 * time.Second
)

// recheck is how often a Receive that waits checks the stream: that it
// is still the one it was reading (not deleted and made anew), and that
// the consumer is not behind it (else it starts a new consumer).
const recheck = 5 * time.Second

// Batch limits: a Receive returns at most MaxBatch messages, and stops
// adding messages once it holds MaxBatchBytes of data (it always returns
// at least one). It adds only messages that have already arrived or that
// the server said are pending.
const (
	MaxBatch      = 256
	MaxBatchBytes = 4 << 20
)

// headroom is the room a server's max_payload must leave over
// channel.MaxSize for the headers of a message.
const headroom = 4 << 10

// attemptTimeout bounds one request to the servers. A publish whose
// answer was lost with a connection is tried again after it, with the
// same message id; so it is short.
const attemptTimeout = 2 * time.Second

// Channel is a NATS channel: one connection to the servers and the
// stream of one subject.
type Channel struct {
	addr      Address
	log       *slog.Logger
	nc        *natsgo.Conn
	js        jetstream.JetStream
	stream    string
	sendRetry time.Duration
	replicas  int

	closed context.Context
	close  context.CancelFunc

	// recv holds the one token of the reader state below: one Receive
	// at a time.
	recv chan struct{}
	it   jetstream.MessagesContext // nil: none yet, or given up
	last uint64                    // stream sequence it delivered last
	inc  int64                     // creation of the stream it reads
	// checked is when the stream's creation was last checked; a
	// Receive checks it again after recheck.
	checked time.Time
	recheck time.Duration
}

// Open connects to the servers of a channel URL and finds or creates the
// stream of its subject.
func Open(url string, o Options) (*Channel, error) {
	a, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	if err := o.Auth.check(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.SendRetry <= 0 {
		o.SendRetry = DefaultSendRetry
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	opts, err := connectOptions(a, o)
	if err != nil {
		return nil, err
	}
	scheme := "nats://"
	if a.TLS {
		scheme = "tls://"
	}
	urls := make([]string, len(a.Servers))
	for i, s := range a.Servers {
		urls[i] = scheme + s
	}
	nc, err := natsgo.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		var unknownCA x509.UnknownAuthorityError
		var badCert *tls.CertificateVerificationError
		var badHost x509.HostnameError
		if errors.Is(err, natsgo.ErrAuthorization) || errors.Is(err, natsgo.ErrAuthExpired) || errors.Is(err, natsgo.ErrAuthRevoked) ||
			errors.As(err, &unknownCA) || errors.As(err, &badCert) || errors.As(err, &badHost) {
			// Credentials or certificates the servers refuse: trying
			// again does not help.
			return nil, fmt.Errorf("nats channel %s: %w", a.Subject, err)
		}
		return nil, fmt.Errorf("nats channel %s: connecting to %s: %w (%w)", a.Subject, strings.Join(a.Servers, ","), err, channel.ErrUnavailable)
	}
	if mp := nc.MaxPayload(); mp < channel.MaxSize+headroom {
		nc.Close()
		return nil, fmt.Errorf("nats channel %s: the server's max_payload is %d bytes; a keysync message needs %d", a.Subject, mp, channel.MaxSize+headroom)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats channel %s: %w", a.Subject, err)
	}
	c := &Channel{addr: a, log: o.Log, nc: nc, js: js, sendRetry: o.SendRetry, recv: make(chan struct{}, 1), recheck: recheck}
	c.closed, c.close = context.WithCancel(context.Background())
	c.replicas = a.Replicas
	if c.replicas == 0 {
		c.replicas = 1
		if nc.ConnectedClusterName() != "" {
			c.replicas = min(3, len(nc.Servers()))
		}
	}
	ctx, cancel := context.WithTimeout(c.closed, o.OpenTimeout)
	defer cancel()
	if err := c.findStream(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// connectOptions are the options of the connection: reconnects for ever
// with backoff, logging, TLS and credentials.
func connectOptions(a Address, o Options) ([]natsgo.Option, error) {
	log := o.Log
	opts := []natsgo.Option{
		natsgo.Name("keysync"),
		natsgo.Timeout(attemptTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.CustomReconnectDelay(reconnectDelay),
		natsgo.PingInterval(10 * time.Second),
		natsgo.MaxPingsOutstanding(3),
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "subject", a.Subject, "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			log.Info("nats: reconnected", "subject", a.Subject, "server", nc.ConnectedAddr())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			log.Warn("nats: error", "subject", a.Subject, "err", err)
		}),
	}
	if a.TLS {
		opts = append(opts, natsgo.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
		if a.CAFile != "" {
			opts = append(opts, natsgo.RootCAs(a.CAFile))
		}
		if a.CertFile != "" {
			opts = append(opts, natsgo.ClientCert(a.CertFile, a.KeyFile))
		}
	}
	auth := o.Auth
	user := auth.User
	if a.User != "" {
		if user != "" && user != a.User {
			return nil, fmt.Errorf("nats channel %s: user %q in the URL and %q in %s", a.Subject, a.User, user, EnvUser)
		}
		if auth.Token != "" || auth.NKeyFile != "" || auth.CredsFile != "" {
			return nil, fmt.Errorf("nats channel %s: a user in the URL and credentials of another kind", a.Subject)
		}
		user = a.User
	}
	if auth.Password != "" && user == "" {
		return nil, fmt.Errorf("nats channel %s: a password without a user (set %s or put USER@ in the URL)", a.Subject, EnvUser)
	}
	switch {
	case user != "":
		opts = append(opts, natsgo.UserInfo(user, auth.Password))
	case auth.Token != "":
		opts = append(opts, natsgo.Token(auth.Token))
	case auth.NKeyFile != "":
		opt, err := natsgo.NkeyOptionFromSeed(auth.NKeyFile)
		if err != nil {
			// The error names the file, not its content.
			return nil, fmt.Errorf("nats channel %s: %s: %w", a.Subject, EnvNKeyFile, err)
		}
		opts = append(opts, opt)
	case auth.CredsFile != "":
		opts = append(opts, natsgo.UserCredentials(auth.CredsFile))
	}
	return opts, nil
}

// reconnectDelay is the wait after each round over all servers: 100 ms
// doubling to 5 s, with up to a quarter more at random.
func reconnectDelay(attempts int) time.Duration {
	d := min(100*time.Millisecond<<min(attempts, 6), 5*time.Second)
	return d + mrand.N(d/4+1)
}

// StreamName is the name of the stream this package creates for a
// subject.
func StreamName(subject string) string {
	var b strings.Builder
	b.WriteString("KEYSYNC_")
	for i, r := range subject {
		if i >= 32 {
			break
		}
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(subject))
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(sum[:4]))
	return b.String()
}

// Stream returns the name of the channel's stream.
func (c *Channel) Stream() string { return c.stream }

// findStream finds the stream that holds the subject, or creates it,
// trying again while JetStream is out of reach.
func (c *Channel) findStream(ctx context.Context) error {
	return c.retry(ctx, "finding the stream", func(ctx context.Context) error {
		name, err := c.js.StreamNameBySubject(ctx, c.addr.Subject)
		if err == nil {
			c.stream = name
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		if err := c.createStream(ctx); err != nil {
			return err
		}
		c.stream = StreamName(c.addr.Subject)
		return nil
	})
}

// createStream creates the stream of the subject, or takes the one
// another client just created.
func (c *Channel) createStream(ctx context.Context) error {
	name := StreamName(c.addr.Subject)
	_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        name,
		Description: "keysync channel " + c.addr.Subject,
		Subjects:    []string{c.addr.Subject},
		Storage:     jetstream.FileStorage,
		Replicas:    c.replicas,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.addr.MaxAge,
		Duplicates:  2 * time.Minute,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return err
	}
	if err == nil {
		c.log.Info("nats: created stream", "stream", name, "subject", c.addr.Subject, "replicas", c.replicas)
	}
	return nil
}

// retry calls f, with a deadline of its own each time, until it succeeds,
// fails for good or ctx is done; transient failures are tried again with
// backoff. It returns f's last error, wrapped in ErrUnavailable if it was
// transient, or ErrClosed once the channel is closed.
func (c *Channel) retry(ctx context.Context, what string, f func(context.Context) error) error {
	backoff := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := f(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case c.closed.Err() != nil:
			return fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
		case !transient(err):
			return fmt.Errorf("nats channel %s: %s: %w", c.addr.Subject, what, err)
		}
		c.log.Warn("nats: trying again", "subject", c.addr.Subject, "op", what, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			if c.closed.Err() != nil {
				return fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
			}
			return fmt.Errorf("nats channel %s: %s: %w (%w)", c.addr.Subject, what, err, channel.ErrUnavailable)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// errCodeNoPeers is JetStream's error code of "no suitable peers for
// placement", given while too few servers are online for the replicas.
const errCodeNoPeers jetstream.ErrorCode = 10005

// transient tells the errors of servers out of reach, restarting or
// electing a leader, which are worth trying again, from the rest.
func transient(err error) bool {
	var api *jetstream.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, natsgo.ErrTimeout),
		errors.Is(err, natsgo.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, natsgo.ErrConnectionReconnecting),
		errors.Is(err, natsgo.ErrNoServers),
		errors.Is(err, natsgo.ErrDisconnected),
		errors.Is(err, natsgo.ErrStaleConnection),
		errors.Is(err, natsgo.ErrSlowConsumer),
		errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return true
	case errors.As(err, &api):
		// 503: JetStream is not ready, or a stream has no quorum yet;
		// 500: the server failed the request, which the cluster can
		// answer once it has settled; no peers to place a stream on
		// while servers are offline.
		return api.Code >= 500 || api.ErrorCode == errCodeNoPeers
	}
	return false
}

// Send publishes data on the subject and returns once the stream has
// stored it.
func (c *Channel) Send(ctx context.Context, data []byte) error {
	if c.closed.Err() != nil {
		return fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
	}
	if len(data) > channel.MaxSize {
		return fmt.Errorf("nats channel %s: %d bytes: %w", c.addr.Subject, len(data), channel.ErrTooLarge)
	}
	id := rand.Text()
	rctx, cancel := context.WithTimeout(ctx, c.sendRetry)
	defer cancel()
	stop := context.AfterFunc(c.closed, cancel)
	defer stop()
	err := c.retry(rctx, "publishing", func(actx context.Context) error {
		_, err := c.js.Publish(actx, c.addr.Subject, data, jetstream.WithMsgID(id), jetstream.WithExpectStream(c.stream))
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			// No stream answered for long: it may have been deleted.
			if serr := c.recreate(actx); serr != nil {
				return serr
			}
		}
		return err
	})
	if err != nil && ctx.Err() != nil && c.closed.Err() == nil {
		return fmt.Errorf("nats channel %s: %w", c.addr.Subject, ctx.Err())
	}
	return err
}

// recreate creates the stream again if it no longer exists.
func (c *Channel) recreate(ctx context.Context) error {
	_, err := c.js.Stream(ctx, c.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) && c.stream == StreamName(c.addr.Subject) {
		c.log.Warn("nats: stream gone, making it anew", "stream", c.stream)
		return c.createStream(ctx)
	}
	return nil
}

// position encodes a place in the stream made at inc.
func position(inc int64, seq uint64) channel.Position {
	return channel.Position(strconv.FormatInt(inc, 16) + ":" + strconv.FormatUint(seq, 10))
}

// parsePosition decodes a position; Beginning is (0, 0).
func (c *Channel) parsePosition(p channel.Position) (inc int64, seq uint64, err error) {
	if p == channel.Beginning {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(string(p), ":")
	if ok {
		inc, err = strconv.ParseInt(a, 16, 64)
	}
	if ok && err == nil {
		seq, err = strconv.ParseUint(b, 10, 64)
	}
	if !ok || err != nil || inc <= 0 || seq == 0 {
		return 0, 0, fmt.Errorf("nats channel %s: position %q is not one of a NATS channel: %w", c.addr.Subject, p, channel.ErrUnknownPosition)
	}
	return inc, seq, nil
}

// Receive returns the messages after position after, waiting for one if
// there is none yet.
func (c *Channel) Receive(ctx context.Context, after channel.Position) ([]channel.Message, error) {
	if c.closed.Err() != nil {
		return nil, fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
	}
	inc, seq, err := c.parsePosition(after)
	if err != nil {
		return nil, err
	}
	select {
	case c.recv <- struct{}{}:
		defer func() { <-c.recv }()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed.Done():
		return nil, fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
	}
	if c.it == nil || c.last != seq || inc != 0 && inc != c.inc {
		if c.it != nil {
			c.it.Stop()
			c.it = nil
		}
		if err := c.subscribe(ctx, inc, seq); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopClose := context.AfterFunc(c.closed, cancel)
	defer stopClose()
	// An ordered consumer making itself anew waits for its stop, not
	// for a context: stop it when rctx ends (and make a new one next time).
	it := c.it
	stopIt := context.AfterFunc(rctx, it.Stop)
	var out []channel.Message
	size := 0
	waited := false // for a message, all of c.recheck
	for len(out) < MaxBatch && size < MaxBatchBytes {
		if waited || time.Since(c.checked) >= c.recheck {
			last, err := c.check(rctx)
			if err == nil && waited && last > c.last {
				// The stream has messages past ours but the consumer
				// gave none for a while: start a new one.
				c.log.Warn("nats: no messages from the consumer, starting anew", "subject", c.addr.Subject, "after", c.last, "stream_last", last)
				stopIt()
				it.Stop()
				c.it = nil
				if err = c.subscribe(rctx, c.inc, c.last); err == nil {
					it = c.it
					stopIt = context.AfterFunc(rctx, it.Stop)
				}
			}
			if err != nil {
				stopIt()
				it.Stop()
				c.it = nil
				if len(out) > 0 {
					return out, nil
				}
				if c.closed.Err() != nil {
					return nil, fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err
			}
		}
		wctx, wcancel := context.WithTimeout(rctx, c.recheck)
		m, err := it.Next(jetstream.NextContext(wctx))
		wcancel()
		waited = errors.Is(err, context.DeadlineExceeded) && rctx.Err() == nil
		if waited {
			continue // time to check the stream again
		}
		if err != nil {
			if !stopIt() || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				it.Stop()
				c.it = nil
			}
			if len(out) > 0 {
				return out, nil
			}
			switch {
			case c.closed.Err() != nil:
				return nil, fmt.Errorf("nats channel %s: %w", c.addr.Subject, channel.ErrClosed)
			case ctx.Err() != nil:
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("nats channel %s: reading the stream: %w (%w)", c.addr.Subject, err, channel.ErrUnavailable)
		}
		meta, err := m.Metadata()
		if err != nil {
			stopIt()
			it.Stop()
			c.it = nil
			return out, nil
		}
		if s := meta.Sequence.Stream; s > c.last {
			c.last = s
			out = append(out, channel.Message{Pos: position(c.inc, s), Data: m.Data()})
			size += len(m.Data())
		}
		if meta.NumPending == 0 && len(out) > 0 {
			break
		}
	}
	if !stopIt() {
		c.it = nil
	}
	return out, nil
}

// check checks that the stream is still the one made at c.inc, and
// returns its last sequence.
func (c *Channel) check(ctx context.Context) (last uint64, err error) {
	var created time.Time
	err = c.retry(ctx, "reading the stream's state", func(actx context.Context) error {
		s, err := c.js.Stream(actx, c.stream)
		if err == nil {
			created, last = s.CachedInfo().Created, s.CachedInfo().State.LastSeq
		}
		return err
	})
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return 0, fmt.Errorf("nats channel %s: stream %s is gone: %w", c.addr.Subject, c.stream, channel.ErrUnknownPosition)
	case err != nil:
		return 0, err
	case created.UnixNano() != c.inc:
		return 0, fmt.Errorf("nats channel %s: stream %s was made anew at %s: %w", c.addr.Subject, c.stream, created.UTC().Format(time.RFC3339Nano), channel.ErrUnknownPosition)
	}
	c.checked = time.Now()
	return last, nil
}

// subscribe starts an ordered consumer at the message after seq, on the
// stream made at inc (0: the current one), after checking that the
// stream is that one and has such a message.
func (c *Channel) subscribe(ctx context.Context, inc int64, seq uint64) error {
	var info *jetstream.StreamInfo
	err := c.retry(ctx, "reading the stream's state", func(actx context.Context) error {
		s, err := c.js.Stream(actx, c.stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) && inc == 0 && c.stream == StreamName(c.addr.Subject) {
			err = c.createStream(actx)
			if err == nil {
				s, err = c.js.Stream(actx, c.stream)
			}
		}
		if err != nil {
			return err
		}
		info = s.CachedInfo()
		return nil
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("nats channel %s: stream %s is gone: %w", c.addr.Subject, c.stream, channel.ErrUnknownPosition)
	}
	if err != nil {
		return err
	}
	created := info.Created.UnixNano()
	if inc != 0 && inc != created {
		return fmt.Errorf("nats channel %s: position of a stream %s made at %s; the stream now was made at %s: %w",
			c.addr.Subject, c.stream, time.Unix(0, inc).UTC().Format(time.RFC3339Nano), info.Created.UTC().Format(time.RFC3339Nano), channel.ErrUnknownPosition)
	}
	if seq > info.State.LastSeq {
		return fmt.Errorf("nats channel %s: position %d is past the last message %d of stream %s: %w",
			c.addr.Subject, seq, info.State.LastSeq, c.stream, channel.ErrUnknownPosition)
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.addr.Subject},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    seq + 1,
		// The consumer's own retries wait for no context: give up
		// soon, and let retry (which does) try again.
		MaxResetAttempts: 2,
	}
	var it jetstream.MessagesContext
	err = c.retry(ctx, "starting a consumer", func(actx context.Context) error {
		cons, err := c.js.OrderedConsumer(actx, c.stream, cfg)
		if err != nil {
			return err
		}
		it, err = cons.Messages(jetstream.PullMaxBytes(2*MaxBatchBytes), jetstream.PullExpiry(10*time.Second), jetstream.PullHeartbeat(2*time.Second))
		return err
	})
	if err != nil {
		return err
	}
	c.it, c.last, c.inc, c.checked = it, seq, created, time.Now()
	return nil
}

// Close closes the connection; waiting Receives return ErrClosed.
func (c *Channel) Close() error {
	c.close()
	c.nc.Close()
	return nil
}
