package sim

import (
	"testing"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/wire"
)

// TestDeterministic: the same seed and schedule give the same world.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		w := New(nil, 2, seed)
		w.Start()
		w.Settle()
		w.User(0, "Accept")
		w.User(1, "Accept")
		w.Settle()
		return w.Fingerprint()
	}
	if a, b := run(1), run(1); a != b {
		t.Fatal("same seed, different worlds")
	}
	if run(1) == run(2) {
		t.Fatal("different seeds, same TIDs")
	}
}

// TestCloneIsIndependent: a clone runs on without touching the original.
func TestCloneIsIndependent(t *testing.T) {
	w, off, req := pair(t)
	before := w.Fingerprint()
	c := w.Clone()
	if c.Fingerprint() != before {
		t.Fatal("clone differs from the original")
	}
	c.User(off, "Accept")
	c.User(req, "Accept")
	c.Settle()
	wantStates(t, c, "Grouped", "Grouped")
	if w.Fingerprint() != before || w.Devices[0].State() == "Grouped" {
		t.Fatal("running the clone changed the original")
	}
	w.User(off, "Reject")
	w.Settle()
	wantStates(t, w, fsm.End, fsm.End)
	wantStates(t, c, "Grouped", "Grouped")
}

// TestSecurityContexts: a device accepts trusted messages only from keys
// it trusts as own keys, and cannot read what is not encrypted to it.
func TestSecurityContexts(t *testing.T) {
	w := New(nil, 3, 0)
	w.Group(0, 1)
	w.Start()
	w.Settle()
	// Device 2 (sole) forges a GroupKeysUpdate carrying its key to the group.
	forged := &Envelope{Sender: 2, Signer: fpr(2, 0), Decl: w.Model.Message("GroupKeysUpdate"),
		EncryptedTo: []string{fpr(0, 0)}, Attached: []string{fpr(2, 0)}}
	forged.Msg, _ = (&fsm.Buffer{}).Build(forged.Decl.Kind, wire.Version{Major: 1, Minor: 2})
	w.Pending = append(w.Pending, forged)
	w.Settle()
	for _, d := range w.Devices[:2] {
		if d.Keys.Secret[fpr(2, 0)] {
			t.Errorf("member %d imported a key from an untrusted signer", d.ID)
		}
	}
	// A GroupKeysUpdate, encrypted to the group key and carrying it, does
	// not reach device 2.
	w.User(2, "Cancel") // close the join dialogs
	w.Settle()
	wantStates(t, w, "Grouped", "Grouped", "Sole")
	w.Signal(0, "KeyGen")
	if n := len(w.Pending); n != 1 || len(w.Pending[0].Attached) == 0 {
		t.Fatalf("pending %v", w.Pending)
	}
	w.Settle()
	if w.Devices[2].Keys.Secret[fpr(0, 0)] {
		t.Error("a sole device read a message encrypted to the group key")
	}
}
