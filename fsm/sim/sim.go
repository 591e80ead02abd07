// Package sim simulates KeySync devices on one shared channel, for scenario
// tests and a model check of the fsm package's model.
//
// A World holds N devices, each an fsm.Machine driving an fsm.Core with a
// fake key store. Sent messages wait in a pending set until the schedule
// orders them onto the channel; the channel is one log in a single total
// order, and every device, the sender included, receives every logged
// message in that order (D7). The schedule can also drop a pending message,
// log it and keep a copy pending (duplicate, re-delivery later), inject the
// users' Accept, Reject and Cancel, signal KeyGen, CannotDecrypt and
// LeaveDeviceGroup, and advance a virtual clock to the next timer.
//
// Keys are upper-case hex fprs. Each device starts with its own key; a
// message carries its signer, the keys it is encrypted to and the secret
// keys attached, all as the fsm's policy resolved them (fsm.Recipients). A
// receiver can read an envelope when it holds the secret key of one of its
// recipients; whether it accepts the message is the fsm's policy too
// (fsm.Accept, run by fsm.Core). The simulator makes no such decision.
//
// After every step the World checks invariants and records violations:
// see the Violation constants.
package sim

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/wire"
)

// Address is the own address all devices share as their channel.
const Address = "me@keysync.example"

// epoch is the virtual time at which every World starts.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Envelope is one message on the channel.
type Envelope struct {
	Sender      int          // index of the sending device (for invariants; devices see Signer)
	Signer      string       // fpr of the signing key
	Msg         wire.Message // nil for a key reset
	Decl        *fsm.Message
	EncryptedTo []string // nil: not encrypted
	Attached    []string // secret keys attached
	Reset       *KeyReset
	Stale       bool // a duplicate kept for re-delivery
	fp          string
}

// KeyReset is a Distribution key reset of the group key (doc/protocol.md §13.1),
// modelled outside the KeySync machine.
type KeyReset struct{ Old, New string }

// String describes e: kind, sender, signer, recipients, attached keys and fields.
func (e *Envelope) String() string {
	name := "KeyReset"
	if e.Msg != nil {
		name = e.Msg.Kind().String()
	}
	if e.Stale {
		name = "old " + name
	}
	return fmt.Sprintf("%s from %d by %.8s to %v attaching %v: %+v %+v", name, e.Sender, e.Signer, short(e.EncryptedTo), short(e.Attached), e.Msg, e.Reset)
}

func short(fprs []string) []string {
	out := make([]string, len(fprs))
	for i, f := range fprs {
		out[i] = f[:min(8, len(f))]
	}
	return out
}

// Violation kinds the World checks.
const (
	// KeysBeforeAccept: a device committed to exchange keys (entered
	// FormingGroupOfferer or JoiningGroup) or sent keys to a new member
	// without both users having accepted the current negotiation.
	KeysBeforeAccept = "keys-before-accept"
	// UnauthorizedImport: a device imported a secret key from a device it
	// is not linked to by mutual user acceptance (transitively).
	UnauthorizedImport = "unauthorized-import"
	// GroupKeysDiffer: two devices that completed a negotiation with each
	// other (or started as one group) are both Grouped but hold different
	// group keys once no message is in flight.
	GroupKeysDiffer = "group-keys-differ"
	// KeysAfterReject: a key passed between a sole device whose user
	// rejected and that negotiation's partner.
	KeysAfterReject = "keys-after-reject"
	// StrayBeacon: a device sent a Beacon outside InitState and Sole,
	// the states of a device that looks for a partner (a held one is
	// discarded once the device has left Sole, D9).
	StrayBeacon = "stray-beacon"
	// TimerMissing: a device is in a transitional state without a timer.
	TimerMissing = "timer-missing"
	// StuckTransitional: after the schedule ends and timers fire, a device
	// is still in a transitional state.
	StuckTransitional = "stuck-transitional"
)

// Violation is a broken invariant.
type Violation struct {
	Kind   string
	Detail string
}

// String gives the kind and the details.
func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// Device is one simulated device.
type Device struct {
	ID      int
	Machine *fsm.Machine
	Core    *fsm.Core
	Keys    *Keys

	cursor  int // next log index to receive
	rng     uint64
	Signals []fsm.Signal // notifications shown, in order
	Errors  []error      // aborted handlers

	accepted  map[wire.TID]bool // negotiations its user accepted
	acceptKey map[string]bool   // partner keys its user accepted
	completed map[int]bool      // devices it completed a negotiation with
	held      map[string]bool   // every secret key it ever held
	users     int               // user events injected
	// leftTransitional is set when the device enters a stable state.
	leftTransitional bool
	w                *World
}

// World is a simulation: devices, the channel and the virtual clock.
type World struct {
	Model   *fsm.FSM
	Now     time.Time
	Devices []*Device
	Pending []*Envelope // sent, not yet on the channel
	Log     []*Envelope // the channel, in its total order (received prefix trimmed)

	Violations []Violation
	rejects    map[[2]int]bool
	current    *Envelope // the envelope being processed
	Drops      int
	Dups       int
	Advances   int
	Signals    int // signalled events injected
}

// clock is the world's virtual clock as an fsm.Clock.
type clock struct{ w *World }

func (c clock) Now() time.Time { return c.w.Now }

// New returns a world of n sole devices running model (nil: the KeySync
// fsm of fsm.Embedded), not yet started. Seed makes the TIDs differ between
// worlds.
func New(model *fsm.FSM, n int, seed uint64) *World {
	if model == nil {
		model = fsm.Embedded().KeySync()
	}
	w := &World{Model: model, Now: epoch, rejects: map[[2]int]bool{}}
	for i := 0; i < n; i++ {
		d := &Device{ID: i, rng: seed*1000003 + uint64(i)*7919 + 1, w: w,
			accepted: map[wire.TID]bool{}, acceptKey: map[string]bool{}, completed: map[int]bool{}, held: map[string]bool{}}
		d.Keys = newKeys(d)
		d.wire()
		d.Machine = fsm.NewMachine(model, observed{d.Core, d}, clock{w})
		w.Devices = append(w.Devices, d)
	}
	return w
}

// Group makes the devices ids one device group with the first one's key
// as group key, as if they had formed it earlier. Call before Start.
func (w *World) Group(ids ...int) {
	if len(ids) == 0 {
		return
	}
	gk := w.Devices[ids[0]].Keys.Default
	for _, i := range ids {
		k := w.Devices[i].Keys
		k.Secret[gk], k.Trust[gk], k.Grouped = true, true, true
		if k.Default != gk {
			k.Revoked[k.Default] = true
		}
		k.Default = gk
		w.Devices[i].held[gk] = true
		for _, j := range ids {
			w.Devices[i].completed[j] = i != j
			w.Devices[i].acceptKey[w.Devices[j].Keys.Default] = true
		}
	}
}

// wire connects the device's core to its key store, channel and clock.
// A device copied by World.Clone still points at the original's core,
// whose variables are copied.
func (d *Device) wire() {
	cfg := fsm.Config{FSM: d.w.Model, Keys: d.Keys, Out: (*channel)(d), NewTID: d.newTID, Clock: clock{d.w}, Notify: d.notify}
	if d.Core != nil {
		d.Core = d.Core.Clone(cfg)
		return
	}
	d.Core = fsm.NewCore(cfg)
}

// observed is the fsm.Device the machine drives: the device's core, and
// the device observing the machine's state changes.
type observed struct {
	*fsm.Core
	d *Device
}

var (
	_ fsm.Observer = observed{}
	_ fsm.KeyStore = (*Keys)(nil)
	_ fsm.Channel  = (*channel)(nil)
)

// Transition implements fsm.Observer.
func (o observed) Transition(from, event, to string) { o.d.onTransition(from, event, to) }

func (d *Device) notify(s fsm.Signal) { d.Signals = append(d.Signals, s) }

// newTID is a deterministic TID source (splitmix64).
func (d *Device) newTID() (wire.TID, error) {
	var t wire.TID
	for i := 0; i < 2; i++ {
		d.rng += 0x9e3779b97f4a7c15
		z := d.rng
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := 0; j < 8; j++ {
			t[i*8+j] = byte(z >> (8 * j))
		}
	}
	t[6] = t[6]&0x0f | 0x40 // UUIDv4 bits
	t[8] = t[8]&0x3f | 0x80
	return t, nil
}

// State returns the device's state name.
func (d *Device) State() string { return d.Machine.State() }

// Start starts every device's machine (InitState, Init).
func (w *World) Start() {
	for _, d := range w.Devices {
		d.run(func() error { return d.Machine.Start() })
	}
	w.check()
}

// run runs f and then the machine's queue, recording aborted handlers.
// A device whose sync was disabled stops its machine (SHUTDOWN).
func (d *Device) run(f func() error) {
	if err := f(); err != nil {
		d.Errors = append(d.Errors, err)
	}
	if err := d.Machine.Run(); err != nil {
		d.Errors = append(d.Errors, err)
	}
	if d.Keys.Disabled && d.Machine.Running() {
		d.Machine.Stop()
	}
}

// channel is a device's fsm.Channel: it puts the envelope, signed and
// encrypted as the fsm's policy resolved, into the world's pending set.
type channel Device

// Transmit implements fsm.Channel.
func (c *channel) Transmit(o fsm.Outgoing) error {
	d := (*Device)(c)
	e := &Envelope{Sender: d.ID, Signer: o.Signer, Msg: o.Msg, Decl: o.Decl,
		EncryptedTo: slices.Clone(o.EncryptTo), Attached: slices.Clone(o.Attached)}
	if o.Decl.Security == fsm.AttachOwnKeysForNewMember {
		d.w.checkCommit(d, "send "+o.Decl.Name)
	}
	if st := d.State(); o.Msg.Kind() == wire.KindBeacon && st != "InitState" && st != "Sole" {
		d.w.violate(StrayBeacon, "device %d sent a Beacon in %s", d.ID, st)
	}
	d.w.Pending = append(d.w.Pending, e)
	return nil
}

// onTransition records completions and checks the commit invariant.
func (d *Device) onTransition(from, event, to string) {
	w := d.w
	if !transitional(to) {
		d.leftTransitional = true
	}
	switch to {
	case "FormingGroupOfferer", "JoiningGroup":
		w.checkCommit(d, "enter "+to)
	}
	if to == "Grouped" && w.current != nil && w.current.Sender != d.ID {
		switch from {
		case "FormingGroupOfferer", "FormingGroupRequester", "JoiningGroup", "HandshakingGroupedPhase1":
			d.completed[w.current.Sender] = true
		}
	}
	switch to {
	case "InitState", "Grouped", "HandshakingGrouped", "HandshakingGroupedPhase1", "GroupKeyResetElection":
	default:
		clear(d.completed)
	}
}

// checkCommit checks that the users of both sides accepted this
// negotiation: d's user accepted the partner key and the negotiation d is
// committing to, and the user of a device holding the partner key accepted
// that negotiation and a key d holds. A user's acceptance covers the
// negotiation TID as stored and as held in the I/O buffer at the time:
// a message received after storeNegotiation may overwrite the buffer's
// TID (doc/protocol.md §5), and the commit sent carries that one.
func (w *World) checkCommit(d *Device, what string) {
	p, n := d.Core.Partner.SenderFpr, d.Core.Partner.Negotiation
	if !d.acceptKey[p] || !d.accepted[n] {
		w.violate(KeysBeforeAccept, "device %d: %s in negotiation %x without its user accepting it", d.ID, what, n[:4])
		return
	}
	for _, o := range w.Devices {
		if o == d || !o.Keys.Secret[p] || !o.accepted[n] {
			continue
		}
		for f := range o.acceptKey {
			if d.held[f] {
				return
			}
		}
	}
	w.violate(KeysBeforeAccept, "device %d: %s in negotiation %x, but no user of a device holding partner key %.8s accepted it", d.ID, what, n[:4], p)
}

func (w *World) violate(kind, format string, a ...any) {
	w.Violations = append(w.Violations, Violation{kind, fmt.Sprintf(format, a...)})
}

// Order puts pending message i on the channel. With keep, a stale copy
// stays pending: a duplicate that the schedule may re-deliver at any later
// point.
func (w *World) Order(i int, keep bool) {
	e := w.Pending[i]
	w.Pending = slices.Delete(w.Pending, i, i+1)
	if keep {
		w.Dups++
		c := *e
		c.Stale, c.fp = true, ""
		w.Pending = append(w.Pending, &c)
	}
	w.Log = append(w.Log, e)
}

// Orderable reports whether pending message i may be put on the channel
// next: messages of one sender keep their order (causality, D7), stale
// duplicates may come at any time.
func (w *World) Orderable(i int) bool {
	e := w.Pending[i]
	if e.Stale {
		return true
	}
	for _, f := range w.Pending[:i] {
		if !f.Stale && f.Sender == e.Sender {
			return false
		}
	}
	return true
}

// Drop loses pending message i.
func (w *World) Drop(i int) {
	w.Pending = slices.Delete(w.Pending, i, i+1)
	w.Drops++
}

// CanDeliver reports whether device i has a channel message to receive.
func (w *World) CanDeliver(i int) bool {
	d := w.Devices[i]
	return d.cursor < len(w.Log)
}

// Deliver gives device i the next channel message and runs its machine.
func (w *World) Deliver(i int) {
	d := w.Devices[i]
	if d.cursor >= len(w.Log) {
		return
	}
	e := w.Log[d.cursor]
	d.cursor++
	w.current = e
	d.run(func() error { return d.receive(e) })
	w.current = nil
	w.trim()
	w.check()
}

// trim drops the log prefix every device has received.
func (w *World) trim() {
	lo := len(w.Log)
	for _, d := range w.Devices {
		lo = min(lo, d.cursor)
	}
	if lo == 0 {
		return
	}
	w.Log = slices.Clone(w.Log[lo:])
	for _, d := range w.Devices {
		d.cursor -= lo
	}
}

// User injects the user's answer (Accept, Reject or Cancel) on device i.
func (w *World) User(i int, answer string) {
	d := w.Devices[i]
	d.users++
	if !d.Machine.Running() {
		return
	}
	state := d.State()
	if answer == "Accept" && d.Machine.Running() && fsmHandles(w.Model, state, answer) {
		// The negotiation as stored, and as the buffer holds it: the
		// commit the device sends carries the latter (doc/protocol.md §5).
		d.accepted[d.Core.Partner.Negotiation] = true
		d.accepted[d.Core.KeySync.Negotiation] = true
		d.acceptKey[d.Core.Partner.SenderFpr] = true
	}
	if answer == "Reject" && fsmHandles(w.Model, state, answer) && state != "HandshakingGrouped" {
		if p := w.holder(d.Core.Partner.SenderFpr, d.ID); p >= 0 {
			w.rejects[[2]int{min(d.ID, p), max(d.ID, p)}] = true
		}
	}
	d.Machine.Post(fsm.Event{Name: answer})
	d.run(func() error { return nil })
	w.check()
}

// Signal injects a signalled event (KeyGen, CannotDecrypt,
// LeaveDeviceGroup) on device i.
func (w *World) Signal(i int, event string) {
	d := w.Devices[i]
	w.Signals++
	d.Machine.Post(fsm.Event{Name: event})
	d.run(func() error { return nil })
	w.check()
}

func fsmHandles(f *fsm.FSM, state, event string) bool {
	s := f.State(state)
	return s != nil && s.Handler(event) != nil
}

// holder returns a device other than not whose own default key is fpr, or
// that holds it, or -1.
func (w *World) holder(fpr string, not int) int {
	for _, o := range w.Devices {
		if o.ID != not && o.Keys.Default == fpr {
			return o.ID
		}
	}
	for _, o := range w.Devices {
		if o.ID != not && o.Keys.Secret[fpr] {
			return o.ID
		}
	}
	return -1
}

// NextTimer returns the earliest timer or rate-limit release of any device.
func (w *World) NextTimer() (time.Time, bool) {
	var first time.Time
	found := false
	for _, d := range w.Devices {
		if !d.Machine.Running() {
			continue
		}
		for _, f := range []func() (time.Time, bool){d.Machine.Deadline, d.Core.NextRelease} {
			if t, ok := f(); ok && (!found || t.Before(first)) {
				first, found = t, true
			}
		}
	}
	return first, found
}

// Advance moves the clock forward by dt and fires what is due.
func (w *World) Advance(dt time.Duration) {
	w.Now = w.Now.Add(dt)
	w.fire()
}

// AdvanceToNext moves the clock to the next timer or rate-limit release
// and fires it. It returns false if there is none.
func (w *World) AdvanceToNext() bool {
	t, ok := w.NextTimer()
	if !ok {
		return false
	}
	if t.After(w.Now) {
		w.Now = t
	}
	w.Advances++
	w.fire()
	return true
}

func (w *World) fire() {
	for _, d := range w.Devices {
		if !d.Machine.Running() {
			continue
		}
		d.run(func() error { return d.Core.Flush(d.State()) })
	}
	w.check()
}

// Settle orders every pending message in FIFO order and delivers the
// channel to every device until nothing is left, without advancing time.
func (w *World) Settle() {
	for guard := 0; guard < 10000; guard++ {
		progress := false
		for i := 0; i < len(w.Pending); {
			if w.Pending[i].Stale {
				i++
				continue
			}
			w.Order(i, false)
			progress = true
		}
		for i := range w.Devices {
			for w.CanDeliver(i) {
				w.Deliver(i)
				progress = true
			}
		}
		if !progress {
			return
		}
	}
	w.violate("livelock", "Settle did not converge")
}

// Quiet reports whether no message is pending or undelivered.
func (w *World) Quiet() bool {
	for _, e := range w.Pending {
		if !e.Stale {
			return false
		}
	}
	for i := range w.Devices {
		if w.CanDeliver(i) {
			return false
		}
	}
	return true
}

// receive is the device's receive pipeline (doc/protocol.md §10.3–10.4): it
// decrypts, if it holds a secret key the envelope is encrypted to, and
// queues the event; the fsm's policy decides whether the message is
// accepted and its attached keys imported (fsm.Accept).
func (d *Device) receive(e *Envelope) error {
	decrypts := e.EncryptedTo == nil
	for _, r := range e.EncryptedTo {
		decrypts = decrypts || d.Keys.Secret[r]
	}
	if !decrypts || !d.Machine.Running() {
		return nil
	}
	if e.Reset != nil {
		return d.receiveReset(e)
	}
	ev := fsm.MessageEvent(e.Msg, Address, e.Signer)
	ev.Attached = e.Attached
	ev.Encrypted = e.EncryptedTo != nil
	d.Machine.Post(ev)
	return nil
}

// importKeys adds the attached secret keys of envelope e to the keyring,
// checking the key-flow invariants.
func (d *Device) importKeys(e *Envelope, attached []string) {
	w := d.w
	for _, f := range attached {
		if d.Keys.Secret[f] || e.Sender == d.ID {
			continue
		}
		if w.rejects[[2]int{min(d.ID, e.Sender), max(d.ID, e.Sender)}] {
			w.violate(KeysAfterReject, "device %d imported key %.8s from device %d after a Reject between them", d.ID, f, e.Sender)
		}
		if !w.linked(e.Sender, d.ID) {
			w.violate(UnauthorizedImport, "device %d imported key %.8s from device %d without mutual acceptance", d.ID, f, e.Sender)
		}
		d.Keys.Secret[f] = true
		d.held[f] = true
	}
}

// linked reports whether a and b are connected by edges of mutual
// acceptance: each user accepted a key the other device held.
func (w *World) linked(a, b int) bool {
	edge := func(x, y *Device) bool {
		ok1, ok2 := false, false
		for f := range x.acceptKey {
			ok1 = ok1 || y.held[f]
		}
		for f := range y.acceptKey {
			ok2 = ok2 || x.held[f]
		}
		return ok1 && ok2
	}
	seen := map[int]bool{a: true}
	stack := []int{a}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == b {
			return true
		}
		for _, y := range w.Devices {
			if !seen[y.ID] && edge(w.Devices[x], y) {
				seen[y.ID] = true
				stack = append(stack, y.ID)
			}
		}
	}
	return false
}

func (d *Device) receiveReset(e *Envelope) error {
	k := d.Keys
	if e.Sender == d.ID || fsm.AcceptKeyReset(e.Signer, k) != nil {
		return nil
	}
	d.importKeys(e, e.Attached)
	if k.Default == e.Reset.Old {
		k.Revoked[e.Reset.Old] = true
		k.Default = e.Reset.New
		k.Trust[e.Reset.New] = true
	}
	return nil
}

// transitional reports whether a state is one a device must not stay in:
// every state but InitState, Sole, Grouped and End (doc/protocol.md §4). It
// is fixed here rather than read from the model's timeouts, so that a model
// that loses a timeout fails the check.
func transitional(state string) bool {
	switch state {
	case "InitState", "Sole", "Grouped", fsm.End, "":
		return false
	}
	return true
}

// check runs the invariants that hold after every step.
func (w *World) check() {
	for _, d := range w.Devices {
		if transitional(d.State()) && d.Machine.Running() {
			if _, ok := d.Machine.Deadline(); !ok && d.Machine.Queued() == 0 {
				w.violate(TimerMissing, "device %d in %s without a timer", d.ID, d.State())
			}
		}
	}
	if !w.Quiet() {
		return
	}
	for _, d := range w.Devices {
		for j := range d.completed {
			o := w.Devices[j]
			if j > d.ID && o.completed[d.ID] && d.State() == "Grouped" && o.State() == "Grouped" && d.Keys.Default != o.Keys.Default {
				w.violate(GroupKeysDiffer, "devices %d and %d are Grouped with keys %.8s and %.8s", d.ID, j, d.Keys.Default, o.Keys.Default)
			}
		}
	}
}

// Drain lets the world run without further user input: it settles the
// channel and fires timers, round after round, until every device that was
// in a transitional state has left it for a stable one (Sole, Grouped,
// End or InitState). Devices that have not after maxRounds rounds are
// recorded as StuckTransitional. (A device may well enter a new handshake
// afterwards: devices rediscover each other after a timeout.)
func (w *World) Drain(maxRounds int) {
	for _, d := range w.Devices {
		d.leftTransitional = !transitional(d.State())
	}
	for r := 0; r < maxRounds && w.stuck() != nil; r++ {
		w.Settle()
		if w.stuck() == nil || !w.AdvanceToNext() {
			break
		}
	}
	w.Settle()
	for _, d := range w.stuck() {
		w.violate(StuckTransitional, "device %d stays in %s", d.ID, d.State())
	}
}

// stuck returns the running devices in a transitional state that have not
// left one since the drain began.
func (w *World) stuck() []*Device {
	var out []*Device
	for _, d := range w.Devices {
		if transitional(d.State()) && d.Machine.Running() && !d.leftTransitional {
			out = append(out, d)
		}
	}
	return out
}

// Errors returns the aborted handlers of all devices.
func (w *World) Errors() error {
	var errs []error
	for _, d := range w.Devices {
		errs = append(errs, d.Errors...)
	}
	return errors.Join(errs...)
}

// Clone returns an independent copy of w.
func (w *World) Clone() *World {
	c := *w
	c.Pending = slices.Clone(w.Pending)
	c.Log = slices.Clone(w.Log)
	c.Violations = slices.Clone(w.Violations)
	c.rejects = maps.Clone(w.rejects)
	c.Devices = nil
	for _, d := range w.Devices {
		e := *d
		e.w = &c
		e.Signals = slices.Clone(d.Signals)
		e.Errors = slices.Clone(d.Errors)
		e.accepted = maps.Clone(d.accepted)
		e.acceptKey = maps.Clone(d.acceptKey)
		e.completed = maps.Clone(d.completed)
		e.held = maps.Clone(d.held)
		e.Keys = d.Keys.clone(&e)
		e.wire()
		e.Machine = d.Machine.Clone(observed{e.Core, &e}, clock{&c})
		c.Devices = append(c.Devices, &e)
	}
	return &c
}

// Fingerprint is a canonical description of everything that influences
// the world's future, for state deduplication. Signals, errors and
// violations are left out.
func (w *World) Fingerprint() string {
	var b fp
	b.int(int64(w.Now.Sub(epoch)))
	b.int(int64(w.Drops))
	b.int(int64(w.Dups))
	b.int(int64(w.Advances))
	b.int(int64(w.Signals))
	for _, d := range w.Devices {
		b.str(d.Machine.Summary())
		b.int(int64(d.cursor))
		b.int(int64(d.users))
		v := &d.Core.Vars
		b.strs(v.Own.Keys)
		b.strs(v.Own.Backup)
		b.ids(v.Own.BackupIdentities)
		b.ids(v.Own.Identities)
		b.tids(v.Own.Challenge, v.Own.Response, v.Own.Negotiation)
		b.str(v.Partner.SenderFpr)
		b.str(v.Partner.Identity)
		b.tids(v.Partner.Challenge, v.Partner.Response, v.Partner.Negotiation)
		b.str(v.Transport.From)
		b.str(v.Transport.SenderFpr)
		k := &v.KeySync
		b.tids(k.Challenge, k.Response, k.Negotiation)
		b.bool(k.IsGroup)
		b.str(k.Key)
		b.ids(k.OwnIdentities)
		b.int(int64(k.Rating))
		b.bool(v.Stored)
		b.str(v.Trusted)
		b.int(int64(d.Core.Deferred()))
		for _, k := range []wire.Kind{wire.KindBeacon, wire.KindSynchronizeGroupKeys} {
			if t, ok := d.Core.LastSent(k); ok {
				b.int(int64(t.Sub(epoch)))
			}
			b.sep()
		}
		b.int(int64(d.rng))
		if t, ok := d.Core.NextRelease(); ok {
			b.int(int64(t.Sub(epoch)))
		}
		b.str(d.Keys.Default)
		b.set(d.Keys.Secret)
		b.set(d.Keys.Trust)
		b.set(d.Keys.Revoked)
		b.bool(d.Keys.Grouped)
		b.bool(d.Keys.Disabled)
		b.int(int64(d.Keys.gen))
		b.set(d.acceptKey)
		b.set(d.held)
		for _, j := range sortedInts(d.completed) {
			b.int(int64(j))
		}
		b.sep()
	}
	for _, e := range w.Pending {
		b.str("P")
		b.str(e.key())
	}
	for _, e := range w.Log {
		b.str("L")
		b.str(e.key())
	}
	for _, r := range sortedPairs(w.rejects) {
		b.int(int64(r[0]))
		b.int(int64(r[1]))
	}
	return string(b)
}

// fp builds a fingerprint.
type fp []byte

func (b *fp) sep() { *b = append(*b, 0) }
func (b *fp) int(n int64) {
	*b = strconv.AppendInt(*b, n, 36)
	b.sep()
}
func (b *fp) bool(v bool) {
	if v {
		*b = append(*b, 1)
	}
	b.sep()
}
func (b *fp) str(s string) {
	*b = append(*b, s...)
	b.sep()
}
func (b *fp) strs(ss []string) {
	for _, s := range ss {
		b.str(s)
	}
	b.sep()
}
func (b *fp) tids(ts ...wire.TID) {
	for _, t := range ts {
		*b = append(*b, t[:]...)
	}
}
func (b *fp) ids(ids []wire.Identity) {
	for _, id := range ids {
		b.str(id.Address)
		b.str(id.Fpr)
	}
	b.sep()
}
func (b *fp) set(m map[string]bool) {
	b.strs(sortedKeys(m))
}

func sortedPairs(m map[[2]int]bool) [][2]int {
	var out [][2]int
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i][0] < out[j][0] || out[i][0] == out[j][0] && out[i][1] < out[j][1]
	})
	return out
}

// key returns a canonical description of e, computed once.
func (e *Envelope) key() string {
	if e.fp == "" {
		e.fp = e.String()
	}
	return e.fp
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k[:min(8, len(k))])
		}
	}
	sort.Strings(out)
	return out
}

func sortedInts(m map[int]bool) []int {
	var out []int
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Ints(out)
	return out
}

// Keys is the fake key store of a device: one own identity at Address,
// a keyring of secret keys, a trust table of own keys and flags.
type Keys struct {
	Default  string          // the identity's default (own) key
	Secret   map[string]bool // secret keys in the keyring
	Trust    map[string]bool // keys trusted as own keys (comm_type PEP_ct_pEp)
	Revoked  map[string]bool
	Grouped  bool // PEP_idf_devicegroup
	Disabled bool // sync switched off by disable
	gen      int
	d        *Device
}

// fpr returns a deterministic 40-digit upper-case hex fpr.
func fpr(device, gen int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("keysync-sim/%d/%d", device, gen)))
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

func newKeys(d *Device) *Keys {
	k := &Keys{Default: fpr(d.ID, 0), Secret: map[string]bool{}, Trust: map[string]bool{}, Revoked: map[string]bool{}, d: d}
	k.Secret[k.Default], k.Trust[k.Default] = true, true
	d.held[k.Default] = true
	return k
}

func (k *Keys) clone(d *Device) *Keys {
	c := *k
	c.Secret, c.Trust, c.Revoked = maps.Clone(k.Secret), maps.Clone(k.Trust), maps.Clone(k.Revoked)
	c.d = d
	return &c
}

// OwnKey implements fsm.KeyStore.
func (k *Keys) OwnKey() (string, error) { return k.Default, nil }

// ImportKeys implements fsm.KeyStore: the keys come with the envelope being
// delivered.
func (k *Keys) ImportKeys(attached []string) error {
	e := k.d.w.current
	if e == nil {
		return errors.New("importKeys: no message being delivered")
	}
	k.d.importKeys(e, attached)
	return nil
}

// DeviceGrouped implements fsm.KeyStore.
func (k *Keys) DeviceGrouped() (bool, error) { return k.Grouped, nil }

// IsOwnKey implements fsm.KeyStore.
func (k *Keys) IsOwnKey(f string) (bool, error) {
	return k.Trust[f] && k.Secret[f] && !k.Revoked[f], nil
}

// OwnKeyIsListed implements fsm.KeyStore.
func (k *Keys) OwnKeyIsListed(f string) (bool, error) { return k.Trust[f] && !k.Revoked[f], nil }

// TrustOwnKey implements fsm.KeyStore.
func (k *Keys) TrustOwnKey(address, f string) error {
	if address != Address {
		return fmt.Errorf("trust_own_key: %s is not an own identity", address)
	}
	if k.Revoked[f] {
		return fmt.Errorf("trust_own_key: %.8s is revoked", f)
	}
	k.Trust[f] = true
	return nil
}

// UntrustKey implements fsm.KeyStore.
func (k *Keys) UntrustKey(f string) error {
	if f != k.Default {
		delete(k.Trust, f)
	}
	return nil
}

// OwnKeys implements fsm.KeyStore: the default key and every other key
// with a secret part that is trusted as own key.
func (k *Keys) OwnKeys() ([]string, []wire.Identity, error) {
	keys := []string{k.Default}
	for f := range k.Secret {
		if f != k.Default && k.Trust[f] && !k.Revoked[f] {
			keys = append(keys, f)
		}
	}
	sort.Strings(keys[1:])
	ids := []wire.Identity{{Address: Address, Fpr: k.Default, UserID: "pEp_own_userId", CommType: 0xff}}
	return keys, ids, nil
}

// SaveGroupKeys implements fsm.KeyStore. The simulated devices share one
// identity, which is always present already, so nothing is added.
func (k *Keys) SaveGroupKeys(received []wire.Identity) error {
	for _, id := range received {
		if id.Address == "" || id.Fpr == "" {
			return errors.New("saveGroupKeys: identity without address or fpr")
		}
	}
	return nil
}

// OwnKeysAreDefaultKeys implements fsm.KeyStore.
func (k *Keys) OwnKeysAreDefaultKeys() error {
	k.Grouped = true
	return nil
}

// ReceivedKeysAreDefaultKeys implements fsm.KeyStore: the received key
// becomes the default, the previous one is revoked, and set_own_key
// signals a local SynchronizeGroupKeys.
func (k *Keys) ReceivedKeysAreDefaultKeys(received []wire.Identity) error {
	k.Grouped = true
	for _, id := range received {
		if id.Address != Address || id.Fpr == k.Default {
			continue
		}
		if !k.Secret[id.Fpr] {
			return fmt.Errorf("receivedKeysAreDefaultKeys: secret key %.8s not imported", id.Fpr)
		}
		k.Revoked[k.Default] = true
		k.Default = id.Fpr
		k.Trust[id.Fpr] = true
		k.d.Machine.Post(fsm.Event{Name: "SynchronizeGroupKeys"})
	}
	return nil
}

// Disable implements fsm.KeyStore.
func (k *Keys) Disable() error {
	k.Grouped, k.Disabled = false, true
	return nil
}

func (k *Keys) newKey() string {
	k.gen++
	f := fpr(k.d.ID, k.gen)
	k.Secret[f], k.Trust[f] = true, true
	k.d.held[f] = true
	return f
}

// ResetOwnGroupedKeys implements fsm.KeyStore: a new group key, sent to
// the group encrypted to the old one (doc/protocol.md §13.1).
func (k *Keys) ResetOwnGroupedKeys() error {
	old, nk := k.Default, k.newKey()
	e := &Envelope{Sender: k.d.ID, Signer: old, EncryptedTo: []string{old}, Attached: []string{nk}, Reset: &KeyReset{Old: old, New: nk}}
	k.d.w.Pending = append(k.d.w.Pending, e)
	k.Revoked[old] = true
	k.Default = nk
	return nil
}

// ResetOwnKeysUngrouped implements fsm.KeyStore: a new own key; the old
// one, the group key, is revoked on this device.
func (k *Keys) ResetOwnKeysUngrouped() error {
	old := k.Default
	k.Default = k.newKey()
	k.Revoked[old] = true
	delete(k.Trust, old)
	return nil
}
