package fsm

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// fakeDevice records what the machine asks of it.
type fakeDevice struct {
	conds   map[string]bool
	fail    map[string]bool // condition, action or message names that fail
	log     []string
	dropAll bool
}

func (d *fakeDevice) Load(ev Event, inNegotiation bool) bool {
	d.log = append(d.log, "load "+ev.Name)
	return !d.dropAll
}
func (d *fakeDevice) Condition(name string) (bool, error) {
	if d.fail[name] {
		return false, errors.New("broken " + name)
	}
	return d.conds[name], nil
}
func (d *fakeDevice) Action(name string) error {
	d.log = append(d.log, "do "+name)
	if d.fail[name] {
		return errors.New("broken " + name)
	}
	return nil
}
func (d *fakeDevice) Send(m *Message) error {
	d.log = append(d.log, "send "+m.Name)
	if d.fail[m.Name] {
		return ErrCannotSend
	}
	return nil
}
func (d *fakeDevice) Notify(s Signal) { d.log = append(d.log, "notify "+strconv.Itoa(int(s))) }
func (d *fakeDevice) Abandon() error {
	d.log = append(d.log, "abandon")
	return nil
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func newTestMachine(t *testing.T) (*Machine, *fakeDevice, *fakeClock) {
	t.Helper()
	d := &fakeDevice{conds: map[string]bool{}, fail: map[string]bool{}}
	c := &fakeClock{t: time.Unix(1000, 0)}
	return NewMachine(Embedded().KeySync(), d, c), d, c
}

func (d *fakeDevice) take() []string { l := d.log; d.log = nil; return l }

func TestStartRunsInitChain(t *testing.T) {
	m, d, _ := newTestMachine(t)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	// InitState Init (not grouped) → Sole, whose Init runs in the same call.
	want := []string{"do newChallengeAndNegotiationBase", "send Beacon", "do showBeingSole"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "Sole" {
		t.Fatalf("state %s, log %q, want Sole, %q", m.State(), got, want)
	}
	d.conds["deviceGrouped"] = true
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	want = []string{"send SynchronizeGroupKeys", "do newChallengeAndNegotiationBase", "do showBeingInGroup"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "Grouped" {
		t.Fatalf("state %s, log %q, want Grouped, %q", m.State(), got, want)
	}
}

func TestStayGoIgnoreAndEnd(t *testing.T) {
	m, d, _ := newTestMachine(t)
	m.Start()
	d.take()
	m.Post(Event{Name: "Accept"}) // Sole ignores Accept
	m.Post(Event{Name: "KeyGen"}) // stays, sends a Beacon
	d.conds["sameChallenge"] = true
	m.Post(Event{Name: "NegotiationRequest"})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	want := []string{"load Accept", "load KeyGen", "send Beacon", "load NegotiationRequest",
		"do storeNegotiation", "send NegotiationOpen", "do showSoleHandshake"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "HandshakingOfferer" {
		t.Fatalf("state %s, log %q, want %q", m.State(), got, want)
	}
	m.Post(Event{Name: "Reject"})
	m.Post(Event{Name: "KeyGen"}) // after End: not processed
	m.Run()
	if m.State() != End || m.Running() {
		t.Fatalf("state %s running %t, want End, stopped", m.State(), m.Running())
	}
	if got := d.take(); !reflect.DeepEqual(got, []string{"load Reject", "send CommitReject", "do disable"}) {
		t.Fatalf("log %q", got)
	}
	m.Post(Event{Name: "KeyGen"})
	if ok, _ := m.Step(); ok {
		t.Fatal("a stopped machine processed an event")
	}
}

func TestDroppedEventRunsNoHandler(t *testing.T) {
	m, d, _ := newTestMachine(t)
	m.Start()
	d.take()
	d.dropAll = true
	d.conds["sameChallenge"] = true
	m.Post(Event{Name: "NegotiationRequest"})
	m.Run()
	if got := d.take(); !reflect.DeepEqual(got, []string{"load NegotiationRequest"}) || m.State() != "Sole" {
		t.Fatalf("state %s log %q", m.State(), got)
	}
}

// A failing send aborts the handler before its go, and the machine
// re-initialises without SignalTimeout (issue 4's decision).
func TestAbortReinitialises(t *testing.T) {
	m, d, _ := newTestMachine(t)
	m.Start()
	d.conds["sameChallenge"] = true
	m.Post(Event{Name: "NegotiationRequest"})
	m.Run()
	d.take()
	m.Post(Event{Name: "Accept"})
	m.Run()
	if m.State() != "HandshakingPhase1Offerer" {
		t.Fatalf("state %s", m.State())
	}
	d.take()
	d.conds["sameNegotiation"] = true
	d.fail["CommitAcceptOfferer"] = true
	m.Post(Event{Name: "CommitAcceptRequester"})
	err := m.Run()
	if !errors.Is(err, ErrAborted) || !errors.Is(err, ErrCannotSend) {
		t.Fatalf("err = %v", err)
	}
	want := []string{"load CommitAcceptRequester", "send CommitAcceptOfferer", "abandon",
		"do newChallengeAndNegotiationBase", "send Beacon", "do showBeingSole"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "Sole" {
		t.Fatalf("state %s log %q, want Sole %q", m.State(), got, want)
	}
}

func TestFailedReinitStaysInInitState(t *testing.T) {
	m, d, _ := newTestMachine(t)
	d.fail["deviceGrouped"] = true
	err := m.Start()
	if !errors.Is(err, ErrAborted) || m.State() != "InitState" {
		t.Fatalf("state %s err %v", m.State(), err)
	}
	d.fail["deviceGrouped"] = false
	if err := m.Start(); err != nil || m.State() != "Sole" {
		t.Fatalf("restart: state %s err %v", m.State(), err)
	}
}

func TestTimeoutFromEntryAsOwnEvent(t *testing.T) {
	m, d, c := newTestMachine(t)
	m.Start()
	d.conds["sameResponse"] = true
	m.Post(Event{Name: "NegotiationOpen"})
	m.Run()
	if m.State() != "HandshakingRequester" {
		t.Fatalf("state %s", m.State())
	}
	dl, ok := m.Deadline()
	if !ok || !dl.Equal(c.t.Add(120*time.Second)) {
		t.Fatalf("deadline %v %t, want entry+120s", dl, ok)
	}
	c.t = c.t.Add(119 * time.Second)
	m.Run()
	if m.State() != "HandshakingRequester" {
		t.Fatal("timed out early")
	}
	d.take()
	c.t = c.t.Add(time.Second)
	// An event queued before the timer fires is processed first (D5, D7).
	m.Post(Event{Name: "Beacon"})
	m.Run()
	want := []string{"load Beacon", "abandon", "notify 5",
		"do newChallengeAndNegotiationBase", "send Beacon", "do showBeingSole"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "Sole" {
		t.Fatalf("state %s log %q, want %q", m.State(), got, want)
	}
	if _, ok := m.Deadline(); ok {
		t.Error("Sole has a timer")
	}
}

func TestTimerCancelledWhenStateLeft(t *testing.T) {
	m, d, c := newTestMachine(t)
	m.Start()
	d.conds["sameResponse"] = true
	m.Post(Event{Name: "NegotiationOpen"})
	m.Run()
	c.t = c.t.Add(200 * time.Second)
	m.Tick() // queues the Timeout of HandshakingRequester
	m.Post(Event{Name: "Accept"})
	d.take()
	// FIFO: the timeout comes first and re-initialises; Accept is then ignored in Sole.
	m.Run()
	if m.State() != "Sole" {
		t.Fatalf("state %s", m.State())
	}
	// A timeout queued after an event that leaves the state is ignored.
	m.Post(Event{Name: "NegotiationOpen"})
	m.Run()
	if m.State() != "HandshakingRequester" {
		t.Fatalf("state %s", m.State())
	}
	c.t = c.t.Add(120 * time.Second)
	m.Post(Event{Name: "Cancel"})
	m.Tick()
	d.take()
	m.Run()
	want := []string{"load Cancel", "send Rollback", "do showBeingSole"}
	if got := d.take(); !reflect.DeepEqual(got, want) || m.State() != "Sole" {
		t.Fatalf("state %s log %q, want %q", m.State(), got, want)
	}
}
