package device

import "github.com/keysync/keysync/fsm"

// Codec is the OpenPGP and envelope work of a device: making keys and
// sealing and opening the messages of doc/protocol.md §10.1. It carries out
// what the fsm's policy decided (signer, recipients, attachments); it
// decides nothing itself.
type Codec interface {
	// NewKey makes a key pair for the identity at address.
	NewKey(address, name string) (Key, error)
	// ParseKey reads an armored key, secret or public.
	ParseKey(armored string) (Key, error)
	// Seal makes the message bytes of out, with the keys of ring.
	Seal(out Outbound, ring Ring) ([]byte, error)
	// Open reads, decrypts and verifies message bytes with the keys of
	// ring. It fails if the message is malformed, is encrypted to no key
	// ring holds a secret for, or a signature does not verify.
	Open(data []byte, ring Ring) (Inbound, error)
}

// Key is one OpenPGP key: its fingerprint (40 upper-case hex digits) and
// armored forms. Secret is empty for a public key.
type Key struct {
	Fpr    string `json:"fpr"`
	Public string `json:"public"`
	Secret string `json:"secret,omitempty"`
}

// Ring gives a Codec the keys it needs.
type Ring interface {
	// Key returns the key with fingerprint fpr, if the device has it.
	Key(fpr string) (Key, bool)
	// All returns every key the device holds, public or secret.
	All() []Key
}

// Payload kinds of doc/protocol.md §10.1.
const (
	KindSync         = "sync"         // application/pEp.sync
	KindDistribution = "distribution" // application/pEp.distribution
	KindTrustSync    = "trustsync"    // application/pEp.trustsync (doc/protocol.md §19)
)

// Outbound is a message to seal.
type Outbound struct {
	Address  string // from and to: the own address
	Kind     string // KindSync or KindDistribution
	Payload  []byte // UPER
	Security fsm.Security
	// Signer signs the message; with no EncryptTo it is sent in clear with
	// a detached signature (application/pEp.sign).
	Signer    string
	EncryptTo []string
	// Secret lists keys attached as secret and public key (own.key, or
	// pEpkey_priv.asc and pEpkey_new_pub.asc of a key reset).
	Secret []string
	// Devices lists device keys whose public keys are attached inside the
	// encryption, for the group (doc/protocol.md §18.1). The signer's
	// public key is always attached.
	Devices []string
}

// Inbound is an opened message.
type Inbound struct {
	From      string
	Kind      string
	Payload   []byte
	Signer    string   // the key whose signature verified
	Encrypted bool     // it was encrypted, and decrypted
	Public    []string // armored public keys attached (the signer's)
	Secret    []string // armored secret keys attached inside the encryption
	Devices   []string // armored device keys attached inside the encryption
}
