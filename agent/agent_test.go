package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
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
	// open, if set, opens a client of the group's channel, and count
	// counts the messages on it.
	open  func() (channel.Channel, error)
	count func() int
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
	open := g.open
	if open == nil {
		open = func() (channel.Channel, error) {
			return dir.Open(filepath.Join(g.root, "ch"), dir.Options{Log: quiet})
		}
	}
	ch, err := open()
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
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
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

// messages counts the messages on the channel.
func (g *group) messages() int {
	if g.count != nil {
		return g.count()
	}
	ents, err := os.ReadDir(filepath.Join(g.root, "ch"))
	if err != nil {
		g.tb.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if len(e.Name()) == 20 {
			n++
		}
	}
	return n
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkGroup measures the time from start to Grouped for two devices
// on the folder channel, and for N devices joining one by one, with users
// who accept at once; it reports the channel messages per join and the
// process CPU time per message (OpenPGP included).
func BenchmarkGroup(b *testing.B) { benchmarkGroup(b, newGroup) }

// benchmarkGroup is BenchmarkGroup on the groups that newGroup makes.
func benchmarkGroup(b *testing.B, newGroup func(testing.TB) *group) {
	for _, n := range []int{2, 10, 50} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			var msgs, joins int
			var used time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				g := newGroup(b)
				b.StartTimer()
				c0 := cpu()
				d0, d1 := g.add(&device.PGP{}), g.add(&device.PGP{})
				g.until("two grouped", g.grouped, d0, d1)
				for len(g.devs) < n {
					j := g.add(&device.PGP{})
					g.until(fmt.Sprintf("%d grouped", len(g.devs)), g.grouped, j, d0)
				}
				used += cpu() - c0
				msgs += g.messages()
				joins += n - 1
				b.StopTimer()
				g.close()
				b.StartTimer()
			}
			b.ReportMetric(float64(msgs)/float64(joins), "msgs/join")
			b.ReportMetric(float64(used.Microseconds())/float64(msgs), "cpu-µs/msg")
		})
	}
}
