package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/device"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// group runs devices as agents in this process on one channel (a
// folder, unless open is set), with users who accept every handshake at
// once.
type group struct {
	tb    testing.TB
	root  string
	chans []channel.Channel
	// open opens a client of the group's channel (newGroup: a folder).
	open  func() (channel.Channel, error)
	ctx   context.Context
	devs  []*device.Device
	homes []string
	done  []chan error
	stop  context.CancelFunc
	mu    sync.Mutex
	log   []string
	once  sync.Once
}

func newGroup(tb testing.TB) *group {
	root, err := os.MkdirTemp("", "ksa")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	g := &group{tb: tb, root: root, ctx: ctx, stop: stop}
	g.open = func() (channel.Channel, error) {
		return dir.Open(filepath.Join(root, "ch"), dir.Options{Log: quiet})
	}
	tb.Cleanup(g.close)
	return g
}

func (g *group) close() { g.once.Do(g.shut) }

func (g *group) shut() {
	g.stop()
	for _, d := range g.done {
		<-d
	}
	for _, d := range g.devs {
		d.Close()
	}
	for _, c := range g.chans {
		c.Close()
	}
	os.RemoveAll(g.root)
}

func (g *group) add(codec device.Codec) *device.Device {
	home := filepath.Join(g.root, fmt.Sprint(len(g.devs)))
	if err := device.Create(home, "me@bench.example", "", codec); err != nil {
		g.tb.Fatal(err)
	}
	name := fmt.Sprint(len(g.devs))
	d, err := device.Open(home, device.Options{Codec: codec, Log: func(l string) {
		g.mu.Lock()
		g.log = append(g.log, name+": "+l)
		g.mu.Unlock()
	}})
	if err != nil {
		g.tb.Fatal(err)
	}
	// One channel instance per agent, as separate processes have.
	ch, err := g.open()
	if err != nil {
		g.tb.Fatal(err)
	}
	g.chans = append(g.chans, ch)
	a := &Agent{Dev: d, Ch: ch, Home: home}
	done := make(chan error, 1)
	go func() { done <- a.Run(g.ctx) }()
	g.devs, g.homes, g.done = append(g.devs, d), append(g.homes, home), append(g.done, done)
	return d
}

// until waits for ok, accepting the handshakes shown on the devices in
// accepters (their users accept at once).
func (g *group) until(what string, ok func() bool, accepters ...*device.Device) {
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, d := range accepters {
			if s := d.Status(); s.Handshake != nil && !s.Handshake.Accepted {
				if err := d.User("Accept"); err != nil {
					g.tb.Fatal(err)
				}
			}
		}
		if ok() {
			return
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range g.devs {
		g.tb.Logf("%+v", d.Status())
	}
	g.tb.Fatalf("timed out waiting for %s:\n%s", what, strings.Join(g.log, "\n"))
}

// grouped reports whether all devices are Grouped with one key and
// nothing left to send.
func (g *group) grouped() bool {
	var keys []string
	for i, d := range g.devs {
		s := d.Status()
		if s.State != "Grouped" || s.Outbox > 0 || len(s.Group.Members) != len(g.devs) || (i > 0 && !slices.Equal(keys, s.Group.Keys)) {
			return false
		}
		keys = s.Group.Keys
	}
	return true
}

// messages counts the messages on the channel, reading it from the
// beginning in a client of its own.
func (g *group) messages() int {
	c, err := g.open()
	if err != nil {
		g.tb.Fatal(err)
	}
	defer c.Close()
	n := 0
	for after := channel.Beginning; ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		msgs, err := c.Receive(ctx, after)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return n // nothing more for a second: the end
		}
		if err != nil {
			g.tb.Fatalf("counting the channel's messages: %v", err)
		}
		n += len(msgs)
		after = msgs[len(msgs)-1].Pos
	}
}

func TestAgentsFormAndJoin(t *testing.T) {
	g := newGroup(t)
	a, b := g.add(&device.PGP{}), g.add(&device.PGP{})
	g.until("two grouped", g.grouped, a, b)
	c := g.add(&device.PGP{})
	g.until("three grouped", g.grouped, c, a)
	// The control socket answers its owner.
	r, err := Call(g.homes[2], Request{Op: "status", Lang: "de"})
	if err != nil || r.Status.State != "Grouped" {
		t.Fatalf("status over the socket: %v %+v", err, r.Status)
	}
	fi, err := os.Stat(filepath.Join(g.homes[2], SocketFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v %v", fi.Mode(), err)
	}
	if _, err := Call(g.homes[2], Request{Op: "accept"}); err == nil {
		t.Fatal("accept without a pending handshake")
	}
	if _, err := Call(g.homes[2], Request{Op: "nonsense"}); err == nil {
		t.Fatal("an unknown op was taken")
	}
}

func TestListenRefusesOpenHome(t *testing.T) {
	home := t.TempDir()
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(home); err == nil {
		t.Fatal("a socket in a home others can open")
	}
}

// swapped is a channel whose medium the test replaces while a Receive
// waits, as a mailbox or folder made anew is.
type swapped struct {
	mu      sync.Mutex
	ch      channel.Channel
	changed chan struct{}
}

func (s *swapped) current() (channel.Channel, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch, s.changed
}

func (s *swapped) swap(ch channel.Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch = ch
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *swapped) Send(ctx context.Context, data []byte) error {
	ch, _ := s.current()
	return ch.Send(ctx, data)
}

func (s *swapped) Receive(ctx context.Context, after channel.Position) ([]channel.Message, error) {
	for {
		ch, changed := s.current()
		rctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-rctx.Done():
			}
		}()
		msgs, err := ch.Receive(rctx, after)
		cancel()
		select {
		case <-changed:
			if ctx.Err() == nil {
				continue // the medium changed under the call: ask the new one
			}
		default:
		}
		return msgs, err
	}
}

func (s *swapped) Close() error { return nil }

// TestHistoryMadeAnew: the channel's folder is made anew with a copy of
// the old messages (a mailbox restored with a new UIDVALIDITY): the agent
// reads the new one from its beginning, the device drops what it handled
// before, and the agent goes on.
func TestHistoryMadeAnew(t *testing.T) {
	root := t.TempDir()
	old, err := dir.Open(filepath.Join(root, "old"), dir.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	s := &swapped{ch: old, changed: make(chan struct{})}
	home := filepath.Join(root, "home")
	if err := device.Create(home, "me@example.org", "", &device.PGP{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []string
	logf := func(l string) { mu.Lock(); log = append(log, l); mu.Unlock() }
	logText := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(log, "\n")
	}
	logged := func(what string) bool { return strings.Contains(logText(), what) }
	d, err := device.Open(home, device.Options{Codec: &device.PGP{}, Log: logf})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Agent{Dev: d, Ch: s, Home: home, Log: logf}).Run(ctx) }()
	defer func() { stop(); <-done }()
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logText())
			}
		}
	}
	wait("the own Beacon read back", func() bool { return d.Position() != "" })
	before, err := old.Receive(context.Background(), channel.Beginning)
	if err != nil {
		t.Fatal(err)
	}
	anew, err := dir.Open(filepath.Join(root, "new"), dir.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer anew.Close()
	for _, m := range before {
		if err := anew.Send(context.Background(), m.Data); err != nil {
			t.Fatal(err)
		}
	}
	copies, err := anew.Receive(context.Background(), channel.Beginning)
	if err != nil {
		t.Fatal(err)
	}
	s.swap(anew)
	last := string(copies[len(copies)-1].Pos)
	wait("the device at the new folder's last message", func() bool { return d.Position() == last })
	if !logged("made anew") || !logged("dropped a message handled before") {
		t.Errorf("log:\n%s", logText())
	}
	select {
	case err := <-done:
		t.Fatalf("agent stopped: %v", err)
	default:
	}
}
