package fsm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keysync/keysync/wire"
)

// What a device that persists itself needs: the whole state of a Machine
// and of a Core as plain values (JSON-friendly), and the way back. Messages
// are held in their UPER encoding.

// MachineState is the persistent state of a Machine: its state, timer and
// queue.
type MachineState struct {
	State       string       `json:"state"` // "" before Start, End when stopped after go End
	Stopped     bool         `json:"stopped"`
	Epoch       uint64       `json:"epoch"`
	Entered     time.Time    `json:"entered"`
	TimerQueued bool         `json:"timer_queued"`
	Queue       []EventState `json:"queue,omitempty"`
}

// EventState is a queued Event with its message UPER-encoded.
type EventState struct {
	Name       string          `json:"name"`
	Msg        []byte          `json:"msg,omitempty"`
	From       string          `json:"from,omitempty"`
	SenderFpr  string          `json:"sender_fpr,omitempty"`
	Identities []wire.Identity `json:"identities,omitempty"`
	Attached   []string        `json:"attached,omitempty"`
	Epoch      uint64          `json:"epoch,omitempty"`
}

// CoreState is the persistent state of a Core: its variables and the rate
// limits of D9 with the messages they hold back.
type CoreState struct {
	Vars     Vars                 `json:"vars"`
	LastSent map[string]time.Time `json:"last_sent,omitempty"` // by message name
	Deferred []OutgoingState      `json:"deferred,omitempty"`
}

// OutgoingState is a deferred Outgoing with its message UPER-encoded.
type OutgoingState struct {
	Msg      []byte   `json:"msg"`
	To       string   `json:"to,omitempty"`
	Partner  string   `json:"partner,omitempty"`
	Attached []string `json:"attached,omitempty"`
}

func encodeMsg(m wire.Message) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	return wire.MarshalSync(m)
}

func decodeMsg(b []byte) (wire.Message, error) {
	if b == nil {
		return nil, nil
	}
	sm, _, err := wire.UnmarshalSync(b)
	if err != nil {
		return nil, err
	}
	m, ok := sm.(wire.Message)
	if !ok {
		return nil, errors.New("not a KeySync message")
	}
	return m, nil
}

// Snapshot returns the state of m.
func (m *Machine) Snapshot() (MachineState, error) {
	s := MachineState{State: m.State(), Stopped: m.stopped, Epoch: m.epoch, Entered: m.entered, TimerQueued: m.timerQueued}
	for i, ev := range m.queue {
		b, err := encodeMsg(ev.Msg)
		if err != nil {
			return MachineState{}, fmt.Errorf("queued event %d (%s): %w", i, ev.Name, err)
		}
		s.Queue = append(s.Queue, EventState{Name: ev.Name, Msg: b, From: ev.From, SenderFpr: ev.SenderFpr,
			Identities: slices.Clone(ev.Identities), Attached: slices.Clone(ev.Attached), Epoch: ev.epoch})
	}
	return s, nil
}

// Restore sets m to the state s that Snapshot returned, of a machine
// running the same fsm.
func (m *Machine) Restore(s MachineState) error {
	var st *State
	if s.State != "" && s.State != End {
		if st = m.fsm.State(s.State); st == nil {
			return fmt.Errorf("restore: %s has no state %q", m.fsm.Name, s.State)
		}
	}
	if st == nil && !s.Stopped {
		return fmt.Errorf("restore: running machine without a state")
	}
	var queue []Event
	for i, es := range s.Queue {
		msg, err := decodeMsg(es.Msg)
		if err != nil {
			return fmt.Errorf("restore: queued event %d (%s): %w", i, es.Name, err)
		}
		queue = append(queue, Event{Name: es.Name, Msg: msg, From: es.From, SenderFpr: es.SenderFpr,
			Identities: slices.Clone(es.Identities), Attached: slices.Clone(es.Attached), epoch: es.Epoch})
	}
	m.state, m.stopped, m.epoch, m.entered, m.timerQueued, m.queue = st, s.Stopped, s.Epoch, s.Entered, s.TimerQueued, queue
	return nil
}

// Snapshot returns the state of c.
func (c *Core) Snapshot() (CoreState, error) {
	s := CoreState{Vars: c.Vars.Clone()}
	if len(c.lastSent) > 0 {
		s.LastSent = map[string]time.Time{}
		for k, t := range c.lastSent {
			s.LastSent[k.String()] = t
		}
	}
	for _, o := range c.deferred {
		b, err := encodeMsg(o.Msg)
		if err != nil {
			return CoreState{}, fmt.Errorf("deferred %s: %w", o.Decl.Name, err)
		}
		s.Deferred = append(s.Deferred, OutgoingState{Msg: b, To: o.To, Partner: o.Partner, Attached: slices.Clone(o.Attached)})
	}
	return s, nil
}

// Restore sets c's variables and rate limits to s, as Snapshot returned it.
func (c *Core) Restore(s CoreState) error {
	last := map[wire.Kind]time.Time{}
	for name, t := range s.LastSent {
		k, ok := wire.KindByName(name)
		if !ok {
			return fmt.Errorf("restore: rate limit of unknown message %q", name)
		}
		last[k] = t
	}
	var deferred []Outgoing
	for i, os := range s.Deferred {
		msg, err := decodeMsg(os.Msg)
		if err != nil {
			return fmt.Errorf("restore: deferred message %d: %w", i, err)
		}
		decl := c.cfg.FSM.MessageOf(msg.Kind())
		if decl == nil {
			return fmt.Errorf("restore: deferred %s is not declared in %s", msg.Kind(), c.cfg.FSM.Name)
		}
		deferred = append(deferred, Outgoing{Msg: msg, Decl: decl, To: os.To, Partner: os.Partner, Attached: slices.Clone(os.Attached)})
	}
	c.Vars = s.Vars.Clone()
	c.lastSent = maps.Clone(last)
	c.deferred = deferred
	return nil
}
