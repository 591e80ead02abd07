package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
	"github.com/keysync/keysync/trustsync"
)

// TestSealedReplicaFitsTheChannel seals the chunks of a 100k-row replica
// as a device does (PGP/MIME to the group key): each stays under
// channel.MaxSize.
func TestSealedReplicaFitsTheChannel(t *testing.T) {
	r := trustsync.NewReplica()
	for i := range 100_000 {
		r.Fprs[trustsync.FprID{Account: fmt.Sprintf("xmpp:me%d@example.org", i%100), Contact: fmt.Sprintf("contact%d@example.net", i),
			Fpr: fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15)}] = "verified"
	}
	chunks, err := trustsync.Snapshot(r, &trustsync.Request{Device: "JOINER"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := pgp.Generate("me@example.org", "me", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring := pgp.NewKeyring(k)
	for i, c := range chunks {
		raw, err := message.Seal(message.Message{From: "me@example.org", Kind: message.TrustSync, Payload: c,
			Signer: k.Fingerprint(), EncryptTo: []string{k.Fingerprint()}}, ring)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > channel.MaxSize {
			t.Errorf("chunk %d of %d: %d bytes sealed, over channel.MaxSize", i, len(chunks), len(raw))
		}
	}
}
