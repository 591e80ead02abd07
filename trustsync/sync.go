package trustsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/internal/atomicfile"
)

// App sync states, as status shows them.
const (
	StateInSync  = "in sync"
	StateWaiting = "waiting for the app to exit"
	StateError   = "error"
	StateIdle    = "not grouped" // the device is in no group: nothing to sync
)

// AppStatus is one app's sync state.
type AppStatus struct {
	Source  string    `json:"source"` // APP:DIR
	State   string    `json:"state"`
	Process string    `json:"process,omitempty"` // the running program a write waits for
	Error   string    `json:"error,omitempty"`
	Time    time.Time `json:"time"`
}

// Status is the trust part of a device's status.
type Status struct {
	Synced       bool        `json:"synced"` // the device holds the group's replica
	Fingerprints int         `json:"fingerprints"`
	Keys         int         `json:"keys"`
	OpenPGPKeys  int         `json:"openpgp_keys"`
	Apps         []AppStatus `json:"apps"`
	Conflicts    []Conflict  `json:"conflicts"`
}

// ReadStatus reads the trust status from the device store.
func ReadStatus(tx *bolt.Tx) (Status, error) {
	st := Status{Apps: []AppStatus{}, Conflicts: []Conflict{}}
	b, err := root(tx)
	if err != nil || b == nil {
		return st, err
	}
	r, err := loadFrom(b)
	if err != nil {
		return st, err
	}
	st.Synced = string(b.Bucket(bMeta).Get([]byte(metaSynced))) == "1"
	st.Fingerprints, st.Keys, st.OpenPGPKeys = r.Rows()
	st.Conflicts = r.Conflicts()
	err = b.Bucket(bAppState).ForEach(func(_, v []byte) error {
		var a AppStatus
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		st.Apps = append(st.Apps, a)
		return nil
	})
	return st, err
}

// Status implements device.StatusReporter: the trust status as JSON.
func (s *Store) Status(tx *bolt.Tx) (json.RawMessage, error) {
	st, err := ReadStatus(tx)
	if err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

// Device is what a Syncer needs of a device (a *device.Device).
type Device interface {
	// Grouped reports whether the device is grouped, its device key and
	// the members' device keys.
	Grouped() (grouped bool, self string, members []string)
	View(func(*bolt.Tx) error) error
	Update(func(*bolt.Tx) error) error
	// SendExtension seals payloads to the group and queues them, with
	// update's writes in the same transaction.
	SendExtension(payloads [][]byte, update func(*bolt.Tx) error) error
}

var _ Device = (*device.Device)(nil)

// Syncer keeps a device's apps and the group's replica in sync: it reads
// the apps at start and when their files change, sends what changed, and
// writes what the group holds into them.
type Syncer struct {
	Dev  Device
	Apps []app.Location
	// Running says whether a's program is running, and under what name;
	// nil: never. A running app's files are not written: it would write
	// them again from memory.
	Running func(a app.App) (string, bool)
	Log     func(string)
	// Poll is how often apps are looked at without a file event (waiting
	// apps, the replica request); zero: 2 s.
	Poll time.Duration
	// Retry is how long a replica request waits for its answer before it
	// asks the next member; zero: 20 s.
	Retry time.Duration

	mu        sync.Mutex
	wake      chan struct{}
	self      string // the device key, while a Step runs
	source    string // the app a Step syncs
	requested time.Time
	attempt   int
	poll      bool // a Step has something to look at again without an event
}

func (s *Syncer) logf(format string, a ...any) {
	if s.Log != nil {
		s.Log(fmt.Sprintf("trustsync: "+format, a...))
	}
}

// Wake makes Run look at the apps now (after an applied update).
func (s *Syncer) Wake() {
	s.mu.Lock()
	w := s.wake
	s.mu.Unlock()
	if w == nil {
		return
	}
	select {
	case w <- struct{}{}:
	default:
	}
}

// Run syncs until ctx is done.
func (s *Syncer) Run(ctx context.Context) error {
	s.mu.Lock()
	s.wake = make(chan struct{}, 1)
	s.mu.Unlock()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	// Folders not watched yet (missing until the first write makes them)
	// are looked at every poll, and watched once they can be.
	var unwatched []app.Location
	watch := func(l app.Location, first bool) bool {
		if err := w.Add(l.Dir); err != nil {
			if first {
				s.logf("%s: not watched (%v); looked at every poll", l.Name, err)
			}
			return false
		}
		return true
	}
	for _, l := range s.Apps {
		if !watch(l, true) {
			unwatched = append(unwatched, l)
		}
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	// A file event waits until the folder has been quiet for quiet: an app
	// writing its file in several steps is read once it is done.
	const quiet = 200 * time.Millisecond
	var debounce <-chan time.Time
	s.Step()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events:
			if !ignored(ev.Name) {
				debounce = time.After(quiet)
			}
			continue
		case err := <-w.Errors:
			s.logf("watching: %v", err)
			continue
		case <-debounce:
			debounce = nil
		case <-s.wake:
		case <-tick.C:
			unwatched = slices.DeleteFunc(unwatched, func(l app.Location) bool { return watch(l, false) })
			if !s.poll && len(unwatched) == 0 {
				continue
			}
		}
		if debounce == nil {
			s.Step()
		}
	}
}

// ignored reports whether a file event is keysync's own (locks, journal,
// temporary files, backups).
func ignored(name string) bool {
	base := filepath.Base(name)
	return base == atomicfile.LockName || base == atomicfile.JournalName || strings.HasPrefix(base, ".") ||
		strings.Contains(base, ".keysync")
}

// Step looks at every app once: reads it, sends what it changed, writes
// what the group changed.
func (s *Syncer) Step() {
	grouped, self, _ := s.Dev.Grouped()
	s.poll = true // until this Step finds everything in sync
	if !grouped {
		// Out of the group (left, or not yet paired): a group joined later
		// sends its own replica, which replaces this one.
		var held bool
		_ = s.Dev.View(func(tx *bolt.Tx) error { held = ofAGroup(tx); return nil })
		if held {
			if err := s.Dev.Update(forget); err != nil {
				s.logf("forgetting the replica's group: %v", err)
			}
		}
		s.requested, s.attempt = time.Time{}, 0
		return
	}
	s.self = self
	var synced, waiting bool
	err := s.Dev.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(rootBucket); b != nil {
			synced = string(b.Bucket(bMeta).Get([]byte(metaSynced))) == "1"
			waiting = b.Bucket(bMeta).Get([]byte(metaWaiting)) != nil
		}
		return nil
	})
	if err != nil {
		s.logf("reading the replica: %v", err)
		return
	}
	retry := s.Retry
	if retry <= 0 {
		retry = 20 * time.Second
	}
	if !synced && (s.requested.IsZero() || time.Since(s.requested) > retry) {
		if !s.requested.IsZero() || waiting {
			s.attempt++
		}
		p, err := Encode(&Update{Request: &Request{Device: self, Attempt: s.attempt}})
		if err == nil {
			err = s.Dev.SendExtension([][]byte{p}, nil)
		}
		if err != nil {
			s.logf("requesting the replica: %v", err)
			return
		}
		s.requested = time.Now()
		s.logf("asked the group for its replica (attempt %d)", s.attempt)
	}
	s.poll = !synced
	for _, l := range s.Apps {
		s.source = l.Name
		st := s.syncApp(l, synced)
		if st.State != StateInSync {
			s.poll = true
		}
		if err := s.Dev.Update(func(tx *bolt.Tx) error {
			b, err := root(tx)
			if err != nil {
				return err
			}
			old := b.Bucket(bAppState).Get([]byte(l.Name))
			var prev AppStatus
			if old != nil && json.Unmarshal(old, &prev) == nil && prev.State == st.State && prev.Error == st.Error {
				return nil
			}
			v, _ := json.Marshal(st)
			return b.Bucket(bAppState).Put([]byte(l.Name), v)
		}); err != nil {
			s.logf("%s: recording its state: %v", l.Name, err)
		}
	}
}

// ofAGroup reports whether the replica is, or is becoming, a group's.
func ofAGroup(tx *bolt.Tx) bool {
	b := tx.Bucket(rootBucket)
	return b != nil && (b.Bucket(bMeta).Get([]byte(metaSynced)) != nil || b.Bucket(bMeta).Get([]byte(metaWaiting)) != nil)
}

// forget marks the replica as no group's: the next group's replica
// replaces it.
func forget(tx *bolt.Tx) error {
	if !ofAGroup(tx) {
		return nil
	}
	b := tx.Bucket(rootBucket)
	if err := b.Bucket(bMeta).Delete([]byte(metaSynced)); err != nil {
		return err
	}
	return b.Bucket(bMeta).Delete([]byte(metaWaiting))
}

// syncApp syncs one app and returns its state.
func (s *Syncer) syncApp(l app.Location, synced bool) AppStatus {
	st := AppStatus{Source: l.Name, State: StateInSync, Time: time.Now().UTC()}
	fail := func(err error) AppStatus {
		st.State, st.Error = StateError, err.Error()
		return st
	}
	// Locked from before reading until after writing, as convert does.
	lock, err := atomicfile.LockDirs([]string{l.Dir}, 0)
	if err != nil {
		return fail(err)
	}
	defer lock.Unlock()
	rep, err := atomicfile.Recover(l.Dir)
	if err != nil {
		return fail(err)
	}
	for _, m := range rep.Messages() {
		s.logf("%s: %s", l.Name, m)
	}
	seen := &app.Seen{}
	m, _, err := l.Read(nil, seen)
	if errors.Is(err, app.ErrNoStore) {
		m, err = &keysync.Model{}, nil
	}
	if err != nil {
		return fail(err)
	}
	rows := RowsOf(m)
	var r *Replica
	var base Base
	var applied uint64
	err = s.Dev.View(func(tx *bolt.Tx) error {
		var err error
		if r, err = Load(tx); err != nil {
			return err
		}
		applied = metaUint(tx, metaApplied)
		base, err = loadBase(tx, l.Name)
		return err
	})
	if err != nil {
		return fail(err)
	}
	u := Diff(rows, base, r, applied)
	if !u.empty() {
		if base, err = s.send(u, base); err != nil {
			return fail(err)
		}
		s.logf("%s: sent %d fingerprints, %d keys, %d OpenPGP keys", l.Name, len(u.Fprs), len(u.Keys), len(u.PGP))
	}
	if !synced {
		// Nothing of the group is written before the device holds its replica.
		return st
	}
	want, next, err := Project(m, rows, base, r, applied)
	if err != nil {
		return fail(err)
	}
	plan, _, err := l.App.Write(l.Dir, l.Name, want)
	if err != nil {
		return fail(err)
	}
	prep, err := plan.Prepare(seen, false)
	if err != nil {
		if changedSince(seen, plan) {
			return st // the app wrote meanwhile: read again at the next event
		}
		return fail(err)
	}
	changed := len(prep.Commands) > 0
	for _, c := range prep.Changes {
		if c.Op != atomicfile.Unchanged {
			changed = true
		}
	}
	if changed && s.Running != nil {
		if proc, ok := s.Running(l.App); ok {
			st.State, st.Process = StateWaiting, proc
			return st
		}
	}
	if changed {
		results, err := prep.Apply()
		if err != nil {
			if changedSince(seen, plan) {
				return st
			}
			return fail(err)
		}
		s.logf("%s: wrote what the group holds", l.Name)
		if err := s.Dev.Update(func(tx *bolt.Tx) error { return s.keepOneBackup(tx, results) }); err != nil {
			return fail(err)
		}
	}
	if err := s.Dev.Update(func(tx *bolt.Tx) error { return saveBase(tx, l.Name, next) }); err != nil {
		return fail(err)
	}
	return st
}

// keepOneBackup removes the backup trustsync's previous write of each file
// made, once a newer one is in place: a device syncing for months keeps one
// backup per file, not one per verification. Backups made by convert or
// sync are not trustsync's and stay.
func (s *Syncer) keepOneBackup(tx *bolt.Tx, results []app.FileResult) error {
	b, err := root(tx)
	if err != nil {
		return err
	}
	kb := b.Bucket(bBackups)
	for _, r := range results {
		if r.Backup == "" {
			continue
		}
		if old := kb.Get([]byte(r.Path)); old != nil && string(old) != r.Backup {
			if err := os.Remove(string(old)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.logf("removing the older backup %s: %v", old, err)
			}
		}
		if err := kb.Put([]byte(r.Path), []byte(r.Backup)); err != nil {
			return err
		}
	}
	return nil
}

// changedSince reports whether a file of plan changed since seen saw it.
func changedSince(seen *app.Seen, plan app.Plan) bool {
	for _, f := range plan.Files {
		v, err := atomicfile.VersionOf(f.Path)
		if err != nil || v != seen.Version(f.Path) {
			return true
		}
	}
	return false
}

// send sends u, split so that each message stays small, and records in
// the same transaction its rows as sent in l's base, which it returns.
func (s *Syncer) send(u *Update, base Base) (Base, error) {
	var payloads [][]byte
	var seq uint64
	err := s.Dev.View(func(tx *bolt.Tx) error { seq = metaUint(tx, metaSent); return nil })
	if err != nil {
		return nil, err
	}
	for _, part := range split(u) {
		seq++
		part.From, part.Seq = s.self, seq
		p, err := Encode(part)
		if err != nil {
			return nil, err
		}
		payloads = append(payloads, p)
		base = base.Sent(part, seq)
	}
	err = s.Dev.SendExtension(payloads, func(tx *bolt.Tx) error {
		b, err := root(tx)
		if err != nil {
			return err
		}
		if err := b.Bucket(bMeta).Put([]byte(metaSent), []byte(strconv.FormatUint(seq, 10))); err != nil {
			return err
		}
		return saveBase(tx, s.source, base)
	})
	return base, err
}

// metaUint reads a number of the meta bucket; 0 when absent.
func metaUint(tx *bolt.Tx, key string) uint64 {
	b := tx.Bucket(rootBucket)
	if b == nil {
		return 0
	}
	n, _ := strconv.ParseUint(string(b.Bucket(bMeta).Get([]byte(key))), 10, 64)
	return n
}

// split cuts u into updates of one kind of row each, halving any whose
// encoding exceeds ChunkSize, so that every message stays under
// channel.MaxSize once sealed.
func split(u *Update) []*Update {
	var out []*Update
	var cut func(part *Update, n int)
	cut = func(part *Update, n int) {
		if p, err := Encode(part); err != nil || len(p) <= ChunkSize || n < 2 {
			out = append(out, part)
			return
		}
		h := n / 2
		switch {
		case len(part.Fprs) > 0:
			cut(&Update{Fprs: part.Fprs[:h]}, h)
			cut(&Update{Fprs: part.Fprs[h:]}, n-h)
		case len(part.Keys) > 0:
			cut(&Update{Keys: part.Keys[:h]}, h)
			cut(&Update{Keys: part.Keys[h:]}, n-h)
		case len(part.PGP) > 0:
			cut(&Update{PGP: part.PGP[:h]}, h)
			cut(&Update{PGP: part.PGP[h:]}, n-h)
		default:
			cut(&Update{Resolve: part.Resolve[:h]}, h)
			cut(&Update{Resolve: part.Resolve[h:]}, n-h)
		}
	}
	if len(u.Fprs) > 0 {
		cut(&Update{Fprs: u.Fprs}, len(u.Fprs))
	}
	if len(u.Keys) > 0 {
		cut(&Update{Keys: u.Keys}, len(u.Keys))
	}
	if len(u.PGP) > 0 {
		cut(&Update{PGP: u.PGP}, len(u.PGP))
	}
	if len(u.Resolve) > 0 {
		cut(&Update{Resolve: u.Resolve}, len(u.Resolve))
	}
	return out
}

func loadBase(tx *bolt.Tx, source string) (Base, error) {
	base := Base{}
	b, err := root(tx)
	if err != nil || b == nil {
		return base, err
	}
	v := b.Bucket(bBases).Get([]byte(source))
	if v == nil {
		return base, nil
	}
	if err := json.Unmarshal(v, &base); err != nil {
		return nil, fmt.Errorf("trustsync store: base of %s: %w", source, err)
	}
	return base, nil
}

func saveBase(tx *bolt.Tx, source string, base Base) error {
	b, err := root(tx)
	if err != nil {
		return err
	}
	v, err := json.Marshal(base)
	if err != nil {
		return err
	}
	return b.Bucket(bBases).Put([]byte(source), v)
}

// Resolve sends the user's decision that fpr is account's key.
func Resolve(dev Device, account keysync.Account, fpr string) error {
	fpr = strings.ToLower(strings.ReplaceAll(fpr, " ", ""))
	var r *Replica
	if err := dev.View(func(tx *bolt.Tx) (err error) { r, err = Load(tx); return err }); err != nil {
		return err
	}
	acct := account.String()
	if _, ok := r.Keys[acct][fpr]; !ok {
		return fmt.Errorf("%s has no key %s in the replica", acct, fpr)
	}
	p, err := Encode(&Update{Resolve: []Resolution{{Account: acct, Fpr: fpr}}})
	if err != nil {
		return err
	}
	return dev.SendExtension([][]byte{p}, nil)
}
