package sim

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keysync/keysync/fsm"
)

// Bounds limit a model check.
type Bounds struct {
	Devices int   // number of devices
	Grouped []int // devices that start as one device group
	Drops   int   // messages lost in total
	Dups    int   // messages duplicated (delivered twice) in total
	// UserAnswers is the number of answers (Accept, Reject, Cancel) each
	// user may give; an answer is offered only in states that handle it.
	UserAnswers int
	Answers     []string // the answers to try; nil means Accept, Reject, Cancel
	Users       []int    // the devices whose users answer; nil means all
	Advances    int      // clock advances to the next timer or rate-limit release
	// Signals are signalled events (KeyGen, CannotDecrypt,
	// LeaveDeviceGroup) offered on every device whose state handles them,
	// at most SignalCount in total.
	Signals     []string
	SignalCount int
	SignalOn    []int // the devices signals are offered on; nil means all
	// Eager makes a logged message reach every device in the same step,
	// instead of interleaving each device's receipt separately.
	Eager bool
	// MaxStates stops the search when exceeded (0: no limit); Stats.Complete
	// reports whether the whole bounded space was explored.
	MaxStates int
	// StopAtFirst ends the search at the first violation.
	StopAtFirst bool
	// SettleFirst delivers the start-up traffic (Beacons, the grouped
	// devices' SynchronizeGroupKeys and their answers, the negotiations
	// they open) in FIFO order before the search begins.
	SettleFirst bool
	Seed        uint64
}

// Stats describe a model check run.
type Stats struct {
	States      int // distinct world states explored
	Transitions int // steps applied
	Terminal    int // states with no step left, each drained with timers
	MaxDepth    int
	Complete    bool // the bounded space was exhausted
	Duration    time.Duration
}

// String summarises s on one line.
func (s Stats) String() string {
	return fmt.Sprintf("%d states, %d transitions, %d terminal, depth %d, complete %t, %v",
		s.States, s.Transitions, s.Terminal, s.MaxDepth, s.Complete, s.Duration.Round(time.Millisecond))
}

// Failure is a violation with the schedule that led to it.
type Failure struct {
	Violation Violation
	Trace     []string
}

// String gives the violation and the schedule, one step a line.
func (f Failure) String() string {
	return f.Violation.String() + "\n  after: " + strings.Join(f.Trace, "\n         ")
}

// step is one choice of the schedule.
type step struct {
	desc  func() string
	apply func(*World)
}

type node struct {
	w      *World
	parent int
	step   int // index of the step in the parent's enabled list
	depth  int
}

// Check explores every schedule of model within b, depth first, with
// duplicate world states merged, and checks the World's invariants after
// every step. At every state where the schedule has no choice left, it
// drains the world (settle the channel, fire timers) and checks that no
// device stays in a transitional state. It returns the statistics and the
// violations found, at most one per kind.
func Check(model *fsm.FSM, b Bounds) (Stats, []Failure) {
	start := time.Now()
	if b.Answers == nil {
		b.Answers = []string{"Accept", "Reject", "Cancel"}
	}
	w := New(model, b.Devices, b.Seed)
	w.Group(b.Grouped...)
	w.Start()
	if b.SettleFirst {
		w.Settle()
	}
	root := w.Clone()
	var st Stats
	var fails []Failure
	seenKind := map[string]bool{}
	nodes := []node{{w: w, parent: -1}}
	// trace replays the schedule from the start to describe it.
	trace := func(i int, last string) []string {
		var idx []int
		for ; i > 0; i = nodes[i].parent {
			idx = append(idx, nodes[i].step)
		}
		r := root.Clone()
		var t []string
		for j := len(idx) - 1; j >= 0; j-- {
			s := enabled(r, b)[idx[j]]
			t = append(t, s.desc())
			s.apply(r)
		}
		return append(t, last)
	}
	report := func(i int, last string, vs []Violation) bool {
		for _, v := range vs {
			if !seenKind[v.Kind] {
				seenKind[v.Kind] = true
				fails = append(fails, Failure{v, trace(i, last)})
			}
		}
		return b.StopAtFirst && len(fails) > 0
	}
	if report(0, "start", w.Violations) {
		st.Duration = time.Since(start)
		return st, fails
	}
	seen := map[[32]byte]bool{sha256.Sum256([]byte(w.Fingerprint())): true}
	st.States = 1
	// Depth first: the worlds kept are those on the path and their
	// unexpanded siblings, not a whole breadth-first frontier.
	stack := []int{0}
	for len(stack) > 0 {
		head := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := nodes[head]
		nodes[head].w = nil // free the world once expanded
		steps := enabled(n.w, b)
		if len(steps) == 0 {
			st.Terminal++
			d := n.w.Clone()
			before := len(d.Violations)
			d.Drain(2 * b.Devices * 4)
			if report(head, "drain", d.Violations[before:]) {
				break
			}
			continue
		}
		stop := false
		for si, s := range steps {
			c := n.w.Clone()
			before := len(c.Violations)
			s.apply(c)
			st.Transitions++
			if len(c.Violations) > before {
				if report(head, s.desc(), c.Violations[before:]) {
					stop = true
					break
				}
			}
			c.Violations = c.Violations[:before]
			h := sha256.Sum256([]byte(c.Fingerprint()))
			if seen[h] {
				continue
			}
			seen[h] = true
			st.States++
			nodes = append(nodes, node{w: c, parent: head, step: si, depth: n.depth + 1})
			stack = append(stack, len(nodes)-1)
			st.MaxDepth = max(st.MaxDepth, n.depth+1)
		}
		if stop || (b.MaxStates > 0 && st.States > b.MaxStates) {
			st.Duration = time.Since(start)
			return st, fails
		}
	}
	st.Complete = !(b.StopAtFirst && len(fails) > 0)
	st.Duration = time.Since(start)
	return st, fails
}

// enabled lists the schedule's choices in w.
func enabled(w *World, b Bounds) []step {
	var steps []step
	for i, e := range w.Pending {
		if !w.Orderable(i) {
			continue
		}
		name := e.String
		steps = append(steps, step{func() string { return "order " + name() }, func(w *World) {
			w.Order(i, false)
			if b.Eager {
				w.deliverAll()
			}
		}})
		if w.Dups < b.Dups && !e.Stale {
			steps = append(steps, step{func() string { return "duplicate " + name() }, func(w *World) {
				w.Order(i, true)
				if b.Eager {
					w.deliverAll()
				}
			}})
		}
		if w.Drops < b.Drops {
			steps = append(steps, step{func() string { return "drop " + name() }, func(w *World) { w.Drop(i) }})
		}
	}
	if !b.Eager {
		for i := range w.Devices {
			if w.CanDeliver(i) {
				e := w.Log[w.Devices[i].cursor]
				steps = append(steps, step{func() string { return fmt.Sprintf("device %d receives %s", i, e) }, func(w *World) { w.Deliver(i) }})
			}
		}
	}
	for i, d := range w.Devices {
		if d.users >= b.UserAnswers || !d.Machine.Running() || (b.Users != nil && !slices.Contains(b.Users, i)) {
			continue
		}
		for _, a := range b.Answers {
			if fsmHandles(w.Model, d.State(), a) {
				st := d.State()
				steps = append(steps, step{func() string { return fmt.Sprintf("user %d: %s in %s", i, a, st) }, func(w *World) { w.User(i, a) }})
			}
		}
	}
	if w.Signals < b.SignalCount {
		for i, d := range w.Devices {
			if b.SignalOn != nil && !slices.Contains(b.SignalOn, i) {
				continue
			}
			for _, sig := range b.Signals {
				if d.Machine.Running() && fsmHandles(w.Model, d.State(), sig) {
					st := d.State()
					steps = append(steps, step{func() string { return fmt.Sprintf("device %d: %s in %s", i, sig, st) }, func(w *World) { w.Signal(i, sig) }})
				}
			}
		}
	}
	if w.Advances < b.Advances {
		if t, ok := w.NextTimer(); ok {
			steps = append(steps, step{func() string { return fmt.Sprintf("advance clock to +%v", t.Sub(epoch)) }, func(w *World) { w.AdvanceToNext() }})
		}
	}
	return steps
}

// deliverAll gives every device everything on the channel.
func (w *World) deliverAll() {
	for progress := true; progress; {
		progress = false
		for i := range w.Devices {
			if w.CanDeliver(i) {
				w.Deliver(i)
				progress = true
			}
		}
	}
}
