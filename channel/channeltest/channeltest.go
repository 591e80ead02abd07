// Package channeltest is the conformance test of channel.Channel: what
// every channel promises, run by the tests of each implementation
// (channel/dir, channel/imap, channel/nats) over its own medium; and the
// benchmarks every channel reports the same way (BenchmarkDelivered,
// BenchmarkLatency).
//
// The messages it sends are small RFC 5322 messages with CRLF line ends,
// the form every channel carries byte for byte (see channel.Channel).
package channeltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
)

// Medium makes a new, empty channel for one test and returns the function
// that opens a client of it: every client it opens is on that one
// channel, as separate devices are. Run closes the clients it opens.
type Medium func(t *testing.T) (open func() (channel.Channel, error))

// Options scale the run to the medium.
type Options struct {
	// Clients and Senders: in the order test, each of Clients clients
	// sends from Senders goroutines at once, Messages messages each.
	// Zeros mean 3, 4 and 25.
	Clients, Senders, Messages int
	// Wait bounds each test. Zero means a minute.
	Wait time.Duration
	// Reorders says that the medium may deliver one sender's messages
	// out of the order sent (mail delivered over SMTP): the order test
	// then checks only that all clients see one order.
	Reorders bool
}

// Run runs the conformance tests as subtests of t.
func Run(t *testing.T, m Medium, o Options) {
	if o.Clients <= 0 {
		o.Clients = 3
	}
	if o.Senders <= 0 {
		o.Senders = 4
	}
	if o.Messages <= 0 {
		o.Messages = 25
	}
	if o.Wait <= 0 {
		o.Wait = time.Minute
	}
	r := runner{m: m, o: o}
	t.Run("OwnMessages", r.ownMessages)
	t.Run("OneOrder", r.oneOrder)
	t.Run("Resume", r.resume)
	t.Run("Offline", r.offline)
	t.Run("Wait", r.wait)
	t.Run("Size", r.size)
	t.Run("Close", r.close)
}

type runner struct {
	m Medium
	o Options
}

// Message returns the test message of sender s, number i: an RFC 5322
// message with CRLF line ends, different for every (s, i).
func Message(s string, i int) []byte {
	return fmt.Appendf(nil, "From: keysync-test@example.org\r\nTo: keysync-test@example.org\r\nSubject: %s %d\r\n\r\nmessage %d of %s\r\n", s, i, i, s)
}

func (r runner) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), r.o.Wait)
	t.Cleanup(cancel)
	return ctx
}

// clients opens n clients of a new channel.
func (r runner) clients(t *testing.T, n int) (open func() channel.Channel, cs []channel.Channel) {
	o := r.m(t)
	open = func() channel.Channel {
		t.Helper()
		c, err := o()
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for range n {
		cs = append(cs, open())
	}
	return open, cs
}

// ReadN receives from c, after after, until it has n messages, and fails
// t if it gets more or an error. Call it from the test's goroutine.
func ReadN(ctx context.Context, t testing.TB, c channel.Channel, after channel.Position, n int) []channel.Message {
	t.Helper()
	out, err := readN(ctx, c, after, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readN(ctx context.Context, c channel.Channel, after channel.Position, n int) ([]channel.Message, error) {
	var out []channel.Message
	for len(out) < n {
		msgs, err := c.Receive(ctx, after)
		if err != nil {
			return out, fmt.Errorf("receive after %q, with %d of %d messages: %w", after, len(out), n, err)
		}
		if len(msgs) == 0 {
			return out, fmt.Errorf("receive after %q returned no message and no error", after)
		}
		out = append(out, msgs...)
		after = msgs[len(msgs)-1].Pos
	}
	if len(out) > n {
		return out, fmt.Errorf("got %d messages, want %d", len(out), n)
	}
	return out, nil
}

// Equal reports, as an error, the first place where two clients' views
// of the order differ.
func Equal(a, b []channel.Message) error {
	for i := range min(len(a), len(b)) {
		if a[i].Pos != b[i].Pos || !bytes.Equal(a[i].Data, b[i].Data) {
			return fmt.Errorf("message %d: %q at %q, and %q at %q", i, a[i].Data, a[i].Pos, b[i].Data, b[i].Pos)
		}
	}
	if len(a) != len(b) {
		return fmt.Errorf("%d messages and %d", len(a), len(b))
	}
	return nil
}

// quiet checks that c has nothing after after, for a short while.
func quiet(t *testing.T, c channel.Channel, after channel.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	msgs, err := c.Receive(ctx, after)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive after the last message: %d messages, error %v; want a wait until the deadline", len(msgs), err)
	}
}

// ownMessages: a sender receives its own messages, in the order sent,
// each with a position of its own.
func (r runner) ownMessages(t *testing.T) {
	_, cs := r.clients(t, 1)
	c, ctx := cs[0], r.ctx(t)
	for i := range 5 {
		if err := c.Send(ctx, Message("own", i)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := ReadN(ctx, t, c, channel.Beginning, 5)
	pos := map[channel.Position]bool{}
	for i, m := range got {
		if !bytes.Equal(m.Data, Message("own", i)) {
			t.Errorf("message %d: %q, want %q", i, m.Data, Message("own", i))
		}
		if m.Pos == channel.Beginning || pos[m.Pos] {
			t.Errorf("message %d at position %q, empty or given before", i, m.Pos)
		}
		pos[m.Pos] = true
	}
	quiet(t, c, got[4].Pos)
}

// oneOrder: many clients sending at once from many goroutines; every
// client sees every message once, all in one order, each sender's in the
// order it sent them.
func (r runner) oneOrder(t *testing.T) {
	_, cs := r.clients(t, r.o.Clients)
	ctx := r.ctx(t)
	var wg sync.WaitGroup
	for ci, c := range cs {
		for s := range r.o.Senders {
			wg.Go(func() {
				name := fmt.Sprintf("c%ds%d", ci, s)
				for i := range r.o.Messages {
					if err := c.Send(ctx, Message(name, i)); err != nil {
						t.Errorf("%s: Send: %v", name, err)
						return
					}
				}
			})
		}
	}
	total := r.o.Clients * r.o.Senders * r.o.Messages
	views := make([][]channel.Message, len(cs))
	for ci, c := range cs {
		wg.Go(func() {
			var err error
			if views[ci], err = readN(ctx, c, channel.Beginning, total); err != nil {
				t.Errorf("client %d: %v", ci, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for ci := 1; ci < len(views); ci++ {
		if err := Equal(views[0], views[ci]); err != nil {
			t.Fatalf("clients 0 and %d see different orders: %v", ci, err)
		}
	}
	if err := SenderOrder(views[0], !r.o.Reorders); err != nil {
		t.Fatal(err)
	}
	if n := len(views[0]) / r.o.Messages; n != r.o.Clients*r.o.Senders {
		t.Errorf("%d senders seen, want %d", n, r.o.Clients*r.o.Senders)
	}
}

// SenderOrder checks a view of messages made by Message: each message
// once, and, if inOrder, each sender's in the order of their numbers.
func SenderOrder(view []channel.Message, inOrder bool) error {
	next := map[string]int{}
	seen := map[string]bool{}
	for _, m := range view {
		var name string
		var i int
		at := bytes.Index(m.Data, []byte("Subject: "))
		if at < 0 {
			return fmt.Errorf("message %q is not one of Message", m.Data)
		}
		if _, err := fmt.Sscanf(string(m.Data[at+9:]), "%s %d", &name, &i); err != nil {
			return fmt.Errorf("message %q: %v", m.Data, err)
		}
		key := fmt.Sprint(name, " ", i)
		if seen[key] {
			return fmt.Errorf("%s's message %d a second time", name, i)
		}
		seen[key] = true
		if inOrder && i != next[name] {
			return fmt.Errorf("%s's message %d where %d was due", name, i, next[name])
		}
		next[name]++
	}
	return nil
}

// resume: Receive after any message's position returns the rest of the
// order, on any client.
func (r runner) resume(t *testing.T) {
	_, cs := r.clients(t, 2)
	ctx := r.ctx(t)
	const n = 12
	for i := range n {
		if err := cs[i%2].Send(ctx, Message("resume", i)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	all := ReadN(ctx, t, cs[0], channel.Beginning, n)
	for _, k := range []int{0, 1, 5, n - 2} {
		got := ReadN(ctx, t, cs[1], all[k].Pos, n-1-k)
		if err := Equal(got, all[k+1:]); err != nil {
			t.Errorf("after message %d: %v", k, err)
		}
	}
	quiet(t, cs[1], all[n-1].Pos)
}

// offline: a client that was closed while others sent catches up, as a
// new client, from the position it had.
func (r runner) offline(t *testing.T) {
	open, cs := r.clients(t, 2)
	ctx := r.ctx(t)
	if err := cs[0].Send(ctx, Message("before", 0)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	last := ReadN(ctx, t, cs[1], channel.Beginning, 1)[0].Pos
	if err := cs[1].Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := range 7 {
		if err := cs[0].Send(ctx, Message("while offline", i)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	back := open()
	got := ReadN(ctx, t, back, last, 7)
	for i, m := range got {
		if !bytes.Equal(m.Data, Message("while offline", i)) {
			t.Errorf("message %d after coming back: %q", i, m.Data)
		}
	}
	if err := Equal(got, ReadN(ctx, t, cs[0], last, 7)); err != nil {
		t.Errorf("the sender and the client back from offline differ: %v", err)
	}
}

// wait: Receive waits for a message that another client sends later,
// and returns the context's error when it is done first.
func (r runner) wait(t *testing.T) {
	_, cs := r.clients(t, 2)
	ctx := r.ctx(t)
	got := make(chan []channel.Message, 1)
	go func() {
		msgs, err := cs[1].Receive(ctx, channel.Beginning)
		if err != nil {
			t.Errorf("Receive: %v", err)
		}
		got <- msgs
	}()
	time.Sleep(50 * time.Millisecond)
	if err := cs[0].Send(ctx, Message("late", 0)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := <-got
	if len(msgs) != 1 || !bytes.Equal(msgs[0].Data, Message("late", 0)) {
		t.Fatalf("Receive got %q", msgs)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := cs[1].Receive(short, msgs[0].Pos); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive past its deadline: %v, want context.DeadlineExceeded", err)
	}
}

// size: MaxSize bytes go through intact; one more is ErrTooLarge.
func (r runner) size(t *testing.T) {
	_, cs := r.clients(t, 2)
	ctx := r.ctx(t)
	big := Message("big", 0)
	big = append(big, bytes.Repeat([]byte("0123456789abcde\r\n"), channel.MaxSize/17+1)...)
	if err := cs[0].Send(ctx, big[:channel.MaxSize+1]); !errors.Is(err, channel.ErrTooLarge) {
		t.Errorf("Send of MaxSize+1 bytes: %v, want ErrTooLarge", err)
	}
	if err := cs[0].Send(ctx, big[:channel.MaxSize]); err != nil {
		t.Fatalf("Send of MaxSize bytes: %v", err)
	}
	got := ReadN(ctx, t, cs[1], channel.Beginning, 1)
	if !bytes.Equal(got[0].Data, big[:channel.MaxSize]) {
		t.Errorf("MaxSize bytes came back as %d other bytes", len(got[0].Data))
	}
}

// close: Close wakes a waiting Receive with ErrClosed, and later calls
// fail with it.
func (r runner) close(t *testing.T) {
	_, cs := r.clients(t, 1)
	c := cs[0]
	errc := make(chan error, 1)
	go func() {
		_, err := c.Receive(context.Background(), channel.Beginning)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, channel.ErrClosed) {
			t.Errorf("Receive over Close: %v, want ErrClosed", err)
		}
	case <-time.After(r.o.Wait):
		t.Fatal("Close left Receive waiting")
	}
	ctx := r.ctx(t)
	if _, err := c.Receive(ctx, channel.Beginning); !errors.Is(err, channel.ErrClosed) {
		t.Errorf("Receive after Close: %v, want ErrClosed", err)
	}
	if err := c.Send(ctx, Message("closed", 0)); !errors.Is(err, channel.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}
