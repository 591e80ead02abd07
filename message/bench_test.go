package message_test

import (
	"testing"

	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

// BenchmarkSeal measures sealing one message of each security context,
// OpenPGP work included.
func BenchmarkSeal(b *testing.B) {
	o, p, _ := keys(b)
	ring := pgp.NewKeyring(o, public(b, p))
	for _, sec := range contexts {
		m := sealed(b, sec, o, p)
		b.Run(string(sec), func(b *testing.B) {
			for b.Loop() {
				if _, err := message.Seal(m, ring); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen measures opening one message of each security context:
// parsing, decryption and signature checks.
func BenchmarkOpen(b *testing.B) {
	o, p, _ := keys(b)
	ring := pgp.NewKeyring(o, public(b, p))
	for _, sec := range contexts {
		raw, err := message.Seal(sealed(b, sec, o, p), ring)
		if err != nil {
			b.Fatal(err)
		}
		receiver := receiverRing(b, sec, o, p)
		b.Run(string(sec), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := message.Open(raw, receiver); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
