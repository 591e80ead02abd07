package fsm

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync/wire"
)

type stubKeys struct {
	own      map[string]bool // trusted own keys with secret
	listed   map[string]bool
	trusted  []string
	revoked  []string
	imported []string
}

func (k *stubKeys) OwnKey() (string, error) { return "AAAA", nil }
func (k *stubKeys) ImportKeys(a []string) error {
	k.imported = append(k.imported, a...)
	return nil
}
func (k *stubKeys) DeviceGrouped() (bool, error)          { return false, nil }
func (k *stubKeys) IsOwnKey(f string) (bool, error)       { return k.own[f], nil }
func (k *stubKeys) OwnKeyIsListed(f string) (bool, error) { return k.listed[f], nil }
func (k *stubKeys) TrustOwnKey(_, f string) error {
	k.trusted = append(k.trusted, f)
	k.listed[f] = true
	return nil
}
func (k *stubKeys) UntrustKey(f string) error {
	k.revoked = append(k.revoked, f)
	delete(k.listed, f)
	return nil
}
func (k *stubKeys) OwnKeys() ([]string, []wire.Identity, error) {
	return []string{"AAAA"}, []wire.Identity{{Address: "me@x", Fpr: "AAAA"}}, nil
}
func (k *stubKeys) SaveGroupKeys([]wire.Identity) error              { return nil }
func (k *stubKeys) OwnKeysAreDefaultKeys() error                     { return nil }
func (k *stubKeys) ReceivedKeysAreDefaultKeys([]wire.Identity) error { return nil }
func (k *stubKeys) Disable() error                                   { return nil }
func (k *stubKeys) ResetOwnGroupedKeys() error                       { return nil }
func (k *stubKeys) ResetOwnKeysUngrouped() error                     { return nil }

type sink struct{ sent []Outgoing }

func (s *sink) Transmit(o Outgoing) error { s.sent = append(s.sent, o); return nil }

func newTestCore() (*Core, *stubKeys, *sink, *fakeClock) {
	k := &stubKeys{own: map[string]bool{"AAAA": true}, listed: map[string]bool{"AAAA": true}}
	s := &sink{}
	c := &fakeClock{t: time.Unix(5000, 0)}
	n := byte(0)
	core := NewCore(Config{FSM: Embedded().KeySync(), Keys: k, Out: s, Clock: c, NewTID: func() (wire.TID, error) {
		n++
		return wire.TID{n, n, n}, nil
	}})
	return core, k, s, c
}

func tid(b ...byte) wire.TID { var t wire.TID; copy(t[:], b); return t }

func TestOpenNegotiationXORsBaseWithPartnerChallenge(t *testing.T) {
	c, _, _, _ := newTestCore()
	c.Own.Negotiation = tid(0xf0, 0x0f, 0xff)
	c.Partner.SenderFpr = "OLD"
	c.Load(MessageEvent(&wire.Beacon{Challenge: tid(0x0f, 0x0f, 0x01), Version: wire.Version{Major: 1, Minor: 2}}, "me@x", "BBBB"), false)
	if err := c.Action("openNegotiation"); err != nil {
		t.Fatal(err)
	}
	want := tid(0xff, 0x00, 0xfe)
	if c.KeySync.Negotiation != want || c.Partner.Negotiation != want || c.Partner.SenderFpr != "" {
		t.Fatalf("negotiation %x partner %x fpr %q", c.KeySync.Negotiation[:3], c.Partner.Negotiation[:3], c.Partner.SenderFpr)
	}
}

func TestWeAreOffererComparesBytesUnsigned(t *testing.T) {
	c, _, _, _ := newTestCore()
	c.Own.Challenge = tid(0x7f, 0xff)
	for _, tc := range []struct {
		partner wire.TID
		want    bool
	}{{tid(0x80), true}, {tid(0x7f, 0xfe), false}, {tid(0x7f, 0xff), false}, {tid(0x7f, 0xff, 1), true}} {
		c.KeySync.Challenge = tc.partner
		got, err := c.Condition("weAreOfferer")
		if err != nil || got != tc.want {
			t.Errorf("partner %x: weAreOfferer = %t, want %t", tc.partner[:3], got, tc.want)
		}
	}
}

func TestBufferLoadOverwritesOnlyCarriedFields(t *testing.T) {
	var b Buffer
	b.Load(&wire.NegotiationRequest{Challenge: tid(1), Response: tid(2), Negotiation: tid(3), IsGroup: true})
	b.Load(&wire.OwnKeysRequester{OwnIdentities: []wire.Identity{{Address: "a", Fpr: "F"}}})
	if b.Negotiation != tid(3) || b.Challenge != tid(1) || len(b.OwnIdentities) != 1 {
		t.Fatalf("buffer %+v", b)
	}
	b.Load(&wire.NegotiationOpen{Response: tid(9), Negotiation: tid(8)})
	if b.Challenge != tid(1) || b.Response != tid(9) || b.Negotiation != tid(8) || !b.IsGroup {
		t.Fatalf("buffer %+v", b)
	}
	m, err := b.Build(wire.KindNegotiationRequestGrouped, wire.Version{Major: 1, Minor: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := &wire.NegotiationRequestGrouped{Challenge: tid(1), Response: tid(9), Version: wire.Version{Major: 1, Minor: 2}, Negotiation: tid(8), IsGroup: true}
	if *m.(*wire.NegotiationRequestGrouped) != *want {
		t.Fatalf("built %+v, want %+v", m, want)
	}
	if _, err := b.Build(wire.Kind(99), wire.Version{Major: 1, Minor: 2}); err == nil {
		t.Error("Build of an unknown kind succeeded")
	}
}

func TestSameNegotiationAndPartner(t *testing.T) {
	c, _, _, _ := newTestCore()
	c.Partner = Partner{SenderFpr: "BBBB", Negotiation: tid(5)}
	for _, tc := range []struct {
		signer string
		neg    wire.TID
		want   bool
	}{{"BBBB", tid(5), true}, {"CCCC", tid(5), false}, {"BBBB", tid(6), false}} {
		c.Transport.SenderFpr = tc.signer
		c.KeySync.Negotiation = tc.neg
		got, _ := c.Condition("sameNegotiationAndPartner")
		if got != tc.want {
			t.Errorf("%s %x: got %t", tc.signer, tc.neg[:1], got)
		}
	}
	if _, err := c.Condition("noSuchCondition"); err == nil {
		t.Error("unknown condition accepted")
	}
	if err := c.Action("noSuchAction"); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestVersionCheckD8(t *testing.T) {
	c, _, _, _ := newTestCore()
	if c.Load(MessageEvent(&wire.Beacon{Challenge: tid(1), Version: wire.Version{Major: 2, Minor: 0}}, "me@x", "BBBB"), false) {
		t.Error("Beacon 2.0 accepted")
	}
	if c.KeySync.Challenge == tid(1) {
		t.Error("rejected Beacon filled the buffer")
	}
	if !c.Load(MessageEvent(&wire.Beacon{Challenge: tid(1), Version: wire.Version{Major: 1, Minor: 7}}, "me@x", "BBBB"), false) {
		t.Error("Beacon 1.7 rejected")
	}
}

func TestPartnerKeyFilterD6(t *testing.T) {
	c, _, _, _ := newTestCore()
	hs := Embedded().KeySync().State("HandshakingOfferer")
	c.Stored = true
	c.Partner = Partner{SenderFpr: "BBBB", Negotiation: tid(5)}
	rollback := &wire.Rollback{Negotiation: tid(5)}
	if c.Load(encrypted(MessageEvent(rollback, "me@x", "CCCC")), hs.Handler("Rollback").TestsNegotiation) {
		t.Error("Rollback of the negotiation from a third key accepted")
	}
	if !c.Load(encrypted(MessageEvent(rollback, "me@x", "bbbb")), hs.Handler("Rollback").TestsNegotiation) {
		t.Error("Rollback from the partner (lower case) dropped")
	}
	if !c.Load(encrypted(MessageEvent(rollback, "me@x", "AAAA")), hs.Handler("Rollback").TestsNegotiation) {
		t.Error("Rollback signed by an own listed key dropped")
	}
	// Another negotiation's Rollback from a third key, with a handler that
	// tests sameNegotiation, is dropped as well.
	if c.Load(encrypted(MessageEvent(&wire.Rollback{Negotiation: tid(7)}, "me@x", "CCCC")), hs.Handler("Rollback").TestsNegotiation) {
		t.Error("third-party Rollback reached a sameNegotiation handler")
	}
	// A Beacon (unencrypted) is not filtered.
	if !c.Load(MessageEvent(&wire.Beacon{Version: wire.Version{Major: 1, Minor: 2}}, "me@x", "CCCC"), false) {
		t.Error("Beacon dropped")
	}
}

func TestRateLimitDefersD9(t *testing.T) {
	c, _, s, clk := newTestCore()
	beacon := Embedded().KeySync().Message("Beacon")
	c.KeySync.Challenge = tid(1)
	for i := 0; i < 3; i++ { // first goes out, two identical ones are deferred once
		if err := c.Send(beacon); err != nil {
			t.Fatal(err)
		}
	}
	c.KeySync.Challenge = tid(2)
	c.Send(beacon)
	if len(s.sent) != 1 || c.Deferred() != 2 {
		t.Fatalf("sent %d deferred %d, want 1 and 2", len(s.sent), c.Deferred())
	}
	at, ok := c.NextRelease()
	if !ok || !at.Equal(clk.t.Add(20*time.Second)) {
		t.Fatalf("release %v %t", at, ok)
	}
	clk.t = clk.t.Add(19 * time.Second)
	c.Flush("Sole")
	if len(s.sent) != 1 {
		t.Fatal("released early")
	}
	clk.t = clk.t.Add(time.Second)
	c.Flush("Sole")
	if len(s.sent) != 2 || c.Deferred() != 1 || s.sent[1].Msg.(*wire.Beacon).Challenge != tid(1) {
		t.Fatalf("after 20 s: sent %d deferred %d", len(s.sent), c.Deferred())
	}
	clk.t = clk.t.Add(20 * time.Second)
	c.Flush("Sole")
	if len(s.sent) != 3 || s.sent[2].Msg.(*wire.Beacon).Challenge != tid(2) {
		t.Fatalf("after 40 s: sent %d", len(s.sent))
	}
}

// TestHeldBeaconDiscardedOutsideSole: a Beacon held back while the device
// was sole is not sent once it has left Sole; SynchronizeGroupKeys still is.
func TestHeldBeaconDiscardedOutsideSole(t *testing.T) {
	c, _, s, clk := newTestCore()
	var log []string
	c.cfg.Log = func(l string) { log = append(log, l) }
	ks := Embedded().KeySync()
	for _, name := range []string{"Beacon", "Beacon", "SynchronizeGroupKeys", "SynchronizeGroupKeys"} {
		c.KeySync.Challenge = tid(byte(len(s.sent) + c.Deferred()))
		if err := c.Send(ks.Message(name)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.sent) != 2 || c.Deferred() != 2 {
		t.Fatalf("sent %d deferred %d, want 2 and 2", len(s.sent), c.Deferred())
	}
	clk.t = clk.t.Add(time.Minute)
	if err := c.Flush("HandshakingToJoinPhase1"); err != nil {
		t.Fatal(err)
	}
	if len(s.sent) != 3 || s.sent[2].Msg.Kind() != wire.KindSynchronizeGroupKeys || c.Deferred() != 0 {
		t.Fatalf("after leaving Sole: sent %d (last %v), deferred %d", len(s.sent), s.sent[len(s.sent)-1].Msg.Kind(), c.Deferred())
	}
	if len(log) != 1 || !strings.Contains(log[0], "dropped a held-back Beacon") {
		t.Fatalf("log %q", log)
	}
}

func TestSendSecurityContexts(t *testing.T) {
	c, _, s, _ := newTestCore()
	if err := c.Send(Embedded().KeySync().Message("Rollback")); !errors.Is(err, ErrCannotSend) {
		t.Errorf("untrusted without partner key: %v", err)
	}
	c.Partner.SenderFpr = "BBBB"
	if err := c.Send(Embedded().KeySync().Message("OwnKeysRequester")); !errors.Is(err, ErrCannotSend) {
		t.Errorf("keys to an untrusted partner: %v", err)
	}
	c.Action("trustThisKey")
	c.Action("prepareOwnKeys")
	if err := c.Send(Embedded().KeySync().Message("OwnKeysRequester")); err != nil {
		t.Fatal(err)
	}
	o := s.sent[len(s.sent)-1]
	if o.Partner != "BBBB" || len(o.Attached) != 1 || o.Attached[0] != "AAAA" || o.Signer != "AAAA" || !slices.Equal(o.EncryptTo, []string{"AAAA", "BBBB"}) {
		t.Errorf("outgoing %+v", o)
	}
	if err := c.Send(Embedded().KeySync().Message("ReceiverRating")); err == nil {
		t.Error("ReceiverRating sent")
	}
}

func TestAbandonRevokesTrustOfCurrentNegotiationD5(t *testing.T) {
	c, k, _, _ := newTestCore()
	c.Transport = Transport{From: "me@x", SenderFpr: "BBBB"}
	c.Action("storeNegotiation")
	c.Action("trustThisKey")
	c.Transport.SenderFpr = "CCCC"
	c.Partner.SenderFpr = "CCCC" // storeThisKey-like change afterwards
	if err := c.Abandon(); err != nil {
		t.Fatal(err)
	}
	if len(k.revoked) != 1 || k.revoked[0] != "BBBB" {
		t.Fatalf("revoked %v, want the key trusted then", k.revoked)
	}
	c.Abandon()
	if len(k.revoked) != 1 {
		t.Fatal("revoked twice")
	}
	// After a completed negotiation (Grouped Init), nothing is revoked.
	c.Action("storeNegotiation")
	c.Action("trustThisKey")
	c.Action("newChallengeAndNegotiationBase")
	c.Abandon()
	if len(k.revoked) != 1 {
		t.Fatalf("revoked %v after completion", k.revoked)
	}
}

// TestLoadImportsKeysOfAcceptedMessagesOnly: the keys attached to a
// message are imported only when the policy accepts it.
func TestLoadImportsKeysOfAcceptedMessagesOnly(t *testing.T) {
	c, k, _, _ := newTestCore()
	update := encrypted(MessageEvent(&wire.GroupKeysUpdate{}, "me@x", "CCCC"))
	update.Attached = []string{"CCCC"}
	if c.Load(update, false) || len(k.imported) != 0 {
		t.Fatalf("GroupKeysUpdate from an untrusted key: imported %v", k.imported)
	}
	update.SenderFpr = "AAAA"
	if !c.Load(update, false) || !slices.Equal(k.imported, []string{"CCCC"}) {
		t.Fatalf("GroupKeysUpdate from an own key: imported %v", k.imported)
	}
}

// TestLoadImportsOnlyWhereTheContextCarriesKeys: a Beacon (accepted from
// anyone) or a trusted message from an own key may be accepted, but keys
// attached to it are never imported; only the attach_own_keys contexts
// carry keys.
func TestLoadImportsOnlyWhereTheContextCarriesKeys(t *testing.T) {
	c, k, _, _ := newTestCore()
	beacon := MessageEvent(&wire.Beacon{Challenge: tid(1), Version: wire.Version{Major: 1, Minor: 2}}, "me@x", "STRANGER")
	beacon.Attached = []string{"EVIL"}
	if !c.Load(beacon, false) || len(k.imported) != 0 {
		t.Fatalf("Beacon with a key from a stranger: imported %v", k.imported)
	}
	trusted := encrypted(MessageEvent(&wire.GroupHandshake{Negotiation: tid(2), Key: "AAAA"}, "me@x", "AAAA"))
	trusted.Attached = []string{"EVIL"}
	if !c.Load(trusted, false) || len(k.imported) != 0 {
		t.Fatalf("GroupHandshake with a key from an own key: imported %v", k.imported)
	}
	for _, s := range []Security{Unencrypted, Untrusted, Trusted, IgnoreSecurity} {
		if ImportsKeys(s) {
			t.Errorf("context %s imports keys", s)
		}
	}
}

// TestAcceptRefusesClearMessages: every message but one of the
// unencrypted context (the Beacon) must arrive encrypted, whoever signed it.
func TestAcceptRefusesClearMessages(t *testing.T) {
	keys := &stubKeys{listed: map[string]bool{"OWN": true}}
	for _, d := range Embedded().KeySync().Messages {
		m, err := (&Buffer{}).Build(d.Kind, wire.Version{Major: 1, Minor: 2})
		if err != nil {
			t.Fatal(err)
		}
		err = Accept(Received{Decl: d, Msg: m, Signer: "OWN"}, Negotiation{}, keys)
		if want := d.Security == Unencrypted; (err == nil) != want {
			t.Errorf("%s (%s) in clear from an own key: error %v, want accepted %t", d.Name, d.Security, err, want)
		}
	}
}

// TestBufferFieldsByKind pins which buffer fields each message carries, as
// update_Sync_state and update_Sync_message copy them.
func TestBufferFieldsByKind(t *testing.T) {
	full := Buffer{Challenge: tid(1), Response: tid(2), Negotiation: tid(3), IsGroup: true, Key: "KEY",
		OwnIdentities: []wire.Identity{{Address: "a", Fpr: "F"}}, Rating: wire.RatingTrusted}
	carried := map[wire.Kind]string{
		wire.KindBeacon: "c", wire.KindNegotiationRequest: "crng", wire.KindNegotiationRequestGrouped: "crng",
		wire.KindNegotiationOpen: "rn", wire.KindRollback: "n", wire.KindCommitReject: "n",
		wire.KindCommitAcceptOfferer: "n", wire.KindCommitAcceptRequester: "n", wire.KindCommitAccept: "n",
		wire.KindCommitAcceptForGroup: "n", wire.KindGroupTrustThisKey: "kn", wire.KindGroupHandshake: "kn",
		wire.KindGroupKeysForNewMember: "i", wire.KindGroupKeysAndClose: "i", wire.KindOwnKeysOfferer: "i",
		wire.KindOwnKeysRequester: "i", wire.KindGroupKeysUpdate: "i", wire.KindInitUnledGroupKeyReset: "",
		wire.KindElectGroupKeyResetLeader: "r", wire.KindSynchronizeGroupKeys: "", wire.KindReceiverRating: "R",
	}
	for k, fields := range carried {
		m, err := full.Build(k, wire.Version{Major: 1, Minor: 9})
		if err != nil {
			t.Fatal(err)
		}
		var got, want Buffer
		got.Load(m)
		for _, f := range fields {
			switch f {
			case 'c':
				want.Challenge = full.Challenge
			case 'r':
				want.Response = full.Response
			case 'n':
				want.Negotiation = full.Negotiation
			case 'g':
				want.IsGroup = true
			case 'k':
				want.Key = full.Key
			case 'i':
				want.OwnIdentities = full.OwnIdentities
			case 'R':
				want.Rating = full.Rating
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v carries %+v, want %+v", k, got, want)
		}
		_, hasVersion := messageVersion(m)
		versioned := k == wire.KindBeacon || k == wire.KindNegotiationRequest || k == wire.KindNegotiationRequestGrouped || k == wire.KindNegotiationOpen
		if v, _ := messageVersion(m); hasVersion != versioned || hasVersion && v.Minor != 9 {
			t.Errorf("%v: version %v, %t", k, v, hasVersion)
		}
	}
	if len(carried) != 21 {
		t.Fatalf("%d kinds", len(carried))
	}
}

// encrypted marks ev as having arrived encrypted, as every message but a
// Beacon must (Accept).
func encrypted(ev Event) Event {
	ev.Encrypted = true
	return ev
}
