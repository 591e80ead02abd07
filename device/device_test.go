package device

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, w *net, devs ...*Device) {
	t.Helper()
	for _, d := range devs {
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}
}

// answer gives the user's answer on every device in devs that shows a
// handshake its user has not answered yet, and settles the channel.
func answer(t *testing.T, w *net, ans string, devs ...*Device) {
	t.Helper()
	for _, d := range devs {
		s := d.Status()
		if s.Handshake == nil || s.Handshake.Accepted {
			continue
		}
		if err := d.User(ans); err != nil {
			t.Fatal(err)
		}
		w.settle(t)
	}
}

// form pairs w's first two devices.
func form(t *testing.T, w *net) {
	t.Helper()
	a, b := w.devs[0], w.devs[1]
	start(t, w, a, b)
	w.settle(t)
	sa, sb := a.Status(), b.Status()
	if sa.Handshake == nil || sb.Handshake == nil {
		w.dump(t)
		t.Fatalf("no handshake: %s %s", sa.State, sb.State)
	}
	if sa.Handshake.Own != sb.Handshake.Partner || sb.Handshake.Own != sa.Handshake.Partner {
		t.Fatalf("handshake keys differ: %+v %+v", sa.Handshake, sb.Handshake)
	}
	answer(t, w, "Accept", a, b)
	sa, sb = a.Status(), b.Status()
	if sa.State != "Grouped" || sb.State != "Grouped" || !equalKeys(sa.Group.Keys, sb.Group.Keys) {
		w.dump(t)
		t.Fatalf("not grouped: %s %v, %s %v", sa.State, sa.Group.Keys, sb.State, sb.Group.Keys)
	}
}

func TestTwoDevicesFormGroup(t *testing.T) {
	codecs(t, func(t *testing.T, codec Codec) {
		clock := &testClock{t: time.Unix(1e9, 0)}
		w := newNet(t, 2, clock, codec)
		form(t, w)
		a, b := w.devs[0].Status(), w.devs[1].Status()
		if !slices.Equal(a.Group.Members, b.Group.Members) || len(a.Group.Members) != 2 {
			t.Fatalf("members %v and %v", a.Group.Members, b.Group.Members)
		}
	})
}

func TestRejectLeavesNoSharedKey(t *testing.T) {
	codecs(t, func(t *testing.T, codec Codec) {
		clock := &testClock{t: time.Unix(1e9, 0)}
		w := newNet(t, 2, clock, codec)
		a, b := w.devs[0], w.devs[1]
		start(t, w, a, b)
		w.settle(t)
		if err := a.User("Reject"); err != nil {
			t.Fatal(err)
		}
		w.settle(t)
		sa, sb := a.Status(), b.Status()
		if sa.Running || sb.Running || sa.Group.Grouped || sb.Group.Grouped {
			t.Fatalf("after reject: %+v %+v", sa, sb)
		}
		for f, r := range a.keys.Keys {
			if r.Secret != "" && b.keys.Keys[f] != nil && b.keys.Keys[f].Secret != "" {
				t.Fatalf("both hold secret key %s", f)
			}
		}
	})
}

func TestThirdJoinsAndOneLeaves(t *testing.T) {
	codecs(t, func(t *testing.T, codec Codec) {
		clock := &testClock{t: time.Unix(1e9, 0)}
		w := newNet(t, 2, clock, codec)
		form(t, w)
		c := w.add(t, clock)
		clock.t = clock.t.Add(time.Minute)
		start(t, w, c)
		w.settle(t)
		sc := c.Status()
		if sc.Handshake == nil || sc.Handshake.Kind != "join-group" {
			w.dump(t)
			t.Fatalf("joiner shows %+v in %s", sc.Handshake, sc.State)
		}
		answer(t, w, "Accept", c, w.devs[0])
		w.settle(t)
		var keys []string
		for i, d := range w.devs {
			s := d.Status()
			if s.State != "Grouped" {
				w.dump(t)
				t.Fatalf("device %d in %s", i, s.State)
			}
			if i > 0 && !slices.Equal(keys, s.Group.Keys) {
				t.Fatalf("device %d group keys %v, want %v", i, s.Group.Keys, keys)
			}
			keys = s.Group.Keys
			if len(s.Group.Members) != 3 {
				w.dump(t)
				t.Fatalf("device %d knows members %v", i, s.Group.Members)
			}
		}
		old := keys[0]

		// Device 1 leaves; 0 and 2 get a new group key 1 cannot read.
		leaver := w.devs[1]
		if err := leaver.User("LeaveDeviceGroup"); err != nil {
			t.Fatal(err)
		}
		w.settle(t)
		s0, s1, s2 := w.devs[0].Status(), leaver.Status(), w.devs[2].Status()
		if s0.State != "Grouped" || s2.State != "Grouped" || !equalKeys(s0.Group.Keys, s2.Group.Keys) {
			w.dump(t)
			t.Fatalf("after leave: %s %v, %s %v", s0.State, s0.Group.Keys, s2.State, s2.Group.Keys)
		}
		nk := s0.Group.Keys[0]
		if nk == old {
			t.Fatal("group key not reset")
		}
		if s1.Group.Grouped || s1.Running {
			t.Fatalf("leaver still grouped: %+v", s1)
		}
		if r := leaver.keys.Keys[nk]; r != nil && r.Secret != "" {
			t.Fatal("leaver holds the new group key")
		}
	})
}

func TestRestartResumes(t *testing.T) {
	codecs(t, func(t *testing.T, codec Codec) {
		clock := &testClock{t: time.Unix(1e9, 0)}
		w := newNet(t, 2, clock, codec)
		a, b := w.devs[0], w.devs[1]
		start(t, w, a, b)
		w.settle(t)
		before := b.Status()
		if before.Handshake == nil {
			t.Fatal("no handshake")
		}
		home := b.home
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		b2, err := Open(home, Options{Codec: codec, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		defer b2.Close()
		w.devs[1] = b2
		after := b2.Status()
		if after.State != before.State || after.Position != before.Position || *after.Handshake != *before.Handshake {
			t.Fatalf("restored %+v, was %+v", after, before)
		}
		// A message delivered again is handled once.
		w.log = append(w.log, w.log[len(w.log)-1])
		w.settle(t)
		answer(t, w, "Accept", a, b2)
		if a.Status().State != "Grouped" || b2.Status().State != "Grouped" {
			w.dump(t)
			t.Fatal("not grouped after restart")
		}
	})
}

func TestHandshakeTimesOut(t *testing.T) {
	codecs(t, func(t *testing.T, codec Codec) {
		clock := &testClock{t: time.Unix(1e9, 0)}
		w := newNet(t, 2, clock, codec)
		a, b := w.devs[0], w.devs[1]
		start(t, w, a, b)
		w.settle(t)
		for i := 0; i < 10 && a.Status().Handshake != nil; i++ {
			next, ok := a.Next()
			if !ok {
				t.Fatal("no timer in a handshake")
			}
			clock.t = next
			if err := a.Tick(); err != nil {
				t.Fatal(err)
			}
		}
		if s := a.Status(); s.Handshake != nil || s.State != "Sole" {
			t.Fatalf("after timeout %+v", s)
		}
		if !strings.Contains(strings.Join(*w.logs[0], "\n"), "notify: timeout") {
			t.Fatal("no timeout notification")
		}
	})
}

// TestHeldBackBeaconNotSentWhenGrouped: the Offerer's answering Beacon,
// held back by the rate limit (D9), is not sent once the device is grouped.
func TestHeldBackBeaconNotSentWhenGrouped(t *testing.T) {
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 2, clock, fakeCodec{})
	form(t, w)
	clock.t = clock.t.Add(21 * time.Second)
	held := false
	for i, d := range w.devs {
		if err := d.Tick(); err != nil {
			t.Fatal(err)
		}
		if n := len(d.Outbox()); n != 0 {
			t.Fatalf("device %d sends %d messages after the window", i, n)
		}
		held = held || strings.Contains(strings.Join(*w.logs[i], "\n"), "dropped a held-back Beacon")
	}
	if !held {
		t.Fatal("no held-back Beacon was dropped")
	}
}
