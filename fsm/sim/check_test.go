package sim

import (
	"testing"

	"github.com/keysync/keysync/fsm"
)

// The model-check bounds. Every configuration explores the whole bounded
// space; each user answers at most once; "eager" means a message put on the
// channel reaches every device in the same step (otherwise each device's
// receipt is a separate step); messages of one sender keep their order.
// The shallow ones run always; the deep ones not with -short nor under the
// race detector (test.sh runs them without it). README.md lists them.
var checks = []struct {
	name    string
	b       Bounds
	shallow bool
}{
	{"2 sole, all answers, 2 clock advances", Bounds{Devices: 2, UserAnswers: 1, Advances: 2, Eager: true}, true},
	{"2 sole, all answers, 1 loss, 1 advance", Bounds{Devices: 2, UserAnswers: 1, Advances: 1, Drops: 1, Eager: true}, true},
	{"2 sole, all answers, 1 duplicate, 1 advance", Bounds{Devices: 2, UserAnswers: 1, Advances: 1, Dups: 1, Eager: true}, false},
	{"2 sole, all answers, per-device receipt, 1 advance", Bounds{Devices: 2, UserAnswers: 1, Advances: 1}, false},
	{"2 sole, all answers, 1 loss, 1 duplicate, 2 advances", Bounds{Devices: 2, UserAnswers: 1, Advances: 2, Drops: 1, Dups: 1, Eager: true}, false},
	{"3 sole, Accept only", Bounds{Devices: 3, UserAnswers: 1, Answers: []string{"Accept"}, Eager: true}, true},
	{"3 sole, Accept only, 1 advance", Bounds{Devices: 3, UserAnswers: 1, Answers: []string{"Accept"}, Advances: 1, Eager: true}, false},
	{"group of 2 + joiner, all answers", Bounds{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Eager: true, SettleFirst: true}, true},
	{"group of 2 + joiner, Accept only, 1 advance", Bounds{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Answers: []string{"Accept"}, Advances: 1, Eager: true, SettleFirst: true}, false},
	{"group of 2 + joiner, Accept or Cancel, 1 advance", Bounds{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Answers: []string{"Accept", "Cancel"}, Advances: 1, Eager: true, SettleFirst: true}, false},
	{"group of 2 + joiner, all answers, 1 loss", Bounds{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Drops: 1, Eager: true, SettleFirst: true}, false},
	{"group of 2 + joiner, all answers, 1 duplicate", Bounds{Devices: 3, Grouped: []int{0, 1}, UserAnswers: 1, Dups: 1, Eager: true, SettleFirst: true}, false},
	{"group of 3, one leaves, 1 advance", Bounds{Devices: 3, Grouped: []int{0, 1, 2}, Advances: 1, Eager: true, SettleFirst: true, Signals: []string{"LeaveDeviceGroup"}, SignalCount: 1}, true},
}

// TestModelCheck explores every schedule within the bounds above and
// checks the invariants after every step (see the Violation kinds).
func TestModelCheck(t *testing.T) {
	total := 0
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.shallow && testing.Short() {
				t.Skip("deep bounds: not with -short")
			}
			if !c.shallow && raceDetector {
				t.Skip("deep bounds: not under the race detector; test.sh runs them without it")
			}
			st, fails := Check(nil, c.b)
			t.Logf("%s: %v", c.name, st)
			total += st.States
			for _, f := range fails {
				t.Errorf("%v", f)
			}
			if !st.Complete {
				t.Error("search incomplete")
			}
			if st.States < 50 {
				t.Errorf("only %d states: the bounds explore nothing", st.States)
			}
		})
	}
	t.Logf("model check: %d states explored in total", total)
}

// mutate returns a copy of the KeySync model in which the guard of the
// first if in state's handler for event is removed, keeping its then
// branch.
func mutate(t *testing.T, state, event, guard string) *fsm.FSM {
	t.Helper()
	m := fsm.Embedded().KeySync()
	s := m.State(state)
	for i, h := range s.Handlers {
		if h.Event != event {
			continue
		}
		if len(h.Body) == 0 || h.Body[0].If == nil || h.Body[0].If.Cond != guard {
			t.Fatalf("%s %s does not start with if %s", state, event, guard)
		}
		s.Handlers[i] = fsm.NewHandler(event, h.Body[0].If.Then)
		return m
	}
	t.Fatalf("%s has no handler for %s", state, event)
	return nil
}

// TestModelCheckCatchesRemovedSameNegotiation removes sameNegotiation from
// HandshakingToJoinPhase1's CommitAcceptForGroup handler. A joiner that
// accepted a new negotiation then commits on a group member's late
// CommitAcceptForGroup of an abandoned one (here after a timeout), although
// no member accepted the current one: the model check must report it.
func TestModelCheckCatchesRemovedSameNegotiation(t *testing.T) {
	m := mutate(t, "HandshakingToJoinPhase1", "CommitAcceptForGroup", "sameNegotiation")
	b := checkBounds(t, "group of 2 + joiner, Accept only, 1 advance")
	b.StopAtFirst = true
	st, fails := Check(m, b)
	t.Logf("mutated model: %v", st)
	if len(fails) == 0 {
		t.Fatal("the model check accepts the model without the sameNegotiation guard")
	}
	if fails[0].Violation.Kind != KeysBeforeAccept {
		t.Fatalf("violation %v, want %s", fails[0], KeysBeforeAccept)
	}
	t.Logf("found: %v", fails[0])
}

func checkBounds(t *testing.T, name string) Bounds {
	t.Helper()
	for _, c := range checks {
		if c.name == name {
			return c.b
		}
	}
	t.Fatalf("no check %q", name)
	return Bounds{}
}

// TestModelCheckCatchesRemovedGuard removes sameResponse from
// GroupKeyResetElection's ElectGroupKeyResetLeader handler: every remaining
// device then leads the reset, and the model check must find devices of one
// group holding different keys.
func TestModelCheckCatchesRemovedGuard(t *testing.T) {
	m := mutate(t, "GroupKeyResetElection", "ElectGroupKeyResetLeader", "sameResponse")
	b := checkBounds(t, "group of 3, one leaves, 1 advance")
	b.StopAtFirst = true
	st, fails := Check(m, b)
	t.Logf("mutated model: %v", st)
	if len(fails) == 0 {
		t.Fatal("the model check accepts the model without the sameResponse guard")
	}
	if fails[0].Violation.Kind != GroupKeysDiffer {
		t.Fatalf("violation %v, want %s", fails[0], GroupKeysDiffer)
	}
	t.Logf("found: %v", fails[0])
}

// TestModelCheckCatchesMissingTimer removes the timeout of
// HandshakingPhase1Offerer: the liveness checks must notice (a device in a
// transitional state without a timer, or one that never leaves it).
func TestModelCheckCatchesMissingTimer(t *testing.T) {
	m := fsm.Embedded().KeySync()
	m.State("HandshakingPhase1Offerer").Timeout = 0
	st, fails := Check(m, Bounds{Devices: 2, UserAnswers: 1, Answers: []string{"Accept"}, Advances: 2, Drops: 1, Eager: true, StopAtFirst: true})
	t.Logf("mutated model: %v", st)
	if len(fails) == 0 || (fails[0].Violation.Kind != StuckTransitional && fails[0].Violation.Kind != TimerMissing) {
		t.Fatalf("failures %v, want %s or %s", fails, TimerMissing, StuckTransitional)
	}
	t.Logf("found: %v", fails[0].Violation)
}
