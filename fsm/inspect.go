package fsm

import (
	"fmt"
	"strings"
)

// What a model checker needs of a Machine beyond running it: copying it and
// describing its state.

// Clone returns a copy of m that drives dev with clock, for a model checker
// that copies whole devices.
func (m *Machine) Clone(dev Device, clock Clock) *Machine {
	c := *m
	c.dev, c.clock = dev, clock
	c.queue = append([]Event(nil), m.queue...)
	return &c
}

// Summary describes the machine canonically — state, entry time, timer and
// queued events with everything they carry — for state hashing in a model checker. Entry counts are
// left out.
func (m *Machine) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s@%d,%t,%t[", m.State(), m.entered.UnixNano(), m.timerQueued, m.stopped)
	for _, ev := range m.queue {
		fmt.Fprintf(&b, "%s:%+v:%s:%s:%v:%v:%t;", ev.Name, ev.Msg, ev.From, ev.SenderFpr, ev.Identities, ev.Attached, ev.Encrypted)
	}
	b.WriteString("]")
	return b.String()
}
