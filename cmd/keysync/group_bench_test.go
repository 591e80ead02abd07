package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/channel/imap"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/internal/dovecottest"
)

// benchGroup runs devices as agents in this process, each on its own
// client of one channel, with users who accept every handshake at once.
type benchGroup struct {
	b    *testing.B
	root string
	open func() (channel.Channel, error)
	ctx  context.Context
	stop context.CancelFunc
	devs []*device.Device
	done []chan error
	chs  []channel.Channel
	mu   sync.Mutex
	log  []string // the devices' log lines, for a failure
}

func (g *benchGroup) add() *device.Device {
	home := filepath.Join(g.root, fmt.Sprint(len(g.devs)))
	codec := &device.PGP{}
	if err := device.Create(home, "me@bench.example", "", codec); err != nil {
		g.b.Fatal(err)
	}
	name := fmt.Sprint(len(g.devs))
	d, err := device.Open(home, device.Options{Codec: codec, Log: func(l string) {
		g.mu.Lock()
		g.log = append(g.log, name+": "+l)
		g.mu.Unlock()
	}})
	if err != nil {
		g.b.Fatal(err)
	}
	ch, err := g.open()
	if err != nil {
		g.b.Fatal(err)
	}
	a := &agent.Agent{Dev: d, Ch: ch, Home: home}
	done := make(chan error, 1)
	go func() { done <- a.Run(g.ctx) }()
	g.devs, g.done, g.chs = append(g.devs, d), append(g.done, done), append(g.chs, ch)
	return d
}

func (g *benchGroup) close() {
	g.stop()
	for _, d := range g.done {
		<-d
	}
	for i, d := range g.devs {
		d.Close()
		g.chs[i].Close()
	}
	os.RemoveAll(g.root)
}

// until waits up to five minutes for all devices to be Grouped with one
// key, accepting the handshakes shown on accepters.
func (g *benchGroup) until(accepters ...*device.Device) {
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, d := range accepters {
			if s := d.Status(); s.Handshake != nil && !s.Handshake.Accepted {
				if err := d.User("Accept"); err != nil {
					g.b.Fatal(err)
				}
			}
		}
		if g.grouped() {
			return
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range g.devs {
		s := d.Status()
		g.b.Logf("state %s, %d members, outbox %d", s.State, len(s.Group.Members), s.Outbox)
	}
	g.b.Fatalf("%d devices not grouped after five minutes; the last log lines:\n%s", len(g.devs), strings.Join(g.log[max(0, len(g.log)-60):], "\n"))
}

func (g *benchGroup) grouped() bool {
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

// BenchmarkGroupOver measures, on the folder channel and on a mailbox of
// a real Dovecot on loopback, the time to form a group of two devices
// and to grow it one device at a time to N, with users who accept at
// once (agents in this process, each with a channel client of its own).
// Set KEYSYNC_BENCH_DEVICES (a comma-free number) to choose the largest N;
// the default runs 2 and 10.
func BenchmarkGroupOver(b *testing.B) {
	sizes := []int{2, 10}
	if n := os.Getenv("KEYSYNC_BENCH_DEVICES"); n != "" {
		var m int
		fmt.Sscan(n, &m)
		sizes = append(sizes, m)
	}
	quiet := slog.New(slog.DiscardHandler)
	media := []struct {
		name string
		open func(b *testing.B, root string) func() (channel.Channel, error)
	}{
		{"dir", func(b *testing.B, root string) func() (channel.Channel, error) {
			return func() (channel.Channel, error) {
				return dir.Open(filepath.Join(root, "ch"), dir.Options{Log: quiet})
			}
		}},
		{"imap", func(b *testing.B, root string) func() (channel.Channel, error) {
			s := dovecottest.Start(b, dovecottest.Options{})
			u := fmt.Sprintf("imap+insecure://%s@%s/bench%d", dovecottest.User, s.Addr, time.Now().UnixNano())
			return func() (channel.Channel, error) {
				return imap.Open(u, imap.Options{Password: dovecottest.Password, Log: quiet})
			}
		}},
	}
	for _, m := range media {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("channel=%s/devices=%d", m.name, n), func(b *testing.B) {
				var pair time.Duration
				for b.Loop() {
					root, err := os.MkdirTemp("", "ksb")
					if err != nil {
						b.Fatal(err)
					}
					ctx, stop := context.WithCancel(context.Background())
					g := &benchGroup{b: b, root: root, open: m.open(b, root), ctx: ctx, stop: stop}
					start := time.Now()
					d0, d1 := g.add(), g.add()
					g.until(d0, d1)
					pair += time.Since(start)
					for len(g.devs) < n {
						g.until(g.add(), d0)
					}
					g.close()
				}
				b.ReportMetric(pair.Seconds()/float64(b.N), "s-to-pair")
			})
		}
	}
}
