package device

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/keysync/keysync/fsm"
	"github.com/keysync/keysync/wire"
)

// Keyring is a device's key store: its own identity, every key it holds
// with its trust, its device key and what it knows of the group. It is
// stored with the device state in one transaction per event.
type Keyring struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	// Default is the own identity's default key: the device's own key, or
	// the group key once grouped.
	Default string `json:"default"`
	// Device is the device key: its secret never leaves this device. The
	// group encrypts key resets to the members' device keys, so that a
	// leaver cannot read them (doc/protocol.md §18.1).
	Device   string          `json:"device"`
	Keys     map[string]*Rec `json:"keys"`
	Grouped  bool            `json:"grouped"`  // PEP_idf_devicegroup
	Disabled bool            `json:"disabled"` // sync switched off
	// Members are the device keys of the group's devices, this one's too.
	Members map[string]bool `json:"members,omitempty"`
	// Left are device keys of devices that left the group.
	Left map[string]bool `json:"left,omitempty"`
}

// Rec is one key in the keyring with its trust.
type Rec struct {
	Key
	Own     bool `json:"own,omitempty"`     // trusted as own key (comm_type PEP_ct_pEp)
	Revoked bool `json:"revoked,omitempty"` // revoked or replaced
}

// Key implements Ring.
func (k *Keyring) Key(fpr string) (Key, bool) {
	r, ok := k.Keys[strings.ToUpper(fpr)]
	if !ok {
		return Key{}, false
	}
	return r.Key, true
}

// All implements Ring, in fingerprint order.
func (k *Keyring) All() []Key {
	var out []Key
	for _, f := range k.sorted() {
		out = append(out, k.Keys[f].Key)
	}
	return out
}

func (k *Keyring) sorted() []string {
	var fs []string
	for f := range k.Keys {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

// add puts key into the ring; a secret replaces a public-only entry.
func (k *Keyring) add(key Key) *Rec {
	key.Fpr = strings.ToUpper(key.Fpr)
	if r, ok := k.Keys[key.Fpr]; ok {
		if r.Secret == "" && key.Secret != "" {
			r.Secret = key.Secret
		}
		return r
	}
	r := &Rec{Key: key}
	k.Keys[key.Fpr] = r
	return r
}

func (k *Keyring) rec(fpr string) *Rec { return k.Keys[strings.ToUpper(fpr)] }

// clone returns a deep copy.
func (k *Keyring) clone() *Keyring {
	c := *k
	c.Keys = map[string]*Rec{}
	for f, r := range k.Keys {
		rr := *r
		c.Keys[f] = &rr
	}
	c.Members = cloneSet(k.Members)
	c.Left = cloneSet(k.Left)
	return &c
}

func cloneSet(m map[string]bool) map[string]bool {
	if m == nil {
		return nil
	}
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// GroupKeys returns the group's keys: the default key while grouped.
func (k *Keyring) GroupKeys() []string {
	if !k.Grouped {
		return nil
	}
	return []string{k.Default}
}

// MemberKeys returns the device keys of the group's known members, sorted.
func (k *Keyring) MemberKeys() []string {
	var out []string
	for f, ok := range k.Members {
		if ok && !k.Left[f] {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// keyStore is the fsm.KeyStore of a device: the keyring plus what the
// actions need of the device (a new key, queued events, the outbox).
type keyStore struct{ d *Device }

var _ fsm.KeyStore = keyStore{}

func (s keyStore) ring() *Keyring { return s.d.keys }

// OwnKey implements fsm.KeyStore.
func (s keyStore) OwnKey() (string, error) {
	if s.ring().Default == "" {
		return "", errors.New("no own key")
	}
	return s.ring().Default, nil
}

// ImportKeys implements fsm.KeyStore: attached holds armored secret keys of
// an accepted message.
func (s keyStore) ImportKeys(attached []string) error {
	for _, a := range attached {
		key, err := s.d.codec.ParseKey(a)
		if err != nil {
			return fmt.Errorf("attached key: %w", err)
		}
		if key.Fpr == s.ring().Device {
			continue // never take over another copy of the device key
		}
		s.ring().add(key)
		s.d.logf("imported key %s", short(key.Fpr))
	}
	return nil
}

// DeviceGrouped implements fsm.KeyStore.
func (s keyStore) DeviceGrouped() (bool, error) { return s.ring().Grouped, nil }

// IsOwnKey implements fsm.KeyStore.
func (s keyStore) IsOwnKey(fpr string) (bool, error) {
	r := s.ring().rec(fpr)
	return r != nil && r.Own && r.Secret != "" && !r.Revoked, nil
}

// OwnKeyIsListed implements fsm.KeyStore.
func (s keyStore) OwnKeyIsListed(fpr string) (bool, error) {
	r := s.ring().rec(fpr)
	return r != nil && r.Own && !r.Revoked, nil
}

// TrustOwnKey implements fsm.KeyStore.
func (s keyStore) TrustOwnKey(address, fpr string) error {
	k := s.ring()
	if !strings.EqualFold(address, k.Address) {
		return fmt.Errorf("trust_own_key: %s is not an own identity", address)
	}
	r := k.rec(fpr)
	switch {
	case r == nil:
		return fmt.Errorf("trust_own_key: no key %s", short(fpr))
	case r.Revoked:
		return fmt.Errorf("trust_own_key: %s is revoked", short(fpr))
	case strings.EqualFold(fpr, k.Device):
		return fmt.Errorf("trust_own_key: %s is the device key", short(fpr))
	}
	r.Own = true
	s.d.logf("trusted key %s as own key", short(fpr))
	return nil
}

// UntrustKey implements fsm.KeyStore. The default key stays trusted.
func (s keyStore) UntrustKey(fpr string) error {
	k := s.ring()
	if r := k.rec(fpr); r != nil && !strings.EqualFold(fpr, k.Default) {
		r.Own = false
		s.d.logf("took back trust in key %s", short(fpr))
	}
	return nil
}

// OwnKeys implements fsm.KeyStore: the default key of the one identity,
// the only key D4 lets a device ship (a key is shipped only if it is the
// default key of an identity that is not flagged not-for-sync).
func (s keyStore) OwnKeys() ([]string, []wire.Identity, error) {
	return []string{s.ring().Default}, []wire.Identity{s.d.identity()}, nil
}

// SaveGroupKeys implements fsm.KeyStore. A device has one identity, the
// channel's own address, so there is nothing new to add; the received
// identities must be well formed and their keys present.
func (s keyStore) SaveGroupKeys(received []wire.Identity) error {
	for _, id := range received {
		if id.Address == "" || id.Fpr == "" {
			return errors.New("saveGroupKeys: identity without address or fpr")
		}
		if !strings.EqualFold(id.Address, s.ring().Address) {
			s.d.logf("saveGroupKeys: ignored identity of another address")
		}
	}
	return nil
}

// OwnKeysAreDefaultKeys implements fsm.KeyStore.
func (s keyStore) OwnKeysAreDefaultKeys() error {
	s.ring().Grouped = true
	s.ring().Members[s.ring().Device] = true
	return nil
}

// ReceivedKeysAreDefaultKeys implements fsm.KeyStore: the received key of
// the own address becomes the default, the previous one is revoked, and
// set_own_key raises SynchronizeGroupKeys.
func (s keyStore) ReceivedKeysAreDefaultKeys(received []wire.Identity) error {
	k := s.ring()
	k.Grouped = true
	k.Members[k.Device] = true
	for _, id := range received {
		if !strings.EqualFold(id.Address, k.Address) || strings.EqualFold(id.Fpr, k.Default) {
			continue
		}
		r := k.rec(id.Fpr)
		if r == nil || r.Secret == "" {
			return fmt.Errorf("receivedKeysAreDefaultKeys: secret key %s not imported", short(id.Fpr))
		}
		if old := k.rec(k.Default); old != nil {
			old.Revoked = true
		}
		k.Default = r.Fpr
		r.Own = true
		s.d.logf("own key is now %s", short(r.Fpr))
		s.d.mach.Post(fsm.Event{Name: "SynchronizeGroupKeys"})
	}
	return nil
}

// Disable implements fsm.KeyStore.
func (s keyStore) Disable() error {
	s.ring().Grouped, s.ring().Disabled = false, true
	s.d.logf("sync switched off")
	return nil
}

// ResetOwnGroupedKeys implements fsm.KeyStore: the elected leader makes a
// new group key and sends it in a Distribution KeyReset, encrypted to the
// device keys of the remaining members, never to the old group key
// (doc/protocol.md §13.1 with §18.1), and signed with the old group key.
func (s keyStore) ResetOwnGroupedKeys() error {
	k := s.ring()
	old := k.Default
	nk, err := s.d.codec.NewKey(k.Address, k.Name)
	if err != nil {
		return err
	}
	to := k.MemberKeys()
	if !slices.Contains(to, k.Device) {
		to = append(to, k.Device)
	}
	cmd := &wire.Commands{Version: wire.Version{Major: 1, Minor: 0}, CommandList: []wire.Command{{
		Ident: s.d.identityWith(old), NewKey: nk.Fpr}}}
	payload, err := wire.MarshalDistribution(cmd)
	if err != nil {
		return err
	}
	r := k.add(nk)
	if err := s.d.queue(Outbound{Address: k.Address, Kind: KindDistribution, Payload: payload, Security: fsm.Trusted,
		Signer: old, EncryptTo: to, Secret: []string{nk.Fpr}}, "KeyReset"); err != nil {
		return err
	}
	if o := k.rec(old); o != nil {
		o.Revoked = true
	}
	r.Own = true
	k.Default = nk.Fpr
	s.d.logf("group key reset: %s replaces %s, sent to %d device keys", short(nk.Fpr), short(old), len(to))
	return nil
}

// ResetOwnKeysUngrouped implements fsm.KeyStore: a new own key for the
// leaving device; the old one, the group key, is revoked here.
func (s keyStore) ResetOwnKeysUngrouped() error {
	k := s.ring()
	nk, err := s.d.codec.NewKey(k.Address, k.Name)
	if err != nil {
		return err
	}
	old := k.Default
	r := k.add(nk)
	r.Own = true
	k.Default = nk.Fpr
	if o := k.rec(old); o != nil {
		o.Revoked, o.Own = true, false
	}
	k.Members, k.Left = map[string]bool{}, nil
	s.d.logf("own keys reset: %s replaces %s", short(nk.Fpr), short(old))
	return nil
}

// receiveKeyReset applies a Distribution KeyReset (doc/protocol.md §13.2)
// that fsm.AcceptKeyReset accepted: every command must name the own
// address and the signing key as old key, and bring its new key.
func (d *Device) receiveKeyReset(cmd *wire.Commands, in Inbound) error {
	if err := cmd.Version.Check(); err != nil {
		return fmt.Errorf("key reset: %w (D8)", err)
	}
	if err := fsm.AcceptKeyReset(in.Signer, keyStore{d}); err != nil {
		return err
	}
	k := d.keys
	secrets := map[string]Key{}
	for _, a := range in.Secret {
		key, err := d.codec.ParseKey(a)
		if err != nil {
			return fmt.Errorf("key reset: attached key: %w", err)
		}
		secrets[key.Fpr] = key
	}
	for _, c := range cmd.CommandList {
		if !strings.EqualFold(c.Ident.Address, k.Address) || !strings.EqualFold(c.Ident.Fpr, in.Signer) {
			return fmt.Errorf("key reset: command for %s is not signed by its old key", short(c.Ident.Fpr))
		}
		nk, ok := secrets[strings.ToUpper(c.NewKey)]
		if !ok {
			return fmt.Errorf("key reset: new key %s not attached", short(c.NewKey))
		}
		if !strings.EqualFold(k.Default, c.Ident.Fpr) {
			continue // not our default (any more): nothing to replace
		}
		r := k.add(nk)
		r.Own = true
		if o := k.rec(c.Ident.Fpr); o != nil {
			o.Revoked = true
		}
		k.Default = r.Fpr
		d.logf("group key reset: own key is now %s, replacing %s", short(r.Fpr), short(c.Ident.Fpr))
	}
	return nil
}

// short abbreviates a fingerprint for logs.
func short(fpr string) string { return fpr[:min(8, len(fpr))] }
