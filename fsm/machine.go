package fsm

import (
	"errors"
	"fmt"
	"time"

	"github.com/keysync/keysync/wire"
)

// Timeout is the name of the event a state timer produces (event 0 of
// doc/protocol.md §2). It is queued like any other event (D5, D7).
const Timeout = "Timeout"

// Event is one entry of a machine's queue: a received message, an API or
// signalled event (Accept, Reject, Cancel, KeyGen, CannotDecrypt,
// LeaveDeviceGroup, a local SynchronizeGroupKeys) or a timer.
type Event struct {
	Name       string          // message kind name, external name or Timeout
	Msg        wire.Message    // the received message, nil for other events
	From       string          // transport.from: the sender's address
	SenderFpr  string          // transport.sender_fpr: the signing key
	Identities []wire.Identity // identities_sharing of Accept, Reject, Cancel
	Attached   []string        // secret keys attached to the message, for KeyStore.ImportKeys if it is accepted (ImportsKeys)
	Encrypted  bool            // the message arrived encrypted (Accept refuses others in clear)
	epoch      uint64          // for Timeout: the state entry that armed it
}

// MessageEvent returns the event for a received message.
func MessageEvent(m wire.Message, from, senderFpr string) Event {
	return Event{Name: m.Kind().String(), Msg: m, From: from, SenderFpr: senderFpr}
}

// Signal is a notifyHandshake signal of doc/protocol.md §15.2.
type Signal int

// The notifyHandshake signals the KeySync machine produces.
const (
	SignalInitAddOurDevice       Signal = 1
	SignalInitAddOtherDevice     Signal = 2
	SignalInitFormGroup          Signal = 3
	SignalTimeout                Signal = 5
	SignalAcceptedDeviceAdded    Signal = 6
	SignalAcceptedGroupCreated   Signal = 7
	SignalAcceptedDeviceAccepted Signal = 8
	SignalSole                   Signal = 254
	SignalInGroup                Signal = 255
)

// Device is what a Machine drives: it decides conditions, runs actions,
// sends messages and shows notifications. [Core] implements it; a device
// built on Core supplies the key store and the channel.
type Device interface {
	// Load prepares an event taken from the queue before its handler runs,
	// also when the current state ignores the event: it sets the transport
	// fields and fills the I/O buffer. inNegotiation is the
	// TestsNegotiation property of the handler that will run (false if
	// none). It returns false to drop the event unseen by the handler
	// (Accept: security context, D6, D8).
	Load(ev Event, inNegotiation bool) bool
	// Condition decides the named condition of doc/protocol.md §6.
	Condition(name string) (bool, error)
	// Action runs the named action of doc/protocol.md §7.
	Action(name string) error
	// Send sends the declared message, its fields taken from the I/O buffer.
	Send(m *Message) error
	// Notify shows a signal to the app.
	Notify(s Signal)
	// Abandon is called when a negotiation is abandoned by a timeout or an
	// aborted handler, before the machine re-initialises: revoke trust that
	// trustThisKey granted in it (D5).
	Abandon() error
}

// Observer is a Device that wants to know of every state change of its
// machine, as a model checker does.
type Observer interface {
	Transition(from, event, to string)
}

// Clock tells the time; tests replace it with a virtual clock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ErrAborted wraps the error of a condition, action or send that aborted a
// handler.
var ErrAborted = errors.New("handler aborted")

// Machine interprets one fsm of the model for one device, with the driver
// semantics of doc/protocol.md §3 and keysync's deviations:
//
//   - Init is delivered on every state entry, repeatedly while handlers
//     return states (§3.3). A handler that ends without go stays (§3.2);
//     go End stops the machine until Start (§3.4).
//   - Events are processed strictly first in, first out, timers included
//     (D7). Unhandled events are ignored (§3.5).
//   - Each transitional state has a timer armed at entry (D5). Tick queues a
//     Timeout event when it expires; when processed, the device abandons the
//     negotiation (revoking trust, D5), the machine goes to InitState,
//     notifies SignalTimeout and runs Init.
//   - Decision (issue 4, deviating from §3.6–3.7): a condition, action or
//     send that fails aborts the handler, and the machine then re-initialises
//     as after a timeout, but without SignalTimeout: Abandon, InitState,
//     Init. Effects of steps already run stay. If that re-initialisation
//     fails too, the machine stays in InitState and the error is returned;
//     Start retries.
type Machine struct {
	fsm   *FSM
	dev   Device
	clock Clock

	state       *State
	stopped     bool
	epoch       uint64 // incremented on every state entry
	entered     time.Time
	timerQueued bool
	queue       []Event
}

// NewMachine returns a stopped machine for f, driving dev with clock.
func NewMachine(f *FSM, dev Device, clock Clock) *Machine {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Machine{fsm: f, dev: dev, clock: clock, stopped: true}
}

// State returns the current state's name, or End when stopped after go End,
// or "" before the first Start.
func (m *Machine) State() string {
	if m.state == nil {
		if m.stopped && m.epoch > 0 {
			return End
		}
		return ""
	}
	return m.state.Name
}

// Running reports whether the machine has been started and not stopped.
func (m *Machine) Running() bool { return !m.stopped }

// Queued returns the number of events waiting.
func (m *Machine) Queued() int { return len(m.queue) }

// Start enters InitState and delivers Init (sync start, doc/protocol.md §15.4). It discards
// queued events. Starting a running machine restarts it.
func (m *Machine) Start() error {
	if len(m.fsm.States) == 0 {
		return errors.New(m.fsm.Name + ": no states")
	}
	m.queue = nil
	m.stopped = false
	return m.enter(m.fsm.States[0].Name, Init, false)
}

// Stop stops the machine at once, dropping queued events (SHUTDOWN, as
// injected by disable). State then reports End.
func (m *Machine) Stop() {
	if m.stopped {
		return
	}
	m.state, m.stopped, m.queue = nil, true, nil
	m.epoch++
}

// Post appends ev to the queue. Events posted to a stopped machine are
// dropped.
func (m *Machine) Post(ev Event) {
	if m.stopped {
		return
	}
	ev.epoch = 0
	m.queue = append(m.queue, ev)
}

// Deadline returns when the current state's timer fires, if it is armed
// and its Timeout event is not queued yet.
func (m *Machine) Deadline() (time.Time, bool) {
	if m.stopped || m.state == nil || !m.state.Transitional() || m.timerQueued {
		return time.Time{}, false
	}
	return m.entered.Add(time.Duration(m.state.Timeout) * time.Second), true
}

// Tick queues the Timeout event if the state's timer has expired.
func (m *Machine) Tick() {
	if d, ok := m.Deadline(); ok && !m.clock.Now().Before(d) {
		m.queue = append(m.queue, Event{Name: Timeout, epoch: m.epoch})
		m.timerQueued = true
	}
}

// Step processes the first queued event. It returns false when the queue
// was empty. The error reports an aborted handler (wrapping ErrAborted);
// the machine has re-initialised by then.
func (m *Machine) Step() (bool, error) {
	if len(m.queue) == 0 || m.stopped {
		return false, nil
	}
	ev := m.queue[0]
	m.queue = m.queue[1:]
	return true, m.dispatch(ev)
}

// Run ticks the timer and processes events until the queue is empty, and
// returns the errors of aborted handlers joined.
func (m *Machine) Run() error {
	var errs []error
	for {
		m.Tick()
		ok, err := m.Step()
		if err != nil {
			errs = append(errs, err)
		}
		if !ok {
			return errors.Join(errs...)
		}
	}
}

func (m *Machine) dispatch(ev Event) error {
	if ev.Name == Timeout {
		if ev.epoch != m.epoch || m.state == nil {
			return nil // the state was left since the timer was armed
		}
		return m.reinit(Timeout, true)
	}
	h := m.state.Handler(ev.Name)
	if !m.dev.Load(ev, h != nil && h.TestsNegotiation) || h == nil {
		return nil
	}
	next, err := m.exec(h.Body)
	if err != nil {
		return m.abort(ev.Name, err)
	}
	if next == "" {
		return nil
	}
	return m.enter(next, ev.Name, false)
}

// abort handles a failed condition, action or send.
func (m *Machine) abort(event string, err error) error {
	err = fmt.Errorf("%s: %s in %s: %w: %w", m.fsm.Name, event, m.State(), ErrAborted, err)
	if rerr := m.reinit(event, false); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// reinit abandons the negotiation and restarts from InitState.
func (m *Machine) reinit(event string, timeout bool) error {
	aerr := m.dev.Abandon()
	from := m.State()
	m.setState(m.fsm.States[0], from, event)
	if timeout {
		m.dev.Notify(SignalTimeout)
	}
	if err := m.runInit(true); err != nil {
		return errors.Join(aerr, err)
	}
	return aerr
}

// enter moves to state name and runs Init there and in every state it leads
// to.
func (m *Machine) enter(name, event string, reinit bool) error {
	if name == End {
		from := m.State()
		m.state, m.stopped, m.queue = nil, true, nil
		m.epoch++
		m.observe(from, event, End)
		return nil
	}
	s := m.fsm.State(name)
	if s == nil {
		return m.abort(event, fmt.Errorf("go to unknown state %q", name))
	}
	m.setState(s, m.State(), event)
	return m.runInit(reinit)
}

// observe tells an observing device of a state change.
func (m *Machine) observe(from, event, to string) {
	if o, ok := m.dev.(Observer); ok {
		o.Transition(from, event, to)
	}
}

func (m *Machine) setState(s *State, from, event string) {
	m.state = s
	m.epoch++
	m.entered = m.clock.Now()
	m.timerQueued = false
	m.observe(from, event, s.Name)
}

// runInit delivers Init to the current state while handlers go on.
func (m *Machine) runInit(reinit bool) error {
	for {
		h := m.state.Handler(Init)
		if h == nil {
			return nil
		}
		next, err := m.exec(h.Body)
		if err != nil {
			if reinit {
				// The re-initialisation failed: stay in InitState.
				m.setState(m.fsm.States[0], m.State(), Init)
				return fmt.Errorf("%s: re-initialisation failed: %w: %w", m.fsm.Name, ErrAborted, err)
			}
			return m.abort(Init, err)
		}
		if next == "" {
			return nil
		}
		if next == End {
			return m.enter(End, Init, reinit)
		}
		s := m.fsm.State(next)
		if s == nil {
			return m.abort(Init, fmt.Errorf("go to unknown state %q", next))
		}
		m.setState(s, m.State(), Init)
	}
}

// exec runs statements and returns the target of a go, or "".
func (m *Machine) exec(body []Stmt) (string, error) {
	for _, st := range body {
		switch {
		case st.If != nil:
			ok, err := m.dev.Condition(st.If.Cond)
			if err != nil {
				return "", fmt.Errorf("condition %s: %w", st.If.Cond, err)
			}
			b := st.If.Else
			if ok {
				b = st.If.Then
			}
			if next, err := m.exec(b); err != nil || next != "" {
				return next, err
			}
		case st.Do != "":
			if err := m.dev.Action(st.Do); err != nil {
				return "", fmt.Errorf("action %s: %w", st.Do, err)
			}
		case st.Send != "":
			decl := m.fsm.Message(st.Send)
			if decl == nil {
				return "", fmt.Errorf("send of undeclared message %s", st.Send)
			}
			if err := m.dev.Send(decl); err != nil {
				return "", fmt.Errorf("send %s: %w", st.Send, err)
			}
		case st.Go != "":
			return st.Go, nil
		}
	}
	return "", nil
}
