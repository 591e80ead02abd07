package device

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/fsm"
)

// Extension is a protocol that rides on the device group beside KeySync
// (trustsync, doc/protocol.md §19). Its messages are sealed in the trusted
// security context: encrypted to the group's key and signed by it, so a
// former member, whose keys the key reset replaced, reads none sent after
// its leave and cannot send one the others accept.
type Extension interface {
	// Apply handles the payload of an accepted message, handled at
	// channel position pos. Its writes (through tx) are committed with the
	// device's state and position in one transaction; replies are sealed
	// to the group and queued in the same transaction. An error drops the
	// message (logged); Apply must check a payload before writing anything.
	Apply(tx *bolt.Tx, at Event, payload []byte) (replies [][]byte, err error)
}

// StatusReporter is an Extension that adds to the device's status.
type StatusReporter interface {
	// Status returns the extension's status as JSON (Status.Trust).
	Status(tx *bolt.Tx) (json.RawMessage, error)
}

// Event is where an Extension's message was handled: its channel position,
// the own device key and the group's member device keys then.
type Event struct {
	Pos     string
	Self    string
	Members []string
}

// receiveExtension accepts an opened trustsync message only from the group:
// encrypted, on a grouped device, signed by a listed own key.
func (d *Device) receiveExtension(in Inbound) error {
	if d.ext == nil {
		return errors.New("trustsync message, and no trustsync here")
	}
	if !in.Encrypted {
		return errors.New("trustsync message in clear")
	}
	if !d.keys.Grouped {
		return errors.New("trustsync message on a device that is not grouped")
	}
	if ok, _ := (keyStore{d}).OwnKeyIsListed(in.Signer); !ok {
		return fmt.Errorf("trustsync message signed by %s, not a key of the group", short(in.Signer))
	}
	tx, err := d.extensionTx()
	if err != nil {
		return err
	}
	at := Event{Pos: d.pending.Position, Self: d.keys.Device, Members: d.keys.MemberKeys()}
	replies, err := d.ext.Apply(tx, at, in.Payload)
	if err != nil {
		return err
	}
	for _, p := range replies {
		if err := d.queueExtension(p); err != nil {
			return err
		}
	}
	return nil
}

// extensionTx returns the store transaction of the event under way,
// beginning it.
func (d *Device) extensionTx() (*bolt.Tx, error) {
	if d.pending == nil {
		return nil, errors.New("trustsync outside a transaction")
	}
	if d.pending.tx == nil {
		tx, err := d.db.Begin(true)
		if err != nil {
			return nil, err
		}
		d.pending.tx = tx
	}
	return d.pending.tx, nil
}

// SendExtension seals each payload to the group (trusted context, group
// key) and queues it in one transaction with what update writes. It fails
// on a device that is not grouped.
func (d *Device) SendExtension(payloads [][]byte, update func(tx *bolt.Tx) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.keys.Grouped {
		return errors.New("not in a device group")
	}
	return d.txn("", func(*state) error {
		for _, p := range payloads {
			if err := d.queueExtension(p); err != nil {
				return err
			}
		}
		if update == nil {
			return nil
		}
		tx, err := d.extensionTx()
		if err != nil {
			return err
		}
		return update(tx)
	})
}

func (d *Device) queueExtension(p []byte) error {
	own := d.keys.Default
	return d.queue(Outbound{Address: d.keys.Address, Kind: KindTrustSync, Payload: p, Security: fsm.Trusted,
		Signer: own, EncryptTo: fsm.Recipients(fsm.Trusted, own, "")}, "trustsync")
}

// View reads the device store.
func (d *Device) View(f func(tx *bolt.Tx) error) error { return d.db.View(f) }

// Update writes the device store in one transaction of its own.
func (d *Device) Update(f func(tx *bolt.Tx) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.db.Update(f)
}

// Grouped reports whether the device is in a device group, and its device
// key and the group's member device keys.
func (d *Device) Grouped() (grouped bool, self string, members []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keys.Grouped, d.keys.Device, d.keys.MemberKeys()
}
