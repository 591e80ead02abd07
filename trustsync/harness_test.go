package trustsync

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/device"
)

// net is a channel in memory: one total order of messages, which may lose
// a send (the sender retries it, as the device's outbox does) or place it
// twice (a send that failed after the channel took it).
type net struct {
	mu        sync.Mutex
	log       [][]byte
	loss, dup float64
	rng       *rand.Rand
}

// fakeDev is a grouped device with a bbolt store, applying what the net
// delivers in order, once each (by hash, as device.Receive does).
type fakeDev struct {
	t       testing.TB
	db      *bolt.DB
	self    string
	members *[]string
	store   *Store
	net     *net
	pos     int
	seen    map[[32]byte]bool
	outbox  [][]byte
	grouped bool
}

func newFakeDev(t testing.TB, n *net, self string, members *[]string) *fakeDev {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "device.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fakeDev{t: t, db: db, self: self, members: members, store: &Store{}, net: n, seen: map[[32]byte]bool{}, grouped: true}
}

func (d *fakeDev) Grouped() (bool, string, []string) {
	return d.grouped, d.self, slices.Clone(*d.members)
}
func (d *fakeDev) View(f func(*bolt.Tx) error) error   { return d.db.View(f) }
func (d *fakeDev) Update(f func(*bolt.Tx) error) error { return d.db.Update(f) }
func (d *fakeDev) SendExtension(p [][]byte, update func(*bolt.Tx) error) error {
	if update != nil {
		if err := d.db.Update(update); err != nil {
			return err
		}
	}
	d.outbox = append(d.outbox, p...)
	return nil
}

// flush sends the outbox, losing or doubling messages as the net says.
func (d *fakeDev) flush() {
	n := d.net
	n.mu.Lock()
	defer n.mu.Unlock()
	var keep [][]byte
	for _, m := range d.outbox {
		r := n.rng.Float64()
		switch {
		case r < n.loss:
			keep = append(keep, m)
		case r < n.loss+n.dup:
			n.log = append(n.log, m)
			keep = append(keep, m)
		default:
			n.log = append(n.log, m)
		}
	}
	d.outbox = keep
}

// deliver applies every message the net holds after the device's position.
func (d *fakeDev) deliver() {
	for {
		d.net.mu.Lock()
		if d.pos >= len(d.net.log) {
			d.net.mu.Unlock()
			return
		}
		m := d.net.log[d.pos]
		d.net.mu.Unlock()
		d.pos++
		h := sha256.Sum256(m)
		if d.seen[h] {
			continue
		}
		d.seen[h] = true
		if !d.grouped {
			continue
		}
		err := d.db.Update(func(tx *bolt.Tx) error {
			replies, err := d.store.Apply(tx, device.Event{Pos: strconv.Itoa(d.pos), Self: d.self, Members: *d.members}, m)
			if err != nil {
				d.t.Logf("%s: dropped at %d: %v", d.self, d.pos, err)
				return nil
			}
			d.outbox = append(d.outbox, replies...)
			return nil
		})
		if err != nil {
			d.t.Fatal(err)
		}
	}
}

func (d *fakeDev) replica() *Replica {
	var r *Replica
	if err := d.db.View(func(tx *bolt.Tx) (err error) { r, err = Load(tx); return err }); err != nil {
		d.t.Fatal(err)
	}
	return r
}

func (d *fakeDev) status() Status {
	var st Status
	if err := d.db.View(func(tx *bolt.Tx) (err error) { st, err = ReadStatus(tx); return err }); err != nil {
		d.t.Fatal(err)
	}
	return st
}

// copyFixture copies the named files of testdata/fixtures/app into a new
// folder.
func copyFixture(t testing.TB, appName string, files ...string) string {
	dir := filepath.Join(t.TempDir(), appName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", appName, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func location(t testing.TB, appName, dir string) app.Location {
	l, err := app.ParseLocation(appName + ":" + dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func appRows(t testing.TB, l app.Location) *Rows {
	m, _, err := l.Read(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return RowsOf(m)
}

// group is devices on one net, each with its apps.
type group struct {
	net     *net
	members []string
	devs    []*fakeDev
	syncers []*Syncer
}

func newGroup(t testing.TB, seed uint64, apps ...[]app.Location) *group {
	g := &group{net: &net{rng: rand.New(rand.NewPCG(seed, 1))}}
	for i, locs := range apps {
		self := fmt.Sprintf("DEV%02d", i)
		g.members = append(g.members, self)
		d := newFakeDev(t, g.net, self, &g.members)
		g.devs = append(g.devs, d)
		g.syncers = append(g.syncers, &Syncer{Dev: d, Apps: locs, Log: func(s string) { t.Log(self + ": " + s) }})
	}
	return g
}

// settle runs steps, sends and deliveries with a reliable net until
// nothing moves.
func (g *group) settle(t testing.TB) {
	g.net.loss, g.net.dup = 0, 0
	for range 20 {
		for i, d := range g.devs {
			g.syncers[i].Step()
			d.flush()
		}
		for _, d := range g.devs {
			d.deliver()
		}
		quiet := true
		for _, d := range g.devs {
			if len(d.outbox) > 0 {
				quiet = false
			}
		}
		if quiet {
			// One more round of steps: nothing may be sent.
			for i, d := range g.devs {
				g.syncers[i].Step()
				if len(d.outbox) > 0 {
					quiet = false
				}
			}
		}
		if quiet {
			return
		}
	}
	t.Fatal("the group did not settle in 20 rounds")
}
