package device

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/keysync/keysync/fsm"
)

// The device store: one bbolt database per device, DBFile in the home
// folder. Bucket "device" holds the records below as JSON; every handled
// event rewrites them in one transaction.

// DBFile is the name of the device database in the home folder.
const DBFile = "device.db"

var bucket = []byte("device")

// record keys
const (
	recVersion  = "version"
	recMachine  = "machine"
	recCore     = "core"
	recKeys     = "keys"
	recPosition = "position"
	recOutbox   = "outbox"
	recSeen     = "seen"
	recSignals  = "signals"
)

const storeVersion = "1"

// state is everything a device persists.
type state struct {
	Machine  fsm.MachineState `json:"machine"`
	Core     fsm.CoreState    `json:"core"`
	Keys     *Keyring         `json:"keys"`
	Position string           `json:"position"`
	Outbox   []Pending        `json:"outbox"`
	Seen     []string         `json:"seen"`    // hashes of recently handled messages, oldest first
	Signals  []Note           `json:"signals"` // recent notifications, oldest first
	// tx, when set, is the store transaction an Extension wrote in; save
	// writes the state into it and commits it.
	tx *bolt.Tx
}

// Pending is a sealed message waiting to go out on the channel.
type Pending struct {
	ID   string `json:"id"`
	What string `json:"what"` // the message's name, for logs
	Data []byte `json:"data"`
}

// Note is a notification the device showed.
type Note struct {
	Signal fsm.Signal `json:"signal"`
	Time   time.Time  `json:"time"`
}

// ErrNoDevice is wrapped by the error of Open for a home folder that holds
// no device store.
var ErrNoDevice = errors.New("no device here")

// ErrExists is wrapped by the error of Create when the home folder has a
// device.
var ErrExists = errors.New("a device exists here already")

// ErrNotStore is wrapped by the error of Open and Create for a device.db
// that is not a keysync device store: an empty file, not a bbolt database,
// a damaged one, or one without a device in it. The error names the file
// and says what to do.
var ErrNotStore = errors.New("not a keysync device store")

// Advice for a device.db that is not a store.
const (
	adviceNothing = "it holds nothing, so remove it (or move it away) and run keysync init"
	adviceMove    = "move it away (restore the device from a backup, or run keysync init to make a new one, with new keys)"
)

// notStore is the error for the file path that is not a device store:
// what it is, and advice.
func notStore(path, what, advice string) error {
	return fmt.Errorf("%s: %w: %s; %s", path, ErrNotStore, what, advice)
}

// openMode is how openDB opens a store.
type openMode int

const (
	openWrite  openMode = iota // an existing store, to read and write
	openRead                   // an existing store, only to read: nothing is written, not even its mode
	openCreate                 // a new store: the folder and the file are made
)

// openDB opens the database of home, which must be a folder only its
// owner can open. A store opened with openRead is opened read-only, so
// that reading it never writes to it (bbolt writes a new database into an
// empty file). A file that is not a store (see checkFile) is refused
// with an error wrapping ErrNotStore, before bbolt reads it.
func openDB(home string, mode openMode) (db *bolt.DB, err error) {
	path := filepath.Join(home, DBFile)
	if mode == openCreate {
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(path); err == nil {
			return nil, existing(home)
		}
		// O_EXCL: of two inits at once, one makes the store and the
		// other is told it exists (not inspected: it is still being
		// written), and neither touches the other's.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: %w (another keysync init made it just now)", path, ErrExists)
		}
		if err != nil {
			return nil, err
		}
		f.Close()
	} else if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (run keysync init --home %s --address ADDR)", home, ErrNoDevice, home)
	}
	fi, err := os.Stat(home)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if mode != openCreate {
			return nil, fmt.Errorf("%s: mode %o: the home folder must be open to its owner only (chmod 700)", home, fi.Mode().Perm())
		}
		if err := os.Chmod(home, 0o700); err != nil {
			return nil, err
		}
	}
	if mode != openCreate {
		if err := checkFile(path); err != nil {
			return nil, err
		}
	}
	// checkFile catches a truncated file, but bbolt panics (or faults on
	// its memory map) on other damage it finds in the pages.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, notStore(path, fmt.Sprintf("damaged (%v)", r), adviceMove)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: mode == openRead})
	if err != nil {
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, fmt.Errorf("%s: the device is in use (is its agent running?)", path)
		case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum):
			return nil, notStore(path, "not a bbolt database", adviceMove)
		case errors.Is(err, bolterrors.ErrVersionMismatch):
			return nil, notStore(path, "a bbolt database of another version", adviceMove)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if mode == openRead {
		return db, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// existing is the error of Create for home, which has a device.db: ErrExists
// if it is a device store, else why it is not one, as Open says it.
func existing(home string) error {
	path := filepath.Join(home, DBFile)
	db, err := openDB(home, openRead)
	if err == nil {
		_, err = loadFile(db, path)
		db.Close()
	}
	if errors.Is(err, ErrNotStore) {
		return err
	}
	return fmt.Errorf("%s: %w (keysync status --home %s shows it)", path, ErrExists, home)
}

// The meta page of a bbolt database (go.etcd.io/bbolt internal/common
// meta.go): after the page header, the magic number, the format version,
// the page size, flags, the root bucket, the freelist page, the high-water
// page id, the transaction id and an FNV-64a checksum of what precedes it.
const (
	boltHeader   = 16 // the page header before the meta
	boltMetaSize = 64
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
	boltNoFree   = ^uint64(0)
)

// boltMeta is a valid meta page's page size, high-water page id and
// transaction id.
type boltMeta struct {
	pageSize     uint32
	pgid, txid   uint64
	root, freeID uint64
}

// parseMeta reads the meta page in b; ok is false if it is not one.
func parseMeta(b []byte) (m boltMeta, ok bool) {
	if len(b) < boltHeader+boltMetaSize {
		return m, false
	}
	b = b[boltHeader : boltHeader+boltMetaSize]
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if e.Uint32(b[0:]) != boltMagic || e.Uint32(b[4:]) != boltVersion || e.Uint64(b[56:]) != h.Sum64() {
		return m, false
	}
	m = boltMeta{pageSize: e.Uint32(b[8:]), root: e.Uint64(b[16:]), freeID: e.Uint64(b[32:]), pgid: e.Uint64(b[40:]), txid: e.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0 {
		return m, false
	}
	return m, true
}

// checkFile checks, before bbolt reads it, that path can be a device
// store: not empty, a bbolt database, and as long as its newest meta page
// says (bbolt panics on a truncated file).
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notStore(path, "not a regular file", adviceMove)
	}
	size := fi.Size()
	if size == 0 {
		return notStore(path, "the file is empty", adviceNothing)
	}
	var metas []boltMeta
	head := make([]byte, boltHeader+boltMetaSize)
	if _, err := f.ReadAt(head, 0); err == nil {
		if m, ok := parseMeta(head); ok {
			metas = append(metas, m)
		}
	}
	// The second meta page is one page further; its size is the first
	// one's, or, if that one is damaged, the usual 4 KiB.
	second := int64(4096)
	if len(metas) > 0 {
		second = int64(metas[0].pageSize)
	}
	if _, err := f.ReadAt(head, second); err == nil {
		if m, ok := parseMeta(head); ok {
			metas = append(metas, m)
		}
	}
	if len(metas) == 0 {
		return notStore(path, "not a bbolt database", adviceMove)
	}
	// bbolt uses the meta page of the newest transaction.
	m := metas[0]
	if len(metas) == 2 && metas[1].txid > m.txid {
		m = metas[1]
	}
	if m.pgid < 2 || m.root >= m.pgid || m.freeID != boltNoFree && m.freeID >= m.pgid {
		return notStore(path, "damaged (its meta page is inconsistent)", adviceMove)
	}
	if need := m.pgid * uint64(m.pageSize); need > uint64(size) {
		return notStore(path, fmt.Sprintf("truncated: %d bytes, and its database needs %d", size, need), adviceMove)
	}
	return nil
}

// save writes s in one transaction. Records whose encoding equals the
// one in prev (what the last save wrote, nil for none) are not written
// again. It returns what it wrote, for the next save.
func save(db *bolt.DB, s *state, prev map[string][]byte) (map[string][]byte, error) {
	recs := map[string]any{recVersion: storeVersion, recMachine: s.Machine, recCore: s.Core, recKeys: s.Keys,
		recPosition: s.Position, recOutbox: s.Outbox, recSeen: s.Seen, recSignals: s.Signals}
	enc := map[string][]byte{}
	for k, v := range recs {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", k, err)
		}
		enc[k] = b
	}
	put := func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for k, v := range enc {
			if old, ok := prev[k]; ok && bytes.Equal(old, v) {
				continue
			}
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	}
	if s.tx != nil {
		tx := s.tx
		s.tx = nil
		if err := put(tx); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
		return enc, tx.Commit()
	}
	return enc, db.Update(put)
}

// loadFile reads the state of the store at path: load, its errors naming
// the file. A database without the device's records is not a store
// (ErrNotStore); one with a record missing or unreadable is a damaged one.
func loadFile(db *bolt.DB, path string) (s *state, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, notStore(path, fmt.Sprintf("damaged (%v)", r), adviceMove)
		}
	}()
	s, err = load(db)
	var d damaged
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, errNoBucket):
		empty := true
		_ = db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		})
		if empty {
			return nil, notStore(path, "a database with nothing in it (a keysync init that did not finish?)", adviceNothing)
		}
		return nil, notStore(path, "a bbolt database without a keysync device in it", adviceMove)
	case errors.As(err, &d):
		return nil, notStore(path, "damaged: "+d.what, adviceMove)
	}
	return nil, fmt.Errorf("%s: %w", path, err)
}

// errNoBucket is load's error for a database without the device bucket.
var errNoBucket = errors.New("no device bucket")

// damaged is load's error for a store with a record missing or unreadable.
type damaged struct{ what string }

func (d damaged) Error() string { return "device store: " + d.what }

// load reads the state.
func load(db *bolt.DB) (*state, error) {
	s := &state{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return errNoBucket
		}
		var version string
		recs := map[string]any{recVersion: &version, recMachine: &s.Machine, recCore: &s.Core, recKeys: &s.Keys,
			recPosition: &s.Position, recOutbox: &s.Outbox, recSeen: &s.Seen, recSignals: &s.Signals}
		for _, k := range []string{recVersion, recMachine, recCore, recKeys, recPosition, recOutbox, recSeen, recSignals} {
			raw := b.Get([]byte(k))
			if raw == nil {
				return damaged{"record " + k + " missing"}
			}
			if err := json.Unmarshal(raw, recs[k]); err != nil {
				return damaged{fmt.Sprintf("record %s: %v", k, err)}
			}
			if k == recVersion && version != storeVersion {
				return fmt.Errorf("device store: version %q, want %q (made by another keysync version)", version, storeVersion)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.Keys == nil || s.Keys.Keys == nil {
		return nil, damaged{"no keyring"}
	}
	if s.Keys.Members == nil {
		s.Keys.Members = map[string]bool{}
	}
	return s, nil
}
