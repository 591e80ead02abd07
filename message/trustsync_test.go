package message_test

import (
	"bytes"
	"testing"

	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// TestTrustSync seals a trustsync payload to the group key: it opens as
// TrustSync, and its media type does not show outside the encryption.
func TestTrustSync(t *testing.T) {
	o, _, _ := keys(t)
	ring := pgp.NewKeyring(o)
	m := message.Message{From: addr, Kind: message.TrustSync, Payload: []byte("\x1f\x8bpayload"), Signer: o.Fingerprint(),
		EncryptTo: []string{o.Fingerprint()}}
	raw, err := message.Seal(m, ring)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ToLower(raw), []byte("pep.trustsync")) {
		t.Error("the payload's type shows outside the encryption")
	}
	op, err := message.Open(raw, ring)
	if err != nil {
		t.Fatal(err)
	}
	if op.Kind != message.TrustSync || !bytes.Equal(op.Payload, m.Payload) || op.Signer != o.Fingerprint() || !op.Encrypted {
		t.Errorf("opened %v %q by %s, encrypted %v", op.Kind, op.Payload, op.Signer, op.Encrypted)
	}
	if message.TrustSync.String() != "TrustSync" {
		t.Errorf("kind name %q", message.TrustSync.String())
	}
}
