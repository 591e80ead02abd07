package trustsync

import (
	"testing"

	"github.com/keysync/keysync"
)

// A store that can only say "verified" (Jitsi, ChatSecure) reads back
// verified for the group's smp: that is no change to send, and nothing to
// write; the group clearing the row is.
func TestCoarseStoreSendsNoDowngrade(t *testing.T) {
	o := &keysync.Origin{Source: "jitsi:x", App: "jitsi", Local: keysync.Account{Protocol: "xmpp", Address: "me@example.org"}, CoarseTrust: true}
	var sum [20]byte
	sum[0] = 0xab
	m := &keysync.Model{Fingerprints: []keysync.KnownFingerprint{{Contact: "bob@example.org", Fingerprint: keysync.OTRFingerprint(sum), Trust: keysync.Verified, Origin: o}}}
	app := RowsOf(m)
	id := FprID{"xmpp:me@example.org", "bob@example.org", keysync.OTRFingerprint(sum).String()}
	if !app.Coarse[id] {
		t.Fatalf("the row of a coarse store is not marked: %+v", app)
	}
	r := NewReplica()
	r.Fprs[id] = string(keysync.SMP)
	for _, base := range []Base{{}, {fprBaseKey(id): string(keysync.SMP)}} {
		if u := Diff(app, base, r, 0); len(u.Fprs) != 0 {
			t.Errorf("base %v: the coarse store's verified sent over the group's smp: %+v", base, u.Fprs)
		}
		out, next, err := Project(m, app, base, r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if out.Fingerprints[0].Trust != keysync.Verified || next[fprBaseKey(id)] != string(keysync.SMP) {
			t.Errorf("base %v: projected %q, base now %q", base, out.Fingerprints[0].Trust, next[fprBaseKey(id)])
		}
	}
	r.Fprs[id] = ""
	out, _, err := Project(m, app, Base{fprBaseKey(id): string(keysync.SMP)}, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if out.Fingerprints[0].Trust != "" {
		t.Errorf("the group's clearing is not written: %q", out.Fingerprints[0].Trust)
	}
	// The same row from a store that holds every value is a change.
	o.CoarseTrust = false
	r.Fprs[id] = string(keysync.SMP)
	if u := Diff(RowsOf(m), Base{fprBaseKey(id): string(keysync.SMP)}, r, 0); len(u.Fprs) != 1 {
		t.Errorf("a fine store's verified over smp: %+v", u.Fprs)
	}
}
