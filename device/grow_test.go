package device

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// countingCodec is the fake codec counting the keys it parses.
type countingCodec struct {
	fakeCodec
	parsed *atomic.Int64
}

func (c countingCodec) ParseKey(a string) (Key, error) {
	c.parsed.Add(1)
	return c.fakeCodec.ParseKey(a)
}

// Every group message carries the device keys of all members; a device
// parses each of them once, not on every message, so that the cost of a
// message does not grow with the group (it made joins to large groups
// overrun their time).
func TestAttachedKeysParsedOnce(t *testing.T) {
	var parsed atomic.Int64
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 2, clock, countingCodec{parsed: &parsed})
	form(t, w)
	for n := 3; n <= 12; n++ {
		before, msgs := parsed.Load(), len(w.log)
		j := w.add(t, clock)
		clock.t = clock.t.Add(time.Minute)
		start(t, w, j)
		w.settle(t)
		answer(t, w, "Accept", j, w.devs[0])
		w.settle(t)
		if !w.allGrouped(n) {
			w.dump(t)
			t.Fatalf("%d devices not grouped", n)
		}
		// New to each device are the joiner's keys, and to the joiner
		// the others' (7n-2 parses here; 7n² when every message's keys
		// were parsed again).
		if got := parsed.Load() - before; got > int64(8*n) {
			t.Fatalf("join of device %d: %d keys parsed for %d messages, want at most %d", n, got, len(w.log)-msgs, 8*n)
		}
	}
}

// step does one random thing on the async net: a device sends its
// outbox, reads the next message, ticks, or its user accepts.
func (w *net) step(t *testing.T, r *rand.Rand, clock *testClock, accepters ...*Device) {
	t.Helper()
	clock.t = clock.t.Add(time.Duration(r.IntN(50)) * time.Millisecond)
	d := w.devs[r.IntN(len(w.devs))]
	switch r.IntN(4) {
	case 0:
		for _, p := range d.Outbox() {
			w.log = append(w.log, p.Data)
			if err := d.Sent(p.ID); err != nil {
				t.Fatal(err)
			}
		}
	case 1, 2:
		pos, _ := strconv.Atoi(d.Position())
		if pos < len(w.log) {
			if err := d.Receive(strconv.Itoa(pos+1), w.log[pos]); err != nil {
				t.Fatal(err)
			}
		}
	case 3:
		if err := d.Tick(); err != nil {
			t.Fatal(err)
		}
		for _, a := range accepters {
			if a != d {
				continue
			}
			if s := d.Status(); s.Handshake != nil && !s.Handshake.Accepted {
				if err := d.User("Accept"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func (w *net) allGrouped(n int) bool {
	for _, d := range w.devs {
		if s := d.Status(); s.State != "Grouped" || len(s.Group.Members) != n || s.Outbox > 0 {
			return false
		}
	}
	return true
}

func TestGrowOneByOneAsync(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(strconv.Itoa(int(seed)), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			clock := &testClock{t: time.Unix(1e9, 0)}
			w := newNet(t, 2, clock, fakeCodec{})
			start(t, w, w.devs...)
			for i := 0; i < 100000 && !w.allGrouped(2); i++ {
				w.step(t, r, clock, w.devs...)
			}
			for n := 3; n <= 10; n++ {
				j := w.add(t, clock)
				start(t, w, j)
				i := 0
				for ; i < 200000 && !w.allGrouped(n); i++ {
					w.step(t, r, clock, j, w.devs[0])
				}
				if !w.allGrouped(n) {
					w.dump(t)
					for k, d := range w.devs {
						s := d.Status()
						t.Logf("device %d: %s, %d members, outbox %d", k, s.State, len(s.Group.Members), s.Outbox)
					}
					t.Fatalf("at %d devices: no group after %d steps", n, i)
				}
			}
		})
	}
}
