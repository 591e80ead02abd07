package fsm

import (
	"errors"
	"slices"
	"testing"

	"github.com/keysync/keysync/wire"
)

// TestAcceptRefusesStrangers: after storeNegotiation, every message of the
// model except the unencrypted Beacon is refused from a key that is neither
// the partner nor an own key, and accepted from an own listed key unless
// its context is ignore; the partner key (not trusted as own key) may send
// only untrusted and unencrypted messages.
func TestAcceptRefusesStrangers(t *testing.T) {
	keys := &stubKeys{listed: map[string]bool{"OWN": true}}
	n := Negotiation{Stored: true, Partner: "PARTNER", TID: tid(5)}
	seen := map[Security]bool{}
	for _, d := range Embedded().KeySync().Messages {
		seen[d.Security] = true
		b := Buffer{Negotiation: n.TID}
		m, err := b.Build(d.Kind, wire.Version{Major: 1, Minor: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			signer string
			want   bool
		}{
			{"STRANGER", d.Security == Unencrypted},
			{"", d.Security == Unencrypted},
			{"PARTNER", d.Security == Unencrypted || d.Security == Untrusted},
			{"partner", d.Security == Unencrypted || d.Security == Untrusted},
			{"OWN", d.Security != IgnoreSecurity},
		} {
			err := Accept(Received{Decl: d, Msg: m, Signer: tc.signer, Encrypted: true, ForNegotiation: true}, n, keys)
			if (err == nil) != tc.want {
				t.Errorf("%s (%s) signed by %q: error %v, want accepted %t", d.Name, d.Security, tc.signer, err, tc.want)
			}
			if err != nil && !errors.Is(err, ErrNotAccepted) {
				t.Errorf("%s: error %v does not wrap ErrNotAccepted", d.Name, err)
			}
		}
	}
	for _, s := range []Security{Unencrypted, Untrusted, Trusted, AttachOwnKeysForNewMember, AttachOwnKeysForGroup, IgnoreSecurity} {
		if !seen[s] {
			t.Errorf("no message of context %s in the model", s)
		}
	}
}

// TestAcceptD6Scope: before storeNegotiation, or for a message of another
// negotiation whose handler does not test the negotiation, an untrusted
// message from a stranger is accepted; D8 drops major versions other than 1.
func TestAcceptD6Scope(t *testing.T) {
	keys := &stubKeys{listed: map[string]bool{}}
	ks := Embedded().KeySync()
	rollback := Received{Decl: ks.Message("Rollback"), Msg: &wire.Rollback{Negotiation: tid(5)}, Signer: "STRANGER", Encrypted: true}
	if err := Accept(rollback, Negotiation{Partner: "PARTNER", TID: tid(5)}, keys); err != nil {
		t.Errorf("before storeNegotiation: %v", err)
	}
	stored := Negotiation{Stored: true, Partner: "PARTNER", TID: tid(5)}
	if err := Accept(rollback, stored, keys); err == nil {
		t.Error("Rollback of the negotiation from a stranger accepted")
	}
	other := rollback
	other.Msg = &wire.Rollback{Negotiation: tid(7)}
	if err := Accept(other, stored, keys); err != nil {
		t.Errorf("Rollback of another negotiation, handler not testing it: %v", err)
	}
	other.ForNegotiation = true
	if err := Accept(other, stored, keys); err == nil {
		t.Error("Rollback of another negotiation reached a handler that tests it")
	}
	for v, want := range map[wire.Version]bool{{Major: 1, Minor: 7}: true, {Major: 2}: false, {Major: 0, Minor: 2}: false} {
		b := Received{Decl: ks.Message("Beacon"), Msg: &wire.Beacon{Version: v}, Signer: "STRANGER"}
		if err := Accept(b, stored, keys); (err == nil) != want {
			t.Errorf("Beacon %d.%d: %v", v.Major, v.Minor, err)
		}
	}
	if err := Accept(Received{Msg: &wire.Beacon{Version: wire.Version{Major: 1, Minor: 2}}}, stored, keys); err == nil {
		t.Error("undeclared message accepted")
	}
}

func TestRecipients(t *testing.T) {
	for sec, want := range map[Security][]string{
		Unencrypted:               nil,
		IgnoreSecurity:            nil,
		Trusted:                   {"OWN"},
		AttachOwnKeysForGroup:     {"OWN"},
		Untrusted:                 {"OWN", "PARTNER"},
		AttachOwnKeysForNewMember: {"OWN", "PARTNER"},
	} {
		if got := Recipients(sec, "OWN", "PARTNER"); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", sec, got, want)
		}
	}
}

// TestAcceptKeyReset: a group key reset is taken only when signed by an own
// key whose secret the device holds.
func TestAcceptKeyReset(t *testing.T) {
	keys := &stubKeys{own: map[string]bool{"GROUP": true}, listed: map[string]bool{"GROUP": true, "LISTED": true}}
	for signer, want := range map[string]bool{"GROUP": true, "LISTED": false, "STRANGER": false, "": false} {
		err := AcceptKeyReset(signer, keys)
		if (err == nil) != want || err != nil && !errors.Is(err, ErrNotAccepted) {
			t.Errorf("key reset signed by %q: %v, want accepted %t", signer, err, want)
		}
	}
}
