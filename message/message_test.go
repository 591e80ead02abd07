package message_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/pgp"
)

const addr = "alice@example.org"

var (
	devicesOnce sync.Once
	devices     []*pgp.Key
)

// keys returns three keys, made once per test binary: the device's own
// key, its partner's (another device of the user) and a stranger's.
func keys(t testing.TB) (own, partner, stranger *pgp.Key) {
	t.Helper()
	devicesOnce.Do(func() {
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, a := range []string{addr, addr, "mallory@example.org"} {
			k, err := pgp.Generate(a, "", now)
			if err != nil {
				panic(err)
			}
			devices = append(devices, k)
		}
	})
	return devices[0], devices[1], devices[2]
}

// public returns k's public part as a key.
func public(t testing.TB, k *pgp.Key) *pgp.Key {
	t.Helper()
	p, err := pgp.ParseKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// contexts are the sendable security contexts with the message of each
// that a device seals.
var contexts = []fsm.Security{fsm.Unencrypted, fsm.Untrusted, fsm.Trusted, fsm.AttachOwnKeysForNewMember, fsm.AttachOwnKeysForGroup}

// receiverRing returns the keyring of the partner device p of a device
// with key o, for a message in context sec: trusted messages are encrypted
// to the own key only, which is then the group key that both devices hold.
func receiverRing(t testing.TB, sec fsm.Security, o, p *pgp.Key) *pgp.Keyring {
	if sec == fsm.Trusted || sec == fsm.AttachOwnKeysForGroup {
		return pgp.NewKeyring(p, o)
	}
	return pgp.NewKeyring(p, public(t, o))
}

// sealed returns the message a device with key o sends to its partner p in
// context sec, as Core.Send makes it.
func sealed(t testing.TB, sec fsm.Security, o, p *pgp.Key) message.Message {
	m := message.Message{
		From: addr, Kind: message.Sync, Payload: []byte("\x12\x34payload\x00\xff"),
		Signer: o.Fingerprint(), EncryptTo: fsm.Recipients(sec, o.Fingerprint(), p.Fingerprint()),
	}
	switch sec {
	case fsm.Unencrypted:
		m.Sign, m.AttachPublic = true, true
	case fsm.AttachOwnKeysForNewMember, fsm.AttachOwnKeysForGroup:
		m.OwnKeys = [][]byte{o.Secret()}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	o, p, _ := keys(t)
	sender := pgp.NewKeyring(o, public(t, p))
	for _, sec := range contexts {
		t.Run(string(sec), func(t *testing.T) {
			receiver := receiverRing(t, sec, o, p)
			m := sealed(t, sec, o, p)
			raw, err := message.Seal(m, sender)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"From: <" + addr + ">", "pEp-Auto-Consume: yes", "Subject: planck key management message (Sync) - please ignore"} {
				if !bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(h)+"\r\n")) {
					t.Errorf("no header %q", h)
				}
			}
			if i := bytes.IndexByte(bytes.ReplaceAll(raw, []byte("\r\n"), nil), '\n'); i >= 0 {
				t.Errorf("a bare LF: mail text must have CRLF line ends")
			}
			if encrypted := bytes.Contains(raw, []byte("multipart/encrypted")); encrypted != (len(m.EncryptTo) > 0) {
				t.Errorf("multipart/encrypted: %v", encrypted)
			}
			if len(m.EncryptTo) > 0 && bytes.Contains(raw, []byte("pEp.sync")) {
				t.Errorf("the payload's type shows outside the encryption")
			}
			op, err := message.Open(raw, receiver)
			if err != nil {
				t.Fatal(err)
			}
			if op.From != addr || op.To != addr || op.Kind != message.Sync || !bytes.Equal(op.Payload, m.Payload) || op.Signer != o.Fingerprint() {
				t.Errorf("opened from %q to %q kind %v payload %q signer %s", op.From, op.To, op.Kind, op.Payload, op.Signer)
			}
			if op.Encrypted != (len(m.EncryptTo) > 0) || !slices.Equal(op.EncryptedTo, m.EncryptTo) {
				t.Errorf("encrypted %v to %v, want %v", op.Encrypted, op.EncryptedTo, m.EncryptTo)
			}
			if len(op.OwnKeys) != len(m.OwnKeys) || len(op.OwnKeys) > 0 && !bytes.Equal(op.OwnKeys[0], o.Secret()) {
				t.Errorf("own keys: %d", len(op.OwnKeys))
			}
			if m.AttachPublic {
				if len(op.PublicKeys) != 1 {
					t.Fatalf("%d public keys", len(op.PublicKeys))
				}
				k, err := pgp.ParseKey(op.PublicKeys[0])
				if err != nil || k.Fingerprint() != o.Fingerprint() || k.HasSecret() {
					t.Errorf("attached public key: %v", err)
				}
			}
		})
	}
}

// TestDistribution seals a key reset: encrypted, signed, no detached
// signature, and a managed-group message with one inside the encryption.
func TestDistribution(t *testing.T) {
	o, p, _ := keys(t)
	ring := pgp.NewKeyring(o, p)
	for _, sign := range []bool{false, true} {
		m := message.Message{From: addr, Kind: message.Distribution, Payload: []byte{1, 2, 3}, Signer: o.Fingerprint(), EncryptTo: []string{p.Fingerprint()}, Sign: sign}
		raw, err := message.Seal(m, ring)
		if err != nil {
			t.Fatal(err)
		}
		op, err := message.Open(raw, pgp.NewKeyring(p, public(t, o)))
		if err != nil {
			t.Fatal(err)
		}
		if op.Kind != message.Distribution || !bytes.Equal(op.Payload, m.Payload) || op.Signer != o.Fingerprint() {
			t.Errorf("opened %v %q by %s", op.Kind, op.Payload, op.Signer)
		}
	}
}

func TestSealRejects(t *testing.T) {
	o, p, _ := keys(t)
	ring := pgp.NewKeyring(o, p)
	good := sealed(t, fsm.Trusted, o, p)
	for name, edit := range map[string]func(*message.Message){
		"no from":          func(m *message.Message) { m.From = "" },
		"no kind":          func(m *message.Message) { m.Kind = 0 },
		"no payload":       func(m *message.Message) { m.Payload = nil },
		"no signer":        func(m *message.Message) { m.Signer = "" },
		"clear unsigned":   func(m *message.Message) { m.EncryptTo = nil },
		"clear own keys":   func(m *message.Message) { m.EncryptTo, m.Sign, m.OwnKeys = nil, true, [][]byte{o.Secret()} },
		"header injection": func(m *message.Message) { m.To = "a@b\r\nBcc: x@y" },
		"unknown recipient": func(m *message.Message) {
			m.EncryptTo = []string{strings.Repeat("AB", 20)}
		},
		"too many keys": func(m *message.Message) { m.OwnKeys = make([][]byte, message.MaxKeyRefs+1) },
	} {
		m := good
		edit(&m)
		if _, err := message.Seal(m, ring); err == nil {
			t.Errorf("%s: sealed", name)
		}
	}
}

// TestOpenRejects: what Open must not accept, each with the error that
// says why.
func TestOpenRejects(t *testing.T) {
	o, p, s := keys(t)
	sender := pgp.NewKeyring(o, public(t, p), public(t, s))
	receiver := pgp.NewKeyring(p, public(t, o))
	seal := func(m message.Message, c message.Crypto) []byte {
		t.Helper()
		raw, err := message.Seal(m, c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	beacon := seal(sealed(t, fsm.Unencrypted, o, p), sender)
	trusted := sealed(t, fsm.Untrusted, o, p)

	// A stranger signs a message claiming to be from the own address,
	// encrypted to the receiver: the receiver does not know the key.
	strangerRing := pgp.NewKeyring(s, public(t, p))
	forged := sealed(t, fsm.Untrusted, s, p)

	otherKeys := trusted
	otherKeys.EncryptTo = []string{o.Fingerprint(), s.Fingerprint()}

	// A Beacon whose signature is over another payload.
	other := sealed(t, fsm.Unencrypted, o, p)
	other.Payload = []byte("another payload")
	swapped := spliceSignature(t, beacon, seal(other, sender))

	for name, c := range map[string]struct {
		raw  []byte
		want string
		is   error
	}{
		"tampered beacon payload":             {tamperPayload(t, beacon), "detached signature", pgp.ErrBadSignature},
		"beacon signature of another payload": {swapped, "detached signature", pgp.ErrBadSignature},
		"tampered ciphertext":                 {tamperCipher(t, seal(trusted, sender)), "", nil},
		"signed by a stranger":                {seal(forged, strangerRing), "unknown key", pgp.ErrUnknownSigner},
		"encrypted to other keys":             {seal(otherKeys, sender), "not encrypted to any secret key held", pgp.ErrNoSecretKey},
		"beacon without signature":            {dropPart(t, beacon, "application/pEp.sign"), "without a detached signature", nil},
		"beacon without payload":              {dropPart(t, beacon, "application/pEp.sync"), "no payload", nil},
		"beacon by a stranger":                {seal(sealed(t, fsm.Unencrypted, s, p), pgp.NewKeyring(s)), "", nil},
		"too large":                           {make([]byte, message.MaxSize+1), "more than", nil},
		"empty":                               {nil, "", nil},
	} {
		t.Run(name, func(t *testing.T) {
			op, err := message.Open(c.raw, receiver)
			if name == "beacon by a stranger" {
				// A Beacon brings its key: it opens, and names the
				// stranger as signer; the policy decides.
				if err != nil || op.Signer != s.Fingerprint() {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("opened: signer %s", op.Signer)
			}
			if !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q, want %q / %v", err, c.want, c.is)
			}
		})
	}
}

// part returns the index range of the body of the first part of media
// type mt in raw.
func part(t *testing.T, raw []byte, mt string) (int, int) {
	t.Helper()
	i := bytes.Index(raw, []byte("Content-Type: "+mt))
	if i < 0 {
		t.Fatalf("no %s part", mt)
	}
	b := bytes.LastIndex(raw[:i], []byte("\r\n--")) + 2
	boundary := raw[b : b+bytes.Index(raw[b:], []byte("\r\n"))]
	start := i + bytes.Index(raw[i:], []byte("\r\n\r\n")) + 4
	end := start + bytes.Index(raw[start:], append([]byte("\r\n"), boundary...))
	return start, end
}

func tamperPayload(t *testing.T, raw []byte) []byte {
	start, _ := part(t, raw, "application/pEp.sync")
	out := bytes.Clone(raw)
	if out[start] == 'A' {
		out[start] = 'B'
	} else {
		out[start] = 'A'
	}
	return out
}

func tamperCipher(t *testing.T, raw []byte) []byte {
	start, end := part(t, raw, "application/octet-stream")
	out := bytes.Clone(raw)
	mid := start + (end-start)/2
	if out[mid] == 'A' {
		out[mid] = 'B'
	} else {
		out[mid] = 'A'
	}
	return out
}

func dropPart(t *testing.T, raw []byte, mt string) []byte {
	i := bytes.Index(raw, []byte("Content-Type: "+mt))
	start := bytes.LastIndex(raw[:i], []byte("\r\n--"))
	_, end := part(t, raw, mt)
	return append(bytes.Clone(raw[:start]), raw[end:]...)
}

// spliceSignature returns raw with the detached signature of from.
func spliceSignature(t *testing.T, raw, from []byte) []byte {
	s, e := part(t, raw, "application/pEp.sign")
	fs, fe := part(t, from, "application/pEp.sign")
	return append(append(bytes.Clone(raw[:s]), from[fs:fe]...), raw[e:]...)
}

// TestConcurrent seals and opens from several goroutines with shared keys
// and keyrings (run with -race).
func TestConcurrent(t *testing.T) {
	o, p, _ := keys(t)
	sender := pgp.NewKeyring(o, public(t, p))
	msgs := map[fsm.Security]message.Message{}
	receivers := map[fsm.Security]*pgp.Keyring{}
	for _, sec := range contexts {
		msgs[sec], receivers[sec] = sealed(t, sec, o, p), receiverRing(t, sec, o, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(contexts))
	for range 4 {
		wg.Go(func() {
			for _, sec := range contexts {
				raw, err := message.Seal(msgs[sec], sender)
				if err == nil {
					_, err = message.Open(raw, receivers[sec])
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", sec, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
