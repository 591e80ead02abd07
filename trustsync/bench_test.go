package trustsync

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/channel/imap"
	"github.com/keysync/keysync/channel/nats"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/internal/dovecottest"
	"github.com/keysync/keysync/internal/natstest"
)

// medium is a kind of channel for the benchmarks. start starts its
// servers, if any, and returns fresh, which makes a new empty channel
// (a folder, a mailbox, a subject) and returns how to open a client of it.
type medium struct {
	name  string
	start func(tb testing.TB) (fresh func(tb testing.TB) func(tb testing.TB) channel.Channel)
}

// media are the channels the benchmarks run on: a folder, a mailbox of a
// real Dovecot on loopback, and a subject of a NATS server in this process
// (its default max payload of 1 MB).
var media = []medium{
	{"dir", func(testing.TB) func(tb testing.TB) func(tb testing.TB) channel.Channel {
		return func(tb testing.TB) func(tb testing.TB) channel.Channel {
			path := filepath.Join(tb.TempDir(), "ch")
			return func(tb testing.TB) channel.Channel {
				ch, err := dir.Open(path, dir.Options{Log: slog.New(slog.DiscardHandler)})
				if err != nil {
					tb.Fatal(err)
				}
				return ch
			}
		}
	}},
	{"imap", func(tb testing.TB) func(tb testing.TB) func(tb testing.TB) channel.Channel {
		s := dovecottest.Start(tb, dovecottest.Options{})
		return func(testing.TB) func(tb testing.TB) channel.Channel {
			u := fmt.Sprintf("imap+insecure://%s@%s/bench%d", dovecottest.User, s.Addr, benchChannels.Add(1))
			return func(tb testing.TB) channel.Channel {
				ch, err := imap.Open(u, imap.Options{Password: dovecottest.Password, Log: slog.New(slog.DiscardHandler)})
				if err != nil {
					tb.Fatal(err)
				}
				return ch
			}
		}
	}},
	{"nats", func(tb testing.TB) func(tb testing.TB) func(tb testing.TB) channel.Channel {
		s := natstest.Start(tb, nil)
		return func(testing.TB) func(tb testing.TB) channel.Channel {
			u := natstest.URL(s.Addr(), fmt.Sprintf("keysync.bench.s%d", benchChannels.Add(1)))
			return func(tb testing.TB) channel.Channel {
				ch, err := nats.Open(u, nats.Options{Log: slog.New(slog.DiscardHandler)})
				if err != nil {
					tb.Fatal(err)
				}
				return ch
			}
		}
	}},
}

var benchChannels atomic.Int64

// chanDev is a grouped device on a real folder channel, without the
// OpenPGP envelope: the benchmarks measure trustsync and the channel.
type chanDev struct {
	db      *bolt.DB
	self    string
	members *[]string
	store   *Store
	ch      channel.Channel
	syncer  *Syncer
	sent    atomic.Int64 // payload bytes sent
	mu      sync.Mutex
}

func (d *chanDev) Grouped() (bool, string, []string) { return true, d.self, slices.Clone(*d.members) }
func (d *chanDev) View(f func(*bolt.Tx) error) error { return d.db.View(f) }
func (d *chanDev) Update(f func(*bolt.Tx) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.db.Update(f)
}
func (d *chanDev) SendExtension(p [][]byte, update func(*bolt.Tx) error) error {
	if update != nil {
		if err := d.Update(update); err != nil {
			return err
		}
	}
	return d.send(p)
}

func (d *chanDev) send(p [][]byte) error {
	for _, m := range p {
		if err := d.ch.Send(context.Background(), m); err != nil {
			return err
		}
		d.sent.Add(int64(len(m)))
	}
	return nil
}

// receive applies what the channel delivers until ctx is done.
func (d *chanDev) receive(ctx context.Context, tb testing.TB) {
	pos := channel.Beginning
	for {
		msgs, err := d.ch.Receive(ctx, pos)
		if err != nil {
			return
		}
		for _, m := range msgs {
			pos = m.Pos
			var replies [][]byte
			err := d.Update(func(tx *bolt.Tx) error {
				var err error
				replies, err = d.store.Apply(tx, device.Event{Pos: string(m.Pos), Self: d.self, Members: *d.members}, m.Data)
				if err != nil {
					tb.Logf("dropped: %v", err)
				}
				return nil
			})
			if err != nil {
				tb.Error(err)
				return
			}
			if err := d.send(replies); err != nil {
				tb.Error(err)
				return
			}
		}
		if d.syncer != nil {
			d.syncer.Wake()
		}
	}
}

// newChanDev starts a device on a client open opens.
func newChanDev(tb testing.TB, ctx context.Context, open func(testing.TB) channel.Channel, self string, members *[]string, apps []app.Location) *chanDev {
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "device.db"), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ch := open(tb)
	tb.Cleanup(func() { ch.Close() })
	d := &chanDev{db: db, self: self, members: members, store: &Store{}, ch: ch}
	d.syncer = &Syncer{Dev: d, Apps: apps, Poll: time.Second}
	go d.receive(ctx, tb)
	go func() { _ = d.syncer.Run(ctx) }()
	return d
}

func waitFor(tb testing.TB, what string, ok func() bool) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if ok() {
			return
		}
	}
	tb.Fatalf("timed out waiting for %s", what)
}

// BenchmarkVerificationReachesApps measures, on each channel, the time
// from a verification written into one device's irssi file to the other
// device's irssi file holding it. It includes the 200 ms the watcher
// waits for a folder to be quiet, which bounds it from below.
func BenchmarkVerificationReachesApps(b *testing.B) {
	for _, m := range media {
		b.Run("channel="+m.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			open := m.start(b)(b)
			members := []string{"A", "B"}
			la, lb := location(b, "irssi", irssiDir(b)), location(b, "irssi", irssiDir(b))
			newChanDev(b, ctx, open, "A", &members, []app.Location{la})
			newChanDev(b, ctx, open, "B", &members, []app.Location{lb})
			waitFor(b, "pairing", func() bool { tr, _ := trustOf(b, lb, "blue"); return tr == "smp" })
			trusts := []string{"manual", "smp"}
			b.ResetTimer()
			for i := range b.N {
				want := trusts[i%2]
				setTrust(b, la.Dir, "goldy", want)
				waitFor(b, "the verification", func() bool { tr, _ := trustOf(b, lb, "goldy"); return tr == want })
			}
		})
	}
}

// BenchmarkJoin100k measures, on each channel, the time for a store of
// 100,000 fingerprint rows to reach a joining device, from its request to
// its replica being complete, and the bytes of the chunks (before the
// OpenPGP envelope, which adds base64's third and a little).
func BenchmarkJoin100k(b *testing.B) {
	big := bigReplica(100_000)
	for _, m := range media {
		b.Run("channel="+m.name, func(b *testing.B) {
			fresh := m.start(b)
			for range b.N {
				b.StopTimer()
				ctx, cancel := context.WithCancel(context.Background())
				open := fresh(b)
				members := []string{"A", "J"}
				member := newChanDev(b, ctx, open, "A", &members, nil)
				if err := member.Update(func(tx *bolt.Tx) error {
					bk, err := root(tx)
					if err != nil {
						return err
					}
					if err := bk.Bucket(bMeta).Put([]byte(metaSynced), []byte("1")); err != nil {
						return err
					}
					return write(bk, big.update())
				}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				joiner := newChanDev(b, ctx, open, "J", &members, nil)
				waitFor(b, "the replica", func() bool {
					var st Status
					_ = joiner.View(func(tx *bolt.Tx) (err error) { st, err = ReadStatus(tx); return err })
					return st.Synced && st.Fingerprints == 100_000
				})
				b.StopTimer()
				b.ReportMetric(float64(member.sent.Load()), "bytes/join")
				cancel()
				b.StartTimer()
			}
		})
	}
}

// TestAFolderMadeLaterIsWatched runs syncers on a folder channel: an app
// folder missing at start, made by the first write, is watched from then
// on, so a verification in it reaches the other app.
func TestAFolderMadeLaterIsWatched(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := media[0].start(t)(t)
	members := []string{"A", "B"}
	la, lb := location(t, "irssi", irssiDir(t)), location(t, "irssi", filepath.Join(t.TempDir(), "later"))
	newChanDev(t, ctx, open, "A", &members, []app.Location{la})
	newChanDev(t, ctx, open, "B", &members, []app.Location{lb})
	waitFor(t, "the rows in the new folder", func() bool { _, ok := trustOfIfAny(lb, "goldy"); return ok })
	time.Sleep(1500 * time.Millisecond) // the traffic of pairing is over
	setTrust(t, lb.Dir, "goldy", "manual")
	waitFor(t, "the verification in the other app", func() bool { tr, _ := trustOfIfAny(la, "goldy"); return tr == "manual" })
}

// trustOfIfAny is trustOf for a store that may not exist yet.
func trustOfIfAny(l app.Location, contact string) (string, bool) {
	m, _, err := l.Read(nil, nil)
	if err != nil {
		return "", false
	}
	for _, f := range m.Fingerprints {
		if f.Contact == contact {
			return string(f.Trust), true
		}
	}
	return "", false
}
