package device

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeCodec stands in for OpenPGP: a key is a random fpr, a message is
// JSON naming its signer and recipients, and it opens only with a secret
// of a recipient. It decides nothing the real codec would not.
type fakeCodec struct{}

type fakeMsg struct {
	Out     Outbound
	Secret  []string
	Public  []string
	Devices []string
}

func (fakeCodec) NewKey(address, name string) (Key, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	f := strings.ToUpper(hex.EncodeToString(b))
	return Key{Fpr: f, Public: "PUB:" + f, Secret: "SEC:" + f}, nil
}

func (fakeCodec) ParseKey(a string) (Key, error) {
	switch {
	case strings.HasPrefix(a, "PUB:"):
		return Key{Fpr: a[4:], Public: a}, nil
	case strings.HasPrefix(a, "SEC:"):
		return Key{Fpr: a[4:], Public: "PUB:" + a[4:], Secret: a}, nil
	}
	return Key{}, errors.New("not a key")
}

func (fakeCodec) Seal(out Outbound, ring Ring) ([]byte, error) {
	m := fakeMsg{Out: out}
	if k, ok := ring.Key(out.Signer); !ok || k.Secret == "" {
		return nil, fmt.Errorf("no secret signing key %s", out.Signer)
	}
	for _, f := range out.EncryptTo {
		if _, ok := ring.Key(f); !ok {
			return nil, fmt.Errorf("no public key %s", f)
		}
	}
	for _, f := range out.Secret {
		k, ok := ring.Key(f)
		if !ok || k.Secret == "" {
			return nil, fmt.Errorf("no secret key %s to attach", f)
		}
		m.Secret = append(m.Secret, k.Secret)
	}
	k, _ := ring.Key(out.Signer)
	m.Public = []string{k.Public}
	for _, f := range out.Devices {
		k, ok := ring.Key(f)
		if !ok {
			return nil, fmt.Errorf("no device key %s to attach", f)
		}
		m.Devices = append(m.Devices, k.Public)
	}
	m.Out.Secret, m.Out.Devices = nil, nil
	return json.Marshal(m)
}

func (fakeCodec) Open(data []byte, ring Ring) (Inbound, error) {
	var m fakeMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return Inbound{}, err
	}
	if len(m.Out.EncryptTo) > 0 {
		ok := false
		for _, f := range m.Out.EncryptTo {
			k, has := ring.Key(f)
			ok = ok || has && k.Secret != ""
		}
		if !ok {
			return Inbound{}, errors.New("encrypted to no key of ours")
		}
	}
	return Inbound{From: m.Out.Address, Kind: m.Out.Kind, Payload: m.Out.Payload, Signer: m.Out.Signer,
		Encrypted: len(m.Out.EncryptTo) > 0, Secret: m.Secret, Public: m.Public, Devices: m.Devices}, nil
}

// testClock is a settable clock.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

// net is an in-memory channel: one ordered log every device reads.
type net struct {
	codec Codec
	log   [][]byte
	devs  []*Device
	logs  []*[]string
}

func newNet(t *testing.T, n int, clock *testClock, codec Codec) *net {
	t.Helper()
	w := &net{codec: codec}
	for i := 0; i < n; i++ {
		w.add(t, clock)
	}
	return w
}

func (w *net) add(t *testing.T, clock *testClock) *Device {
	t.Helper()
	home := t.TempDir() + "/home"
	if err := Create(home, "me@example.org", "dev"+strconv.Itoa(len(w.devs)), w.codec); err != nil {
		t.Fatal(err)
	}
	var lines []string
	d, err := Open(home, Options{Codec: w.codec, Clock: clock, Log: func(s string) { lines = append(lines, s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w.devs = append(w.devs, d)
	w.logs = append(w.logs, &lines)
	return d
}

// settle moves outboxes to the log and delivers it until nothing moves.
func (w *net) settle(t *testing.T) {
	t.Helper()
	for round := 0; round < 1000; round++ {
		moved := false
		for _, d := range w.devs {
			for _, p := range d.Outbox() {
				w.log = append(w.log, p.Data)
				if err := d.Sent(p.ID); err != nil {
					t.Fatal(err)
				}
				moved = true
			}
		}
		for _, d := range w.devs {
			pos, _ := strconv.Atoi(d.Position())
			for ; pos < len(w.log); pos++ {
				if err := d.Receive(strconv.Itoa(pos+1), w.log[pos]); err != nil {
					t.Fatal(err)
				}
				moved = true
			}
		}
		if !moved {
			return
		}
	}
	t.Fatal("channel does not settle")
}

func (w *net) dump(t *testing.T) {
	for i, l := range w.logs {
		t.Logf("device %d (%s):\n  %s", i, w.devs[i].Status().State, strings.Join(*l, "\n  "))
	}
}

func equalKeys(a, b []string) bool { return slices.Equal(a, b) && len(a) > 0 }

// codecs are the codecs the device tests run with: the fake, fast, and
// the real OpenPGP one.
func codecs(t *testing.T, f func(t *testing.T, codec Codec)) {
	t.Run("fake", func(t *testing.T) { f(t, fakeCodec{}) })
	t.Run("pgp", func(t *testing.T) { f(t, &PGP{}) })
}
