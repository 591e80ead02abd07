package device

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync/wire"
)

// Adversarial messages reach devices on the channel; each is dropped (or
// rate-limited) and logged, with real OpenPGP.

// attacker is a key that belongs to no device, with a ring holding it and
// the public keys it learnt from the channel.
type attacker struct {
	codec *PGP
	ring  *Keyring
	key   Key
}

func newAttacker(t *testing.T, codec *PGP, victims ...*Device) *attacker {
	t.Helper()
	k, err := codec.NewKey("me@example.org", "mallory")
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{codec: codec, ring: &Keyring{Keys: map[string]*Rec{}}, key: k}
	a.ring.add(k)
	for _, v := range victims {
		for _, r := range v.keys.Keys {
			a.ring.add(Key{Fpr: r.Fpr, Public: r.Public})
		}
	}
	return a
}

// seal makes a sync message signed by the attacker's key, encrypted to to
// (nil: in clear), attaching the attacker's secret key when withKey.
func (a *attacker) seal(t *testing.T, m wire.Message, to []string, withKey bool) []byte {
	t.Helper()
	payload, err := wire.MarshalSync(m)
	if err != nil {
		t.Fatal(err)
	}
	out := Outbound{Address: "me@example.org", Kind: KindSync, Payload: payload, Signer: a.key.Fpr, EncryptTo: to}
	if withKey {
		out.Secret = []string{a.key.Fpr}
	}
	data, err := a.codec.Seal(out, a.ring)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// deliver puts data on the channel, settles it and returns what device i
// logged meanwhile.
func (w *net) deliver(t *testing.T, i int, data ...[]byte) string {
	t.Helper()
	n := len(*w.logs[i])
	w.log = append(w.log, data...)
	w.settle(t)
	return strings.Join((*w.logs[i])[n:], "\n")
}

func pgpGroup(t *testing.T) (*net, *testClock) {
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 2, clock, &PGP{})
	form(t, w)
	return w, clock
}

func wantLogged(t *testing.T, log string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q:\n%s", s, log)
		}
	}
}

func TestNonMemberSignerRejected(t *testing.T) {
	w, _ := pgpGroup(t)
	a := w.devs[0]
	group := a.Status().Group.Keys[0]
	m := newAttacker(t, &PGP{}, a)
	// A GroupKeysUpdate to the group key, signed by a stranger who tries to
	// slip in its own key.
	log := w.deliver(t, 0, m.seal(t, &wire.GroupKeysUpdate{OwnIdentities: []wire.Identity{
		{Address: "me@example.org", Fpr: m.key.Fpr, UserID: "pEp_own_userId", CommType: 0xff, Lang: "en"}}}, []string{group}, true))
	wantLogged(t, log, "dropped GroupKeysUpdate", "not an own key")
	if r := a.keys.rec(m.key.Fpr); r != nil && (r.Secret != "" || r.Own) {
		t.Fatalf("the stranger's key got in: %+v", r.Own)
	}
	if s := a.Status(); s.State != "Grouped" || s.Group.Keys[0] != group {
		t.Fatalf("state %s keys %v", s.State, s.Group.Keys)
	}
}

func TestReplayRejected(t *testing.T) {
	w, _ := pgpGroup(t)
	before := w.devs[1].Status()
	// Every message of the negotiation, appended to the channel again.
	old := append([][]byte(nil), w.log...)
	log := w.deliver(t, 1, old...)
	if n := strings.Count(log, "dropped a message handled before"); n != len(old) {
		t.Fatalf("%d of %d replayed messages dropped:\n%s", n, len(old), log)
	}
	if after := w.devs[1].Status(); after.State != before.State || after.Group.Keys[0] != before.Group.Keys[0] {
		t.Fatalf("replay changed the device: %+v", after)
	}
}

func TestLeakedNegotiationFromAnotherKeyRejected(t *testing.T) {
	// Two devices in a handshake; a third key sends a Rollback with their
	// negotiation's TID: D6 drops it, the handshake stays.
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 2, clock, &PGP{})
	a, b := w.devs[0], w.devs[1]
	start(t, w, a, b)
	w.settle(t)
	sa := a.Status()
	if sa.Handshake == nil {
		t.Fatal("no handshake")
	}
	m := newAttacker(t, &PGP{}, a)
	log := w.deliver(t, 0, m.seal(t, &wire.Rollback{Negotiation: a.core.Partner.Negotiation}, []string{sa.Handshake.Own}, false))
	wantLogged(t, log, "dropped Rollback", "(D6)")
	if s := a.Status(); s.State != sa.State || s.Handshake == nil {
		t.Fatalf("after the rollback: %s", s.State)
	}
}

var payloadRE = regexp.MustCompile(`(?s)filename="?sync.pEp"?.*?\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)`)

func TestTamperedPayloadRejected(t *testing.T) {
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 2, clock, &PGP{})
	a, b := w.devs[0], w.devs[1]
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	beacon := bytes.Clone(w.log[0])
	loc := payloadRE.FindSubmatchIndex(beacon)
	if loc == nil {
		t.Fatalf("no payload in\n%s", beacon)
	}
	enc := string(beacon[loc[2]:loc[3]])
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(enc), ""))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0x01 // another challenge
	tampered := append(append(bytes.Clone(beacon[:loc[2]]), base64.StdEncoding.EncodeToString(raw)+"\r\n"...), beacon[loc[3]:]...)
	// b, off while the genuine Beacon passed, sees only the tampered one;
	// a has gone.
	w.devs, w.logs = w.devs[1:], w.logs[1:]
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	log := w.deliver(t, 0, tampered)
	wantLogged(t, log, "dropped", "signature")
	if s := b.Status(); s.Handshake != nil || s.State != "Sole" {
		t.Fatalf("tampered Beacon led to %s", s.State)
	}
}

func TestBeaconFloodRateLimited(t *testing.T) {
	clock := &testClock{t: time.Unix(1e9, 0)}
	w := newNet(t, 1, clock, &PGP{})
	v := w.devs[0]
	start(t, w, v)
	w.settle(t)
	m := newAttacker(t, &PGP{}, v)
	var flood [][]byte
	for i := 0; i < 30; i++ {
		// Challenges above the victim's make it the Offerer, who answers
		// with a Beacon of its own.
		flood = append(flood, m.seal(t, &wire.Beacon{Challenge: wire.TID{0xff, 0xff, byte(i)}, Version: wire.Version{Major: 1, Minor: 2}}, nil, false))
	}
	log := w.deliver(t, 0, flood...)
	if n := strings.Count(log, "send Beacon"); n != 0 {
		t.Fatalf("%d Beacons sent inside the rate window:\n%s", n, log)
	}
	wantLogged(t, log, "held back Beacon by its rate limit", "Beacon is waiting for its rate limit already")
	clock.t = clock.t.Add(21 * time.Second)
	if err := v.Tick(); err != nil {
		t.Fatal(err)
	}
	if n := len(v.Outbox()); n != 1 {
		t.Fatalf("%d Beacons released after the window, want 1", n)
	}
}

func TestWrongKeysRejected(t *testing.T) {
	w, _ := pgpGroup(t)
	m := newAttacker(t, &PGP{})
	other, err := m.codec.NewKey("me@example.org", "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	m.ring.add(Key{Fpr: other.Fpr, Public: other.Public})
	log := w.deliver(t, 0, m.seal(t, &wire.GroupTrustThisKey{Key: m.key.Fpr}, []string{other.Fpr}, false))
	wantLogged(t, log, "dropped", "not encrypted to any secret key held")
	// The same in clear, where its security context needs encryption.
	log = w.deliver(t, 0, m.seal(t, &wire.CommitAcceptRequester{}, nil, false))
	wantLogged(t, log, "in clear, its security context untrusted needs encryption")
}

// TestLeaverReadsNothingNew opens every message on the channel with the
// leaver's keys after the group key reset: none gives it the new key.
func TestLeaverReadsNothingNew(t *testing.T) {
	w, clock := pgpGroup(t)
	c := w.add(t, clock)
	start(t, w, c)
	w.settle(t)
	answer(t, w, "Accept", c, w.devs[0])
	w.settle(t)
	leaver := w.devs[1]
	if err := leaver.User("LeaveDeviceGroup"); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	nk := w.devs[0].Status().Group.Keys[0]
	if nk != w.devs[2].Status().Group.Keys[0] {
		t.Fatal("no common new group key")
	}
	opened := 0
	for _, data := range w.log {
		in, err := leaver.codec.Open(data, leaver.keys)
		if err != nil {
			continue
		}
		opened++
		for _, a := range in.Secret {
			if k, err := leaver.codec.ParseKey(a); err == nil && k.Fpr == nk {
				t.Fatal("the leaver can read the new group key")
			}
		}
	}
	if opened == 0 {
		t.Fatal("the leaver opened nothing at all")
	}
}
