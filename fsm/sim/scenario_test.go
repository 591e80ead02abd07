package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/keysync/keysync/fsm"
)

// next puts the first pending message (in per-sender order) on the channel
// and lets every device receive it. It returns false if nothing is pending.
func next(w *World) bool {
	for i, e := range w.Pending {
		if !e.Stale && w.Orderable(i) {
			w.Order(i, false)
			w.deliverAll()
			return true
		}
	}
	return false
}

// until steps until ok holds; it fails the test if the channel runs dry.
func until(t *testing.T, w *World, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if !next(w) {
			t.Fatalf("channel empty before %s; states %v", what, states(w))
		}
	}
}

// drop loses every pending message of kind name.
func drop(w *World, name string) int {
	n := 0
	for i := len(w.Pending) - 1; i >= 0; i-- {
		if e := w.Pending[i]; e.Msg != nil && e.Msg.Kind().String() == name {
			w.Drop(i)
			n++
		}
	}
	return n
}

func states(w *World) []string {
	var s []string
	for _, d := range w.Devices {
		s = append(s, d.State())
	}
	return s
}

func wantStates(t *testing.T, w *World, want ...string) {
	t.Helper()
	if got := states(w); !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
}

func clean(t *testing.T, w *World) {
	t.Helper()
	if len(w.Violations) > 0 {
		t.Errorf("violations: %v", w.Violations)
	}
	if err := w.Errors(); err != nil {
		t.Errorf("aborted handlers: %v", err)
	}
}

func hasSignal(d *Device, s fsm.Signal) bool { return slices.Contains(d.Signals, s) }

// pair starts two sole devices and lets them discover each other; it
// returns the world and the indices of the Offerer and the Requester.
func pair(t *testing.T) (*World, int, int) {
	t.Helper()
	w := New(nil, 2, 0)
	w.Start()
	w.Settle()
	off, req := 0, 1
	if w.Devices[1].State() == "HandshakingOfferer" {
		off, req = 1, 0
	}
	if w.Devices[off].State() != "HandshakingOfferer" || w.Devices[req].State() != "HandshakingRequester" {
		t.Fatalf("after discovery: %v", states(w))
	}
	for _, d := range w.Devices {
		if !hasSignal(d, fsm.SignalInitFormGroup) {
			t.Fatalf("device %d shows no form-group dialog: %v", d.ID, d.Signals)
		}
	}
	// The smaller challenge is the Offerer's (doc/protocol.md §11.1).
	if compare(w.Devices[off].Core.Own.Challenge[:], w.Devices[req].Core.Own.Challenge[:]) >= 0 {
		t.Fatal("Offerer has the larger challenge")
	}
	return w, off, req
}

func compare(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

func checkFormed(t *testing.T, w *World, off, req int) {
	t.Helper()
	o, r := w.Devices[off], w.Devices[req]
	wantStates(t, w, "Grouped", "Grouped")
	reqKey := fpr(req, 0)
	if o.Keys.Default != reqKey || r.Keys.Default != reqKey {
		t.Fatalf("group keys %.8s %.8s, want the Requester's %.8s", o.Keys.Default, r.Keys.Default, reqKey)
	}
	if !o.Keys.Revoked[fpr(off, 0)] || !r.Keys.Secret[fpr(off, 0)] {
		t.Error("the Offerer's old key is not revoked on it, or did not reach the Requester")
	}
	for _, d := range []*Device{o, r} {
		if !d.Keys.Grouped || !hasSignal(d, fsm.SignalAcceptedGroupCreated) || d.Signals[len(d.Signals)-1] != fsm.SignalInGroup {
			t.Errorf("device %d: grouped %t signals %v", d.ID, d.Keys.Grouped, d.Signals)
		}
	}
	clean(t, w)
}

func TestFormGroupOffererAcceptsFirst(t *testing.T) {
	w, off, req := pair(t)
	w.User(off, "Accept")
	w.Settle()
	if w.Devices[off].State() != "HandshakingPhase1Offerer" {
		t.Fatalf("Offerer in %s", w.Devices[off].State())
	}
	w.User(req, "Accept")
	w.Settle()
	checkFormed(t, w, off, req)
}

func TestFormGroupRequesterAcceptsFirst(t *testing.T) {
	w, off, req := pair(t)
	w.User(req, "Accept")
	until(t, w, "Phase2Offerer", func() bool { return w.Devices[off].State() == "HandshakingPhase2Offerer" })
	if w.Devices[req].State() != "HandshakingPhase1Requester" {
		t.Fatalf("Requester in %s", w.Devices[req].State())
	}
	w.Settle()
	w.User(off, "Accept")
	w.Settle()
	checkFormed(t, w, off, req)
	// The Offerer's set_own_key caused a GroupKeysUpdate, which changed nothing.
	if w.Devices[off].Keys.Default != w.Devices[req].Keys.Default {
		t.Error("keys differ after GroupKeysUpdate")
	}
}

// TestCancel covers Cancel on each side in each phase that handles it.
func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, w *World, off, req int) int // returns the cancelling device
		trust bool                                           // the other side had trusted and must untrust
	}{
		{"Offerer in HandshakingOfferer", func(t *testing.T, w *World, off, req int) int { return off }, false},
		{"Requester in HandshakingRequester", func(t *testing.T, w *World, off, req int) int { return req }, false},
		{"Offerer in HandshakingOfferer after Requester accepted", func(t *testing.T, w *World, off, req int) int {
			w.User(req, "Accept")
			w.Settle()
			if w.Devices[off].State() != "HandshakingPhase2Offerer" {
				t.Fatalf("Offerer in %s", w.Devices[off].State())
			}
			return off
		}, true},
		{"Requester after Offerer accepted", func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			w.Settle()
			return req
		}, true},
		{"Offerer in FormingGroupOfferer", func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			w.User(req, "Accept")
			until(t, w, "FormingGroupRequester", func() bool { return w.Devices[req].State() == "FormingGroupRequester" })
			drop(w, "OwnKeysRequester")
			return off
		}, false},
		{"Requester in FormingGroupRequester", func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			w.User(req, "Accept")
			until(t, w, "FormingGroupRequester", func() bool { return w.Devices[req].State() == "FormingGroupRequester" })
			drop(w, "OwnKeysRequester")
			return req
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, off, req := pair(t)
			c := tc.setup(t, w, off, req)
			other := w.Devices[off+req-c]
			w.User(c, "Cancel")
			w.Settle()
			wantStates(t, w, "Sole", "Sole")
			if tc.trust && other.Keys.Trust[fpr(c, 0)] {
				t.Error("the partner still trusts the cancelling device's key after Rollback in Phase1")
			}
			for _, d := range w.Devices {
				if d.Keys.Disabled || d.Keys.Grouped || d.Keys.Secret[fpr(1-d.ID, 0)] {
					t.Errorf("device %d: disabled %t grouped %t or holds the partner's key", d.ID, d.Keys.Disabled, d.Keys.Grouped)
				}
			}
			clean(t, w)
		})
	}
}

// TestReject covers Reject on each side in each phase that handles it: sync
// ends on both sole devices and no key moves.
func TestReject(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w *World, off, req int) int
	}{
		{"Offerer first", func(w *World, off, req int) int { return off }},
		{"Requester first", func(w *World, off, req int) int { return req }},
		{"Offerer after Requester accepted", func(w *World, off, req int) int {
			w.User(req, "Accept")
			w.Settle()
			return off
		}},
		{"Requester after Offerer accepted", func(w *World, off, req int) int {
			w.User(off, "Accept")
			w.Settle()
			return req
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, off, req := pair(t)
			r := tc.setup(w, off, req)
			w.User(r, "Reject")
			w.Settle()
			wantStates(t, w, fsm.End, fsm.End)
			for _, d := range w.Devices {
				if !d.Keys.Disabled || d.Keys.Secret[fpr(1-d.ID, 0)] || (d.ID != r && d.Keys.Trust[fpr(r, 0)]) {
					t.Errorf("device %d: disabled %t, holds or trusts the partner key", d.ID, d.Keys.Disabled)
				}
			}
			clean(t, w)
		})
	}
}

// join starts a group of n devices (0..n-1) and a sole device n, and lets
// them discover each other.
func join(t *testing.T, n int) *World {
	t.Helper()
	w := New(nil, n+1, 0)
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	w.Group(ids...)
	w.Start()
	w.Settle()
	for i := 0; i < n; i++ {
		if s := w.Devices[i].State(); s != "HandshakingGrouped" || !hasSignal(w.Devices[i], fsm.SignalInitAddOtherDevice) {
			t.Fatalf("member %d in %s, signals %v", i, s, w.Devices[i].Signals)
		}
	}
	if s := w.Devices[n].State(); s != "HandshakingToJoin" || !hasSignal(w.Devices[n], fsm.SignalInitAddOurDevice) {
		t.Fatalf("joiner in %s", s)
	}
	return w
}

func checkJoined(t *testing.T, w *World) {
	t.Helper()
	gk := fpr(0, 0)
	n := len(w.Devices) - 1
	for _, d := range w.Devices {
		if d.State() != "Grouped" || d.Keys.Default != gk {
			t.Fatalf("device %d in %s with key %.8s, want Grouped with %.8s", d.ID, d.State(), d.Keys.Default, gk)
		}
		if d.ID < n && (!d.Keys.Trust[fpr(n, 0)] || !d.Keys.Secret[fpr(n, 0)]) {
			t.Errorf("member %d does not trust or hold the joiner's old key", d.ID)
		}
	}
	j := w.Devices[n]
	if !hasSignal(j, fsm.SignalAcceptedDeviceAdded) || !j.Keys.Revoked[fpr(n, 0)] {
		t.Errorf("joiner: signals %v, old key revoked %t", j.Signals, j.Keys.Revoked[fpr(n, 0)])
	}
	clean(t, w)
}

func TestJoinAcceptedByOneMember(t *testing.T) {
	for _, joinerFirst := range []bool{true, false} {
		w := join(t, 2)
		if joinerFirst {
			w.User(2, "Accept")
			w.Settle()
		}
		w.User(1, "Accept")
		w.Settle()
		if !joinerFirst {
			if s := w.Devices[2].State(); s != "HandshakingToJoinPhase2" {
				t.Fatalf("joiner in %s", s)
			}
			w.User(2, "Accept")
			w.Settle()
		}
		checkJoined(t, w)
		if !hasSignal(w.Devices[1], fsm.SignalAcceptedDeviceAccepted) || hasSignal(w.Devices[0], fsm.SignalAcceptedDeviceAccepted) {
			t.Error("device-accepted signal on the wrong member")
		}
	}
}

func TestJoinAcceptedBySeveralMembers(t *testing.T) {
	w := join(t, 3)
	w.User(0, "Accept")
	w.User(2, "Accept")
	w.User(3, "Accept")
	w.Settle()
	w.User(1, "Accept") // member 1's dialog was closed by GroupTrustThisKey: ignored
	w.Settle()
	checkJoined(t, w)
}

func TestJoinCancelAndReject(t *testing.T) {
	t.Run("joiner cancels in HandshakingToJoin", func(t *testing.T) {
		w := join(t, 2)
		w.User(2, "Cancel")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", "Sole")
		clean(t, w)
	})
	t.Run("joiner cancels in HandshakingToJoinPhase2", func(t *testing.T) {
		w := join(t, 2)
		w.User(0, "Accept")
		w.Settle()
		w.User(2, "Cancel")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", "Sole")
		if w.Devices[0].Keys.Trust[fpr(2, 0)] {
			t.Error("member still trusts the joiner after Rollback in HandshakingGroupedPhase1")
		}
		clean(t, w)
	})
	t.Run("joiner cancels in JoiningGroup (D2)", func(t *testing.T) {
		w := join(t, 2)
		w.User(2, "Accept")
		w.User(0, "Accept")
		until(t, w, "JoiningGroup", func() bool { return w.Devices[2].State() == "JoiningGroup" })
		drop(w, "CommitAccept")
		w.User(2, "Cancel")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", "Sole")
		clean(t, w)
	})
	t.Run("member cancels", func(t *testing.T) {
		w := join(t, 2)
		w.User(1, "Cancel")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", "Sole")
		clean(t, w)
	})
	t.Run("member rejects: it stays grouped, the joiner stops", func(t *testing.T) {
		w := join(t, 2)
		w.User(0, "Reject")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", fsm.End)
		clean(t, w)
	})
	t.Run("joiner rejects in HandshakingToJoinPhase2", func(t *testing.T) {
		w := join(t, 2)
		w.User(1, "Accept")
		w.Settle()
		w.User(2, "Reject")
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", fsm.End)
		if w.Devices[2].Keys.Secret[fpr(0, 0)] {
			t.Error("the group key reached the rejecting joiner")
		}
		clean(t, w)
	})
}

// TestTimeoutInEveryTransitionalState drives a device into each state with
// a timer, lets the timer fire and checks the device re-initialised with
// SignalTimeout and no trust left from the abandoned negotiation (D5).
func TestTimeoutInEveryTransitionalState(t *testing.T) {
	type setup func(t *testing.T) (*World, int)
	pairIn := func(f func(t *testing.T, w *World, off, req int) int) setup {
		return func(t *testing.T) (*World, int) {
			w, off, req := pair(t)
			return w, f(t, w, off, req)
		}
	}
	joinIn := func(f func(t *testing.T, w *World) int) setup {
		return func(t *testing.T) (*World, int) {
			w := join(t, 2)
			return w, f(t, w)
		}
	}
	cases := map[string]setup{
		"HandshakingOfferer":   pairIn(func(t *testing.T, w *World, off, req int) int { return off }),
		"HandshakingRequester": pairIn(func(t *testing.T, w *World, off, req int) int { return req }),
		"HandshakingPhase1Offerer": pairIn(func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			return off
		}),
		"HandshakingPhase1Requester": pairIn(func(t *testing.T, w *World, off, req int) int {
			w.User(req, "Accept")
			drop(w, "CommitAcceptRequester")
			return req
		}),
		"HandshakingPhase2Offerer": pairIn(func(t *testing.T, w *World, off, req int) int {
			w.User(req, "Accept")
			w.Settle()
			return off
		}),
		"FormingGroupOfferer": pairIn(func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			w.User(req, "Accept")
			until(t, w, "FormingGroupOfferer", func() bool { return w.Devices[off].State() == "FormingGroupOfferer" })
			drop(w, "CommitAcceptOfferer")
			return off
		}),
		"FormingGroupRequester": pairIn(func(t *testing.T, w *World, off, req int) int {
			w.User(off, "Accept")
			w.User(req, "Accept")
			until(t, w, "FormingGroupRequester", func() bool { return w.Devices[req].State() == "FormingGroupRequester" })
			drop(w, "OwnKeysRequester")
			return req
		}),
		"HandshakingToJoin":  joinIn(func(t *testing.T, w *World) int { return 2 }),
		"HandshakingGrouped": joinIn(func(t *testing.T, w *World) int { return 0 }),
		"HandshakingToJoinPhase1": joinIn(func(t *testing.T, w *World) int {
			w.User(2, "Accept")
			return 2
		}),
		"HandshakingToJoinPhase2": joinIn(func(t *testing.T, w *World) int {
			w.User(0, "Accept")
			w.Settle()
			return 2
		}),
		"HandshakingGroupedPhase1": joinIn(func(t *testing.T, w *World) int {
			w.User(0, "Accept")
			drop(w, "CommitAcceptForGroup")
			w.Settle()
			return 0
		}),
		"JoiningGroup": joinIn(func(t *testing.T, w *World) int {
			w.User(2, "Accept")
			w.User(0, "Accept")
			until(t, w, "JoiningGroup", func() bool { return w.Devices[2].State() == "JoiningGroup" })
			drop(w, "CommitAccept")
			return 2
		}),
		"GroupKeyResetElection": func(t *testing.T) (*World, int) {
			w := New(nil, 3, 0)
			w.Group(0, 1, 2)
			w.Start()
			w.Settle()
			w.Signal(0, "LeaveDeviceGroup")
			until(t, w, "election", func() bool { return w.Devices[1].State() == "GroupKeyResetElection" })
			drop(w, "ElectGroupKeyResetLeader")
			return w, 1
		},
	}
	for _, s := range fsm.Embedded().KeySync().States {
		if !s.Transitional() {
			continue
		}
		if cases[s.Name] == nil {
			t.Errorf("no timeout case for %s", s.Name)
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			w, dev := cases[s.Name](t)
			d := w.Devices[dev]
			if d.State() != s.Name {
				t.Fatalf("device %d in %s, want %s", dev, d.State(), s.Name)
			}
			trusted := d.Core.Trusted
			w.Advance(time.Duration(s.Timeout)*time.Second - time.Second)
			if d.State() != s.Name {
				t.Fatalf("left %s before its timeout, for %s", s.Name, d.State())
			}
			d.Signals = nil
			w.Advance(time.Second)
			if st := d.State(); st != "Sole" && st != "Grouped" {
				t.Fatalf("after the timeout in %s", st)
			}
			if len(d.Signals) == 0 || d.Signals[0] != fsm.SignalTimeout {
				t.Errorf("signals %v, want TIMEOUT first", d.Signals)
			}
			if trusted != "" && d.Keys.Trust[trusted] && trusted != d.Keys.Default {
				t.Errorf("key %.8s trusted in the abandoned negotiation is still trusted", trusted)
			}
			clean(t, w)
		})
	}
}

// TestLeave covers the unled group key reset with 2 and 3 remaining
// devices: exactly one leader, and all remaining devices end with its new
// key.
func TestLeave(t *testing.T) {
	for _, n := range []int{3, 4} {
		w := New(nil, n, 0)
		ids := make([]int, n)
		for i := range ids {
			ids[i] = i
		}
		w.Group(ids...)
		w.Start()
		w.Settle()
		old := fpr(0, 0)
		w.Signal(n-1, "LeaveDeviceGroup")
		w.Settle()
		leaver := w.Devices[n-1]
		if leaver.State() != fsm.End || leaver.Keys.Default == old || leaver.Keys.Grouped {
			t.Errorf("leaver: %s key %.8s grouped %t", leaver.State(), leaver.Keys.Default, leaver.Keys.Grouped)
		}
		leaders := 0
		newKey := w.Devices[0].Keys.Default
		for _, d := range w.Devices[:n-1] {
			if d.State() != "Grouped" || d.Keys.Default != newKey || newKey == old || newKey == leaver.Keys.Default {
				t.Errorf("%d remaining: device %d in %s with %.8s (first %.8s, old %.8s)", n-1, d.ID, d.State(), d.Keys.Default, newKey, old)
			}
			if d.Keys.gen > 0 {
				leaders++
			}
		}
		if leaders != 1 {
			t.Errorf("%d remaining: %d leaders", n-1, leaders)
		}
		clean(t, w)
	}
}

func TestKeyGenAndCannotDecrypt(t *testing.T) {
	for _, ev := range []string{"KeyGen", "CannotDecrypt"} {
		t.Run(ev+" in Sole sends a Beacon", func(t *testing.T) {
			w := New(nil, 1, 0)
			w.Start()
			w.Settle()
			w.Advance(time.Minute) // past the Beacon rate limit
			w.Signal(0, ev)
			if len(w.Pending) != 1 || w.Pending[0].Msg.Kind().String() != "Beacon" {
				t.Fatalf("pending %v", w.Pending)
			}
			w.Settle()
			wantStates(t, w, "Sole")
			clean(t, w)
		})
	}
	t.Run("KeyGen in Grouped sends GroupKeysUpdate", func(t *testing.T) {
		w := New(nil, 2, 0)
		w.Group(0, 1)
		w.Start()
		w.Settle()
		w.Signal(1, "KeyGen")
		if len(w.Pending) != 1 || w.Pending[0].Msg.Kind().String() != "GroupKeysUpdate" || len(w.Pending[0].Attached) == 0 {
			t.Fatalf("pending %v", w.Pending)
		}
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped")
		clean(t, w)
	})
	t.Run("CannotDecrypt in Grouped: SynchronizeGroupKeys, answered by every member", func(t *testing.T) {
		w := New(nil, 3, 0)
		w.Group(0, 1, 2)
		w.Start()
		w.Settle()
		w.Advance(time.Minute) // past the SynchronizeGroupKeys rate limit
		w.Settle()
		w.Signal(2, "CannotDecrypt")
		if len(w.Pending) != 1 || w.Pending[0].Msg.Kind().String() != "SynchronizeGroupKeys" {
			t.Fatalf("pending %v", w.Pending)
		}
		next(w)
		updates := 0
		for _, e := range w.Pending {
			if e.Msg.Kind().String() == "GroupKeysUpdate" {
				updates++
			}
		}
		if updates != 3 {
			t.Errorf("%d GroupKeysUpdate answers, want 3 (the sender included)", updates)
		}
		w.Settle()
		wantStates(t, w, "Grouped", "Grouped", "Grouped")
		clean(t, w)
	})
}

// TestRedeliveryOfOldMessages re-delivers every message of a join after
// it completed. The protocol has no replay protection (doc/protocol.md §18.3):
// the old Beacon and GroupHandshake reopen dialogs, and a device may abort
// a handler (trusting its own revoked key). But no invariant breaks, and
// once timers have fired every device is Grouped with unchanged keys.
func TestRedeliveryOfOldMessages(t *testing.T) {
	w := New(nil, 3, 0)
	w.Group(0, 1)
	w.Start()
	var all []*Envelope
	record := func() {
		for i := 0; i < len(w.Pending); {
			if w.Pending[i].Stale {
				i++
				continue
			}
			all = append(all, w.Pending[i])
			w.Order(i, false)
			w.deliverAll()
		}
	}
	for len(w.Pending) > 0 {
		record()
	}
	w.User(2, "Accept")
	w.User(0, "Accept")
	for len(w.Pending) > 0 {
		record()
	}
	checkJoined(t, w)
	keys := []string{}
	for _, d := range w.Devices {
		keys = append(keys, d.Keys.Default)
	}
	for _, e := range all {
		c := *e
		c.Stale, c.fp = true, ""
		w.Pending = append(w.Pending, &c)
	}
	for i := 0; i < len(w.Pending); {
		if w.Pending[i].Stale {
			w.Order(i, false)
		} else {
			i++
		}
	}
	w.Drain(20)
	w.Advance(10 * time.Minute) // close reopened dialogs
	w.Settle()
	wantStates(t, w, "Grouped", "Grouped", "Grouped")
	for i, d := range w.Devices {
		if d.Keys.Default != keys[i] {
			t.Errorf("device %d changed key", i)
		}
	}
	if len(w.Violations) > 0 {
		t.Errorf("violations: %v", w.Violations)
	}
	t.Logf("aborted handlers during re-delivery: %v", w.Errors())
}
