// Package device is one KeySync device: its own identity and keys, its
// store, and the fsm machine it runs (doc/protocol.md §10–§15).
//
// A Device turns events into messages. The caller (the agent) hands it
// what the channel delivered (Receive), the user's answers (User) and the
// passing of time (Tick), and sends what Outbox holds. Each of these is
// one transaction of the device store: the machine's state, variables and
// I/O buffer, timers, rate-limit clocks, keys, the channel position and
// the outbox are written together, so a device killed at any moment
// restarts where it was. Sealed messages wait in the outbox until the
// caller confirms them sent (Sent); a message re-sent after a crash is
// recognised by its hash and handled once.
//
// Whom a message is encrypted to and whether a received one is accepted
// is decided by the fsm's policy (fsm.Recipients, fsm.Accept,
// fsm.AcceptKeyReset); the device carries it out through its Codec.
package device

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/wire"
)

// Options are a device's collaborators.
type Options struct {
	Codec  Codec                    // required
	Clock  fsm.Clock                // nil: the system clock
	Log    func(string)             // what the device does; never a secret
	NewTID func() (wire.TID, error) // nil: random UUIDv4
	// Extension handles the group's trustsync messages; nil drops them.
	Extension Extension
	// ReadOnly opens the store only to read it, as status does: nothing is
	// written to it, and every event the device would handle fails.
	ReadOnly bool
}

// seenMax bounds the hashes of handled messages a device remembers.
const seenMax = 4096

// signalsMax bounds the notifications kept for status.
const signalsMax = 32

// Device is one KeySync device. Its methods are safe for concurrent use.
type Device struct {
	mu    sync.Mutex
	home  string
	db    *bolt.DB
	codec Codec
	clock fsm.Clock
	log   func(string)
	model *fsm.FSM
	ext   Extension

	core *fsm.Core
	mach *fsm.Machine
	keys *Keyring
	st   *state // the committed state, for rollback

	inbound *Inbound // the message being posted, for member keys
	pending *state   // the transaction under way
	txlog   []string // its log lines
	sent    int      // messages transmitted, for the rate-limit log
	wake    chan struct{}
	// parsed remembers the public keys parsed from attachments, by the
	// hash of their text: every group message carries the device keys of
	// all members, and parsing one (its self-signatures verified) costs
	// more than opening the message, so without it the cost of a message
	// grew with the group.
	parsed map[[32]byte]Key
	// saved is what the store holds, encoded: commit writes only the
	// records that changed.
	saved map[string][]byte
}

// parsedMax bounds the attached keys a device remembers parsed.
const parsedMax = 4096

// parseKey is Codec.ParseKey for attached public keys, remembered.
func (d *Device) parseKey(a string) (Key, error) {
	h := sha256.Sum256([]byte(a))
	if k, ok := d.parsed[h]; ok {
		return k, nil
	}
	k, err := d.codec.ParseKey(a)
	if err != nil {
		return k, err
	}
	k.Secret = ""
	if d.parsed == nil || len(d.parsed) >= parsedMax {
		d.parsed = map[[32]byte]Key{}
	}
	d.parsed[h] = k
	return k, nil
}

// Create makes a new device in home for the own identity address: the
// folder (mode 0700), the store (0600), the own key and the device key.
func Create(home, address, name string, codec Codec) error {
	address = strings.TrimSpace(address)
	if address == "" || !strings.Contains(address, "@") {
		return fmt.Errorf("address %q: want a mail address", address)
	}
	db, err := openDB(home, openCreate)
	if err != nil {
		return err
	}
	if err := create(db, address, name, codec); err != nil {
		// Not a device: the store it made goes.
		db.Close()
		os.Remove(filepath.Join(home, DBFile))
		return err
	}
	return db.Close()
}

// create writes a new device's keys into db.
func create(db *bolt.DB, address, name string, codec Codec) error {
	own, err := codec.NewKey(address, name)
	if err != nil {
		return err
	}
	dev, err := codec.NewKey(address, strings.TrimSpace(name+" device key"))
	if err != nil {
		return err
	}
	k := &Keyring{Address: address, Name: name, Default: own.Fpr, Device: dev.Fpr, Keys: map[string]*Rec{},
		Members: map[string]bool{}}
	k.add(own).Own = true
	k.add(dev)
	_, err = save(db, &state{Keys: k, Machine: fsm.MachineState{Stopped: true}}, nil)
	return err
}

// Open opens the device in home. Only one process can have it open.
func Open(home string, o Options) (*Device, error) {
	if o.Codec == nil {
		return nil, errors.New("device.Open: no codec")
	}
	if o.Clock == nil {
		o.Clock = fsm.SystemClock{}
	}
	if o.NewTID == nil {
		o.NewTID = randomTID
	}
	mode := openWrite
	if o.ReadOnly {
		mode = openRead
	}
	db, err := openDB(home, mode)
	if err != nil {
		return nil, err
	}
	d := &Device{home: home, db: db, codec: o.Codec, clock: o.Clock, log: o.Log, model: fsm.Embedded().KeySync(),
		ext: o.Extension, wake: make(chan struct{}, 1)}
	d.core = fsm.NewCore(fsm.Config{FSM: d.model, Keys: keyStore{d}, Out: transmitter{d}, NewTID: o.NewTID,
		Clock: o.Clock, Notify: d.notify, Log: func(s string) { d.logf("%s", s) }})
	d.mach = fsm.NewMachine(d.model, driven{d.core, d}, o.Clock)
	path := filepath.Join(home, DBFile)
	s, err := loadFile(db, path)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := d.restore(s); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Close closes the store.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.db.Close()
}

func (d *Device) restore(s *state) error {
	if err := d.mach.Restore(s.Machine); err != nil {
		return err
	}
	if err := d.core.Restore(s.Core); err != nil {
		return err
	}
	d.keys = s.Keys.clone()
	d.st = s
	return nil
}

// logf logs a line; inside a transaction the lines wait for its end, so
// that the log tells what was committed.
func (d *Device) logf(format string, a ...any) {
	if d.log == nil {
		return
	}
	line := fmt.Sprintf(format, a...)
	if d.pending != nil {
		d.txlog = append(d.txlog, line)
		return
	}
	d.log(line)
}

// endLog emits the lines of a transaction, marked when it was undone.
func (d *Device) endLog(err error) {
	lines := d.txlog
	d.txlog = nil
	if d.log == nil {
		return
	}
	for _, l := range lines {
		if err != nil {
			l = "(undone) " + l
		}
		d.log(l)
	}
	if err != nil {
		d.log("transaction undone: " + err.Error())
	}
}

func randomTID() (wire.TID, error) {
	var t wire.TID
	if _, err := rand.Read(t[:]); err != nil {
		return t, err
	}
	t[6] = t[6]&0x0f | 0x40
	t[8] = t[8]&0x3f | 0x80
	return t, nil
}

// txn runs f on the device and commits what it changed as one transaction,
// with the next channel position pos ("" keeps it). If f or the commit
// fails, the device goes back to its last committed state.
func (d *Device) txn(pos string, f func(next *state) error) error {
	next := &state{Position: d.st.Position, Outbox: slices.Clone(d.st.Outbox), Seen: slices.Clone(d.st.Seen),
		Signals: slices.Clone(d.st.Signals)}
	if pos != "" {
		next.Position = pos
	}
	d.pending = next
	err := f(next)
	if err == nil {
		err = d.commit(next)
	}
	d.pending = nil
	d.endLog(err)
	if next.tx != nil { // f failed before the commit took the transaction
		_ = next.tx.Rollback()
		next.tx = nil
	}
	if err != nil {
		if rerr := d.restore(d.st); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return nil
}

func (d *Device) commit(next *state) error {
	var err error
	if next.Machine, err = d.mach.Snapshot(); err != nil {
		return err
	}
	if next.Core, err = d.core.Snapshot(); err != nil {
		return err
	}
	next.Keys = d.keys.clone()
	saved, err := save(d.db, next, d.saved)
	if err != nil {
		return err
	}
	d.st, d.saved = next, saved
	d.keys = next.Keys.clone()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// Changed returns a channel that receives a value after a transaction
// committed: the outbox or the timers may have changed.
func (d *Device) Changed() <-chan struct{} { return d.wake }

// Start starts the machine of a new device (InitState, Init: a Beacon goes
// out). A device restored from its store goes on where it was; one whose
// sync was switched off stays off.
func (d *Device) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mach.State() != "" {
		return nil
	}
	return d.txn("", func(*state) error {
		d.logf("starting sync")
		err := d.mach.Start()
		return errors.Join(err, d.run())
	})
}

// run processes the machine's queue and stops it once sync is off.
func (d *Device) run() error {
	if err := d.mach.Run(); err != nil {
		d.logf("handler aborted: %v", err)
	}
	if d.keys.Disabled && d.mach.Running() {
		d.mach.Stop()
	}
	return nil
}

// Receive handles the message data the channel delivered at position pos.
// A message that cannot be read, is not for this device or is refused by
// the policy is dropped and logged; Receive fails only when the store does.
func (d *Device) Receive(pos string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.txn(pos, func(next *state) error {
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:16])
		if slices.Contains(next.Seen, h) {
			d.logf("at %s: dropped a message handled before", pos)
			return nil
		}
		d.logf("handled %s", pos)
		next.Seen = append(next.Seen, h)
		if len(next.Seen) > seenMax {
			next.Seen = slices.Delete(next.Seen, 0, len(next.Seen)-seenMax)
		}
		if err := d.receive(data); err != nil {
			d.logf("at %s: dropped: %v", pos, err)
		}
		return d.run()
	})
}

// receive is the receive pipeline of doc/protocol.md §10.4.
func (d *Device) receive(data []byte) error {
	if !d.mach.Running() {
		return errors.New("sync is off")
	}
	in, err := d.codec.Open(data, d.keys)
	if err != nil {
		return err
	}
	if !strings.EqualFold(in.From, d.keys.Address) {
		return fmt.Errorf("from %q, not the own address", in.From)
	}
	if in.Signer == "" {
		return errors.New("unsigned")
	}
	for _, a := range in.Public {
		key, err := d.parseKey(a)
		if err != nil {
			return fmt.Errorf("attached public key: %w", err)
		}
		key.Secret = ""
		d.keys.add(key)
	}
	switch in.Kind {
	case KindSync:
		sm, _, err := wire.UnmarshalSync(in.Payload)
		if err != nil {
			return err
		}
		m, ok := sm.(wire.Message)
		if !ok {
			return errors.New("not a KeySync message")
		}
		ev := fsm.MessageEvent(m, in.From, in.Signer)
		ev.Encrypted = in.Encrypted
		ev.Attached = in.Secret
		ev.Encrypted = in.Encrypted // fsm.Accept refuses a message in clear where its context needs encryption
		d.inbound = &in
		d.mach.Post(ev)
		err = d.mach.Run()
		d.inbound = nil
		if err != nil {
			d.logf("handler aborted: %v", err)
		}
		return nil
	case KindDistribution:
		dm, _, err := wire.UnmarshalDistribution(in.Payload)
		if err != nil {
			return err
		}
		cmd, ok := dm.(*wire.Commands)
		if !ok {
			return errors.New("distribution message other than KeyReset")
		}
		if !in.Encrypted {
			return errors.New("key reset in clear")
		}
		return d.receiveKeyReset(cmd, in)
	case KindTrustSync:
		return d.receiveExtension(in)
	}
	return fmt.Errorf("payload kind %q", in.Kind)
}

// User hands the machine an event of the user or the app: Accept, Reject,
// Cancel or LeaveDeviceGroup (doc/protocol.md §15.3–15.4).
func (d *Device) User(event string) error {
	switch event {
	case "Accept", "Reject", "Cancel", "LeaveDeviceGroup", "CannotDecrypt", "KeyGen":
	default:
		return fmt.Errorf("unknown event %q", event)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.mach.Running() {
		return errors.New("sync is off on this device")
	}
	if event == "LeaveDeviceGroup" && !d.keys.Grouped {
		return errors.New("not in a group")
	}
	return d.txn("", func(*state) error {
		d.logf("user: %s in %s", event, d.mach.State())
		ev := fsm.Event{Name: event}
		if event == "Accept" || event == "Reject" || event == "Cancel" {
			ev.Identities = []wire.Identity{d.identity()}
		}
		d.mach.Post(ev)
		return d.run()
	})
}

// Tick fires the state timer and releases rate-limited messages that are
// due. It writes to the store only when something was due.
func (d *Device) Tick() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	dl, ok1 := d.mach.Deadline()
	rel, ok2 := d.core.NextRelease()
	if !(ok1 && !now.Before(dl)) && !(ok2 && !now.Before(rel)) {
		return nil
	}
	return d.txn("", func(*state) error {
		d.mach.Tick()
		if err := d.core.Flush(d.mach.State()); err != nil {
			d.logf("releasing held messages: %v", err)
		}
		return d.run()
	})
}

// Next returns when Tick has something to do: the state timer or the
// release of a rate-limited message.
func (d *Device) Next() (t time.Time, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl, ok1 := d.mach.Deadline()
	rel, ok2 := d.core.NextRelease()
	switch {
	case ok1 && ok2:
		if rel.Before(dl) {
			return rel, true
		}
		return dl, true
	case ok1:
		return dl, true
	case ok2:
		return rel, true
	}
	return t, false
}

// Outbox returns the messages waiting to be sent, oldest first.
func (d *Device) Outbox() []Pending {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.st.Outbox)
}

// Sent removes the message id from the outbox once the channel took it.
func (d *Device) Sent(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.txn("", func(next *state) error {
		next.Outbox = slices.DeleteFunc(next.Outbox, func(p Pending) bool { return p.ID == id })
		return nil
	})
}

// Position returns the channel position after the last handled message.
func (d *Device) Position() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.Position
}

// identity is the own identity as the wire carries it.
func (d *Device) identity() wire.Identity { return d.identityWith(d.keys.Default) }

func (d *Device) identityWith(fpr string) wire.Identity {
	return wire.Identity{Address: d.keys.Address, Fpr: fpr, UserID: "pEp_own_userId", Username: d.keys.Name,
		CommType: 0xff, Lang: "en"}
}

// notify records a notification.
func (d *Device) notify(s fsm.Signal) {
	d.logf("notify: %s", SignalName(s))
	if d.pending != nil {
		d.pending.Signals = append(d.pending.Signals, Note{Signal: s, Time: d.clock.Now()})
		if n := len(d.pending.Signals); n > signalsMax {
			d.pending.Signals = slices.Delete(d.pending.Signals, 0, n-signalsMax)
		}
	}
}

// queue seals out and puts it in the outbox of the transaction.
func (d *Device) queue(out Outbound, what string) error {
	data, err := d.codec.Seal(out, d.keys)
	if err != nil {
		return fmt.Errorf("sealing %s: %w", what, err)
	}
	if d.pending == nil {
		return errors.New("send outside a transaction")
	}
	sum := sha256.Sum256(data)
	d.pending.Outbox = append(d.pending.Outbox, Pending{ID: hex.EncodeToString(sum[:8]), What: what, Data: data})
	enc := "in clear"
	if len(out.EncryptTo) > 0 {
		enc = "to " + strings.Join(shorts(out.EncryptTo), ",")
	}
	d.logf("send %s signed by %s, %s", what, short(out.Signer), enc)
	return nil
}

func shorts(fprs []string) []string {
	out := make([]string, len(fprs))
	for i, f := range fprs {
		out[i] = short(f)
	}
	return out
}

// groupContext reports whether sec is a context whose messages only the
// group's devices accept (signed by an own listed key).
func groupContext(sec fsm.Security) bool {
	return sec == fsm.Trusted || sec == fsm.AttachOwnKeysForNewMember || sec == fsm.AttachOwnKeysForGroup
}

// transmitter is the device's fsm.Channel: it seals what the fsm decided.
type transmitter struct{ d *Device }

// Transmit implements fsm.Channel.
func (t transmitter) Transmit(o fsm.Outgoing) error {
	d := t.d
	payload, err := wire.MarshalSync(o.Msg)
	if err != nil {
		return err
	}
	out := Outbound{Address: d.keys.Address, Kind: KindSync, Payload: payload, Security: o.Decl.Security,
		Signer: o.Signer, EncryptTo: o.EncryptTo, Secret: o.Attached}
	if groupContext(o.Decl.Security) {
		// The device keys of doc/protocol.md §18.1 travel inside the group:
		// a leaver names only its own, everyone else all it knows.
		out.Devices = []string{d.keys.Device}
		if o.Msg.Kind() != wire.KindInitUnledGroupKeyReset {
			for _, m := range d.keys.MemberKeys() {
				if m != d.keys.Device {
					out.Devices = append(out.Devices, m)
				}
			}
		}
	}
	d.sent++
	return d.queue(out, o.Decl.Name)
}

// driven is the fsm.Device the machine drives: the core, with the device
// learning the group's device keys from accepted group messages.
type driven struct {
	*fsm.Core
	d *Device
}

var _ fsm.Observer = driven{}

// Load implements fsm.Device.
func (v driven) Load(ev fsm.Event, inNegotiation bool) bool {
	ok := v.Core.Load(ev, inNegotiation)
	in := v.d.inbound
	if !ok || ev.Msg == nil || in == nil {
		return ok
	}
	decl := v.d.model.MessageOf(ev.Msg.Kind())
	if decl == nil || !groupContext(decl.Security) {
		return ok
	}
	k := v.d.keys
	leaving := ev.Msg.Kind() == wire.KindInitUnledGroupKeyReset
	for _, a := range in.Devices {
		key, err := v.d.parseKey(a)
		if err != nil || key.Fpr == k.Device {
			continue
		}
		if r := k.rec(key.Fpr); r != nil && (r.Own || r.Revoked) {
			continue
		}
		key.Secret = ""
		k.add(key)
		switch {
		case leaving:
			if k.Left == nil {
				k.Left = map[string]bool{}
			}
			k.Left[key.Fpr] = true
			delete(k.Members, key.Fpr)
			v.d.logf("device %s leaves the group", short(key.Fpr))
		case !k.Left[key.Fpr] && !k.Members[key.Fpr]:
			k.Members[key.Fpr] = true
			v.d.logf("device key %s is a group member", short(key.Fpr))
		}
	}
	return ok
}

// Send implements fsm.Device, logging what a rate limit holds back (D9).
func (v driven) Send(decl *fsm.Message) error {
	before, sent := v.Core.Deferred(), v.d.sent
	err := v.Core.Send(decl)
	switch {
	case err != nil:
	case v.Core.Deferred() > before:
		v.d.logf("held back %s by its rate limit of %d s (D9)", decl.Name, decl.RateLimit)
	case v.d.sent == sent && decl.RateLimit > 0:
		v.d.logf("%s is waiting for its rate limit already (D9)", decl.Name)
	}
	return err
}

// Transition implements fsm.Observer.
func (v driven) Transition(from, event, to string) {
	if from != to {
		v.d.logf("state %s -> %s on %s", orNone(from), to, event)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
