package device

import (
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/fsm"
)

// recorder is an Extension that records what it applies, in its own
// bucket, and answers "ping" with "pong".
type recorder struct{ got []string }

func (r *recorder) Apply(tx *bolt.Tx, at Event, payload []byte) ([][]byte, error) {
	b, err := tx.CreateBucketIfNotExists([]byte("rec"))
	if err != nil {
		return nil, err
	}
	if err := b.Put([]byte(at.Pos), payload); err != nil {
		return nil, err
	}
	r.got = append(r.got, string(payload))
	if string(payload) == "ping" && len(at.Members) > 0 && at.Self == at.Members[0] {
		return [][]byte{[]byte("pong")}, nil
	}
	return nil, nil
}

// extGroup is two grouped devices with recorders, on the real codec.
func extGroup(t *testing.T) (*net, []*recorder) {
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := &net{codec: &PGP{}}
	var recs []*recorder
	for i := range 2 {
		home := t.TempDir() + "/home"
		if err := Create(home, "me@example.org", "dev"+strconv.Itoa(i), w.codec); err != nil {
			t.Fatal(err)
		}
		var lines []string
		r := &recorder{}
		d, err := Open(home, Options{Codec: w.codec, Clock: clock, Log: func(s string) { lines = append(lines, s) }, Extension: r})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		w.devs = append(w.devs, d)
		w.logs = append(w.logs, &lines)
		recs = append(recs, r)
	}
	form(t, w)
	return w, recs
}

func TestExtensionMessagesReachTheGroup(t *testing.T) {
	w, recs := extGroup(t)
	a := w.devs[0]
	if err := a.SendExtension([][]byte{[]byte("ping")}, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("sent"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	for i, r := range recs {
		if strings.Join(r.got, ",") != "ping,pong" {
			t.Errorf("device %d applied %q, want ping then pong", i, r.got)
		}
	}
	err := a.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("sent")) == nil || tx.Bucket([]byte("rec")).Stats().KeyN != 2 {
			t.Error("the extension's writes are not in the store")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestExtensionMessagesFromOutsideDropped(t *testing.T) {
	w, recs := extGroup(t)
	a := w.devs[0]
	group := a.Status().Group.Keys[0]
	m := newAttacker(t, &PGP{}, a)
	seal := func(signer string, to []string) []byte {
		out := Outbound{Address: "me@example.org", Kind: KindTrustSync, Payload: []byte("evil"), Security: fsm.Trusted,
			Signer: signer, EncryptTo: to}
		data, err := m.codec.Seal(out, m.ring)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	log := w.deliver(t, 0, seal(m.key.Fpr, []string{group}))
	wantLogged(t, log, "dropped", "not a key of the group")
	log = w.deliver(t, 0, seal(m.key.Fpr, nil))
	wantLogged(t, log, "dropped", "in clear")
	for i, r := range recs {
		if len(r.got) != 0 {
			t.Errorf("device %d applied %q from outside the group", i, r.got)
		}
	}
	// A device outside any group sends none.
	clock := &testClock{t: time.Unix(1e9, 0)}
	lone := newNet(t, 1, clock, &PGP{}).devs[0]
	if err := lone.SendExtension([][]byte{[]byte("x")}, nil); err == nil {
		t.Error("a device in no group sent a trustsync message")
	}
}

func TestExtensionMessagesFromAFormerMemberDropped(t *testing.T) {
	w, recs := extGroup(t)
	stay, leaver := w.devs[0], w.devs[1]
	old := stay.Status().Group.Keys[0]
	if err := leaver.User("LeaveDeviceGroup"); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	if nk := stay.Status().Group.Keys; len(nk) == 0 || nk[0] == old {
		t.Fatalf("group keys after the leave: %v", nk)
	}
	if err := leaver.SendExtension([][]byte{[]byte("x")}, nil); err == nil {
		t.Error("the leaver sent a trustsync message")
	}
	// The leaver still holds the old group key and signs with it.
	out := Outbound{Address: "me@example.org", Kind: KindTrustSync, Payload: []byte("late"), Security: fsm.Trusted,
		Signer: old, EncryptTo: []string{old}}
	data, err := w.codec.Seal(out, leaver.keys)
	if err != nil {
		t.Fatal(err)
	}
	log := w.deliver(t, 0, data)
	wantLogged(t, log, "dropped", "not a key of the group")
	if len(recs[0].got) != 0 {
		t.Errorf("the remaining device applied %q from the former member", recs[0].got)
	}
}
