package device

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// ErrNoDevice is returned when a home folder holds no device.
var ErrNoDevice = errors.New("no device here (run keysync init)")

// ErrExists is returned by Create when the home folder has a device.
var ErrExists = errors.New("a device exists here already")

// openDB opens the database of home, which must be a folder only its
// owner can open. create makes the folder and the database.
func openDB(home string, create bool) (*bolt.DB, error) {
	path := filepath.Join(home, DBFile)
	if create {
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("%s: %w", home, ErrExists)
		}
	} else if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", home, ErrNoDevice)
	}
	fi, err := os.Stat(home)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if !create {
			return nil, fmt.Errorf("%s: mode %o: the home folder must be open to its owner only (chmod 700)", home, fi.Mode().Perm())
		}
		if err := os.Chmod(home, 0o700); err != nil {
			return nil, err
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%s: the device is in use (is its agent running?)", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
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

// load reads the state.
func load(db *bolt.DB) (*state, error) {
	s := &state{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return ErrNoDevice
		}
		var version string
		recs := map[string]any{recVersion: &version, recMachine: &s.Machine, recCore: &s.Core, recKeys: &s.Keys,
			recPosition: &s.Position, recOutbox: &s.Outbox, recSeen: &s.Seen, recSignals: &s.Signals}
		for k, v := range recs {
			raw := b.Get([]byte(k))
			if raw == nil {
				return fmt.Errorf("device store: record %s missing", k)
			}
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("device store: record %s: %w", k, err)
			}
		}
		if version != storeVersion {
			return fmt.Errorf("device store: version %q, want %q", version, storeVersion)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.Keys == nil || s.Keys.Keys == nil {
		return nil, errors.New("device store: no keyring")
	}
	if s.Keys.Members == nil {
		s.Keys.Members = map[string]bool{}
	}
	return s, nil
}
