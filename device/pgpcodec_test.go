package device

import (
	"strings"
	"testing"

	"github.com/keysync/keysync/message"
	"github.com/keysync/keysync/wire"
)

// The reference engine puts all own keys in one own.key attachment, each
// as its armored secret key followed by its armored public key
// (doc/protocol.md §10.3): Open returns each secret key, and no device
// keys.
func TestOpenReferenceOwnKey(t *testing.T) {
	codec := &PGP{}
	ring := &Keyring{Keys: map[string]*Rec{}}
	var keys []Key
	for _, name := range []string{"laptop", "group"} {
		k, err := codec.NewKey("me@example.org", name)
		if err != nil {
			t.Fatal(err)
		}
		ring.add(k)
		keys = append(keys, k)
	}
	kr, err := codec.keyring(ring)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := wire.MarshalSync(&wire.GroupKeysUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(ownKey string) []byte {
		t.Helper()
		data, err := message.Seal(message.Message{From: "me@example.org", Kind: message.Sync, Payload: payload,
			Signer: keys[0].Fpr, EncryptTo: []string{keys[0].Fpr}, OwnKeys: [][]byte{[]byte(ownKey)}}, kr)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	both := keys[0].Secret + keys[0].Public + "\n" + keys[1].Secret + "\n" + keys[1].Public
	in, err := codec.Open(seal(both), ring)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Secret) != 2 || len(in.Devices) != 0 {
		t.Fatalf("%d secret keys and %d device keys, want 2 and 0", len(in.Secret), len(in.Devices))
	}
	for i, s := range in.Secret {
		if strings.TrimSpace(s) != strings.TrimSpace(keys[i].Secret) {
			t.Errorf("secret key %d is not %s's", i, keys[i].Fpr)
		}
	}
	// A public key of another key beside the secret ones, more public
	// keys than secret ones, and other data are refused.
	stranger, err := codec.NewKey("me@example.org", "stranger")
	if err != nil {
		t.Fatal(err)
	}
	for ownKey, want := range map[string]string{
		keys[0].Secret + stranger.Public:                 "not one of theirs",
		keys[0].Secret + keys[0].Public + keys[0].Public: "more public keys",
		keys[0].Secret + "\nsomething else\n":            "outside its armored keys",
	} {
		if _, err := codec.Open(seal(ownKey), ring); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("own.key %.40q…: %v, want an error saying %q", ownKey, err, want)
		}
	}
}
