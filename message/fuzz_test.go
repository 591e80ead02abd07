package message_test

import (
	"testing"

	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// FuzzOpen opens hostile messages: Open returns an error or a message
// with a payload and a signer, never panics, and gives own keys only from
// inside the encryption.
func FuzzOpen(f *testing.F) {
	o, p, _ := keys(f)
	sender := pgp.NewKeyring(o, public(f, p))
	receiver := pgp.NewKeyring(p, o)
	for _, sec := range contexts {
		raw, err := message.Seal(sealed(f, sec, o, p), sender)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("From: <a@b>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/pEp.sync\r\n\r\nAA==\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		op, err := message.Open(raw, receiver)
		if err != nil {
			return
		}
		if len(op.Payload) == 0 || op.Signer == "" || op.From == "" {
			t.Fatalf("opened without payload, signer or sender: %+v", op)
		}
		if !op.Encrypted && len(op.OwnKeys) > 0 {
			t.Fatal("own keys from a message in clear")
		}
	})
}
