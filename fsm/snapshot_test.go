package fsm

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/keysync/keysync/wire"
)

// TestSnapshotRoundTrip runs a device into Sole with a deferred Beacon and
// a queued message, takes it through JSON and checks that a fresh machine
// and core restored from it are the same device.
func TestSnapshotRoundTrip(t *testing.T) {
	core, keys, _, clock := newTestCore()
	m := NewMachine(core.cfg.FSM, core, clock)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if m.State() != "Sole" {
		t.Fatalf("state %s", m.State())
	}
	clock.t = clock.t.Add(time.Second)
	// A Beacon of a partner with a smaller challenge makes us Offerer, who
	// answers with a Beacon of its own inside the rate window (D9: deferred).
	m.Post(MessageEvent(&wire.Beacon{Challenge: wire.TID{0xff}, Version: wire.Version{Major: 1, Minor: 2}}, "me@x", "BBBB"))
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	m.Post(MessageEvent(&wire.Rollback{Negotiation: wire.TID{9}}, "me@x", "BBBB"))
	m.Post(Event{Name: "Accept", Identities: []wire.Identity{{Address: "me@x", Fpr: "AAAA"}}})

	ms, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := core.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(struct {
		M MachineState
		C CoreState
	}{ms, cs})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		M MachineState
		C CoreState
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}

	core2 := NewCore(Config{FSM: core.cfg.FSM, Keys: keys, Out: &sink{}, Clock: clock, NewTID: core.cfg.NewTID})
	m2 := NewMachine(core.cfg.FSM, core2, clock)
	if err := m2.Restore(back.M); err != nil {
		t.Fatal(err)
	}
	if err := core2.Restore(back.C); err != nil {
		t.Fatal(err)
	}
	if m.Summary() != m2.Summary() {
		t.Errorf("machine\n got %s\nwant %s", m2.Summary(), m.Summary())
	}
	if !reflect.DeepEqual(core.Vars, core2.Vars) {
		t.Errorf("vars\n got %+v\nwant %+v", core2.Vars, core.Vars)
	}
	if core.Deferred() == 0 || core.Deferred() != core2.Deferred() {
		t.Errorf("deferred %d, restored %d", core.Deferred(), core2.Deferred())
	}
	r1, _ := core.NextRelease()
	r2, _ := core2.NextRelease()
	if !r1.Equal(r2) {
		t.Errorf("next release %v, restored %v", r2, r1)
	}
	d1, ok1 := m.Deadline()
	d2, ok2 := m2.Deadline()
	if ok1 != ok2 || !d1.Equal(d2) {
		t.Errorf("deadline %v %v, restored %v %v", d1, ok1, d2, ok2)
	}
	if m2.Queued() != 2 {
		t.Errorf("restored queue holds %d events, want 2", m2.Queued())
	}
}

func TestRestoreRejectsUnknownState(t *testing.T) {
	core, _, _, clock := newTestCore()
	m := NewMachine(core.cfg.FSM, core, clock)
	if err := m.Restore(MachineState{State: "Nowhere"}); err == nil {
		t.Fatal("restored a state the fsm lacks")
	}
	if err := core.Restore(CoreState{LastSent: map[string]time.Time{"Nothing": {}}}); err == nil {
		t.Fatal("restored a rate limit of an unknown message")
	}
}

func TestRestoreStoppedAfterEnd(t *testing.T) {
	core, _, _, clock := newTestCore()
	m := NewMachine(core.cfg.FSM, core, clock)
	if err := m.Restore(MachineState{State: End, Stopped: true, Epoch: 3}); err != nil {
		t.Fatal(err)
	}
	if m.State() != End || m.Running() {
		t.Fatalf("state %q running %v", m.State(), m.Running())
	}
}
