package message_test

import (
	"fmt"
	"time"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// A device seals a NegotiationRequest (security context untrusted) for its
// partner, whose key it learnt from the partner's Beacon, and the partner
// opens it.
func Example() {
	now := time.Now()
	mine, _ := pgp.Generate("alice@example.org", "Alice", now)
	theirs, _ := pgp.Generate("alice@example.org", "Alice", now)
	theirsPublic, _ := pgp.ParseKey(theirs.Public())
	minePublic, _ := pgp.ParseKey(mine.Public())

	raw, err := message.Seal(message.Message{
		From:      "alice@example.org",
		Kind:      message.Sync,
		Payload:   []byte{0x01, 0x02}, // wire.MarshalSync of the message
		Signer:    mine.Fingerprint(),
		EncryptTo: fsm.Recipients(fsm.Untrusted, mine.Fingerprint(), theirs.Fingerprint()),
	}, pgp.NewKeyring(mine, theirsPublic))
	if err != nil {
		panic(err)
	}

	op, err := message.Open(raw, pgp.NewKeyring(theirs, minePublic))
	if err != nil {
		panic(err)
	}
	fmt.Println(op.Kind, op.From, op.Encrypted, len(op.EncryptedTo), op.Signer == mine.Fingerprint())
	// Output: Sync alice@example.org true 2 true
}
