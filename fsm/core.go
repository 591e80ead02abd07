package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/keysync/keysync/wire"
)

// Buffer is the KeySync I/O buffer of protocol.md §5: the union of the
// fields of all KeySync messages.
type Buffer struct {
	Challenge, Response, Negotiation wire.TID
	IsGroup                          bool
	Key                              string
	OwnIdentities                    []wire.Identity
	Rating                           wire.Rating
}

// Load overwrites exactly the fields that m carries (update_Sync_state).
// The version is not stored; see CheckVersion.
func (b *Buffer) Load(m wire.Message) {
	switch m := m.(type) {
	case *wire.Beacon:
		b.Challenge = m.Challenge
	case *wire.NegotiationRequest:
		b.Challenge, b.Response, b.Negotiation, b.IsGroup = m.Challenge, m.Response, m.Negotiation, m.IsGroup
	case *wire.NegotiationRequestGrouped:
		b.Challenge, b.Response, b.Negotiation, b.IsGroup = m.Challenge, m.Response, m.Negotiation, m.IsGroup
	case *wire.NegotiationOpen:
		b.Response, b.Negotiation = m.Response, m.Negotiation
	case *wire.Rollback:
		b.Negotiation = m.Negotiation
	case *wire.CommitReject:
		b.Negotiation = m.Negotiation
	case *wire.CommitAcceptOfferer:
		b.Negotiation = m.Negotiation
	case *wire.CommitAcceptRequester:
		b.Negotiation = m.Negotiation
	case *wire.CommitAccept:
		b.Negotiation = m.Negotiation
	case *wire.CommitAcceptForGroup:
		b.Negotiation = m.Negotiation
	case *wire.GroupTrustThisKey:
		b.Key, b.Negotiation = m.Key, m.Negotiation
	case *wire.GroupHandshake:
		b.Negotiation, b.Key = m.Negotiation, m.Key
	case *wire.GroupKeysForNewMember:
		b.OwnIdentities = slices.Clone(m.OwnIdentities)
	case *wire.GroupKeysAndClose:
		b.OwnIdentities = slices.Clone(m.OwnIdentities)
	case *wire.OwnKeysOfferer:
		b.OwnIdentities = slices.Clone(m.OwnIdentities)
	case *wire.OwnKeysRequester:
		b.OwnIdentities = slices.Clone(m.OwnIdentities)
	case *wire.GroupKeysUpdate:
		b.OwnIdentities = slices.Clone(m.OwnIdentities)
	case *wire.ElectGroupKeyResetLeader:
		b.Response = m.Response
	case *wire.ReceiverRating:
		b.Rating = m.Rating
	}
}

// Build returns a new message of kind k with its fields copied from the
// buffer (update_Sync_message); version fields get v.
func (b *Buffer) Build(k wire.Kind, v wire.Version) (wire.Message, error) {
	ids := slices.Clone(b.OwnIdentities)
	switch k {
	case wire.KindBeacon:
		return &wire.Beacon{Challenge: b.Challenge, Version: v}, nil
	case wire.KindNegotiationRequest:
		return &wire.NegotiationRequest{Challenge: b.Challenge, Response: b.Response, Version: v, Negotiation: b.Negotiation, IsGroup: b.IsGroup}, nil
	case wire.KindNegotiationRequestGrouped:
		return &wire.NegotiationRequestGrouped{Challenge: b.Challenge, Response: b.Response, Version: v, Negotiation: b.Negotiation, IsGroup: b.IsGroup}, nil
	case wire.KindNegotiationOpen:
		return &wire.NegotiationOpen{Response: b.Response, Version: v, Negotiation: b.Negotiation}, nil
	case wire.KindRollback:
		return &wire.Rollback{Negotiation: b.Negotiation}, nil
	case wire.KindCommitReject:
		return &wire.CommitReject{Negotiation: b.Negotiation}, nil
	case wire.KindCommitAcceptOfferer:
		return &wire.CommitAcceptOfferer{Negotiation: b.Negotiation}, nil
	case wire.KindCommitAcceptRequester:
		return &wire.CommitAcceptRequester{Negotiation: b.Negotiation}, nil
	case wire.KindCommitAccept:
		return &wire.CommitAccept{Negotiation: b.Negotiation}, nil
	case wire.KindCommitAcceptForGroup:
		return &wire.CommitAcceptForGroup{Negotiation: b.Negotiation}, nil
	case wire.KindGroupTrustThisKey:
		return &wire.GroupTrustThisKey{Key: b.Key, Negotiation: b.Negotiation}, nil
	case wire.KindGroupHandshake:
		return &wire.GroupHandshake{Negotiation: b.Negotiation, Key: b.Key}, nil
	case wire.KindGroupKeysForNewMember:
		return &wire.GroupKeysForNewMember{OwnIdentities: ids}, nil
	case wire.KindGroupKeysAndClose:
		return &wire.GroupKeysAndClose{OwnIdentities: ids}, nil
	case wire.KindOwnKeysOfferer:
		return &wire.OwnKeysOfferer{OwnIdentities: ids}, nil
	case wire.KindOwnKeysRequester:
		return &wire.OwnKeysRequester{OwnIdentities: ids}, nil
	case wire.KindGroupKeysUpdate:
		return &wire.GroupKeysUpdate{OwnIdentities: ids}, nil
	case wire.KindInitUnledGroupKeyReset:
		return &wire.InitUnledGroupKeyReset{}, nil
	case wire.KindElectGroupKeyResetLeader:
		return &wire.ElectGroupKeyResetLeader{Response: b.Response}, nil
	case wire.KindSynchronizeGroupKeys:
		return &wire.SynchronizeGroupKeys{}, nil
	case wire.KindReceiverRating:
		return &wire.ReceiverRating{Rating: b.Rating}, nil
	}
	return nil, fmt.Errorf("no message of kind %d", k)
}

// MessageVersion returns the version a message carries, if it has one.
func MessageVersion(m wire.Message) (wire.Version, bool) {
	switch m := m.(type) {
	case *wire.Beacon:
		return m.Version, true
	case *wire.NegotiationRequest:
		return m.Version, true
	case *wire.NegotiationRequestGrouped:
		return m.Version, true
	case *wire.NegotiationOpen:
		return m.Version, true
	}
	return wire.Version{}, false
}

// MessageNegotiation returns the negotiation TID a message carries, if any.
func MessageNegotiation(m wire.Message) (wire.TID, bool) {
	switch m := m.(type) {
	case *wire.NegotiationRequest:
		return m.Negotiation, true
	case *wire.NegotiationRequestGrouped:
		return m.Negotiation, true
	case *wire.NegotiationOpen:
		return m.Negotiation, true
	case *wire.Rollback:
		return m.Negotiation, true
	case *wire.CommitReject:
		return m.Negotiation, true
	case *wire.CommitAcceptOfferer:
		return m.Negotiation, true
	case *wire.CommitAcceptRequester:
		return m.Negotiation, true
	case *wire.CommitAccept:
		return m.Negotiation, true
	case *wire.CommitAcceptForGroup:
		return m.Negotiation, true
	case *wire.GroupTrustThisKey:
		return m.Negotiation, true
	case *wire.GroupHandshake:
		return m.Negotiation, true
	}
	return wire.TID{}, false
}

// Own holds the own variables of protocol.md §5.
type Own struct {
	Keys             []string        // prepared for shipping (prepareOwnKeys)
	Backup           []string        // backupOwnKeys
	BackupIdentities []wire.Identity // backupOwnKeys also saves the identities (D3)
	Identities       []wire.Identity // identities_sharing of the last API event
	Challenge        wire.TID
	Response         wire.TID
	Negotiation      wire.TID // the negotiation base
}

// Partner holds the comm_partner variables of protocol.md §5.
type Partner struct {
	SenderFpr   string // the expected partner key
	Identity    string // the partner's transport address
	Challenge   wire.TID
	Response    wire.TID
	Negotiation wire.TID // this negotiation's TID
}

// Transport holds the sender of the event being processed.
type Transport struct {
	From      string
	SenderFpr string
}

// Vars are all state variables of one KeySync device.
type Vars struct {
	Own       Own
	Partner   Partner
	Transport Transport
	KeySync   Buffer

	// Stored is true after storeNegotiation in the current negotiation (D6).
	Stored bool
	// Trusted is the fpr trustThisKey trusted in the current negotiation and
	// not yet undone; a timeout revokes it (D5).
	Trusted string
}

// Clone returns a deep copy of v.
func (v Vars) Clone() Vars {
	v.Own.Keys = slices.Clone(v.Own.Keys)
	v.Own.Backup = slices.Clone(v.Own.Backup)
	v.Own.BackupIdentities = slices.Clone(v.Own.BackupIdentities)
	v.Own.Identities = slices.Clone(v.Own.Identities)
	v.KeySync.OwnIdentities = slices.Clone(v.KeySync.OwnIdentities)
	return v
}

// KeyStore is the key handling a device provides: its keyring, trust
// table and own identities. The simulator fakes it; the real device uses
// its key store.
type KeyStore interface {
	// OwnKey returns the fpr of the own identity's default key: it signs
	// every message sent and is a recipient of every encrypted one.
	OwnKey() (string, error)
	// ImportKeys imports the secret keys attached to an accepted message.
	ImportKeys(attached []string) error
	// DeviceGrouped reports whether an own identity has PEP_idf_devicegroup.
	DeviceGrouped() (bool, error)
	// IsOwnKey reports whether fpr is trusted as an own key (comm_type
	// PEP_ct_pEp) and its secret key is in the keyring (fromGroupMember).
	IsOwnKey(fpr string) (bool, error)
	// OwnKeyIsListed reports whether fpr is listed in the trust table as an
	// own key with full trust (own_key_is_listed).
	OwnKeyIsListed(fpr string) (bool, error)
	// TrustOwnKey confirms fpr as an own key of the identity at address
	// (trust_own_key).
	TrustOwnKey(address, fpr string) error
	// UntrustKey undoes TrustOwnKey (untrust_this_key).
	UntrustKey(fpr string) error
	// OwnKeys returns the keys and identities to ship (prepareOwnKeys, D4).
	OwnKeys() ([]string, []wire.Identity, error)
	// SaveGroupKeys stores the received identities that are new.
	SaveGroupKeys(received []wire.Identity) error
	// OwnKeysAreDefaultKeys flags the own identities as device-group members.
	OwnKeysAreDefaultKeys() error
	// ReceivedKeysAreDefaultKeys flags the own identities and makes the
	// received keys their defaults, revoking the previous ones.
	ReceivedKeysAreDefaultKeys(received []wire.Identity) error
	// Disable switches sync off and clears the device-group flags.
	Disable() error
	// ResetOwnGroupedKeys resets the group keys and distributes new ones.
	ResetOwnGroupedKeys() error
	// ResetOwnKeysUngrouped resets all own keys, ignoring the group.
	ResetOwnKeysUngrouped() error
}

// Outgoing is a message a device asks its channel to send, with what the
// security context of the message needs (protocol.md §10.2–10.3).
type Outgoing struct {
	Msg      wire.Message
	Decl     *Message
	To       string   // anycast address: comm_partner.identity, else transport.from
	Partner  string   // partner key: an extra recipient for untrusted and new-member messages
	Attached []string // own.keys, for the attach_own_keys_* contexts
	// Signer and EncryptTo are set when the message is transmitted: the
	// own key, and the Recipients of its security context (nil: in clear).
	Signer    string
	EncryptTo []string
}

// Channel sends messages for a device.
type Channel interface {
	Transmit(o Outgoing) error
}

// ErrCannotSend is returned by Send when the security context cannot be met
// (PEP_SYNC_CANNOT_ENCRYPT).
var ErrCannotSend = errors.New("cannot send")

// Core is the reusable part of a KeySync device: the variables, the pure
// conditions and actions, the receive-side filters D6 and D8 and the rate
// limits of D9. It implements Device given a KeyStore, a Channel, a
// source of random TIDs and a clock.
type Core struct {
	Vars
	FSM    *FSM
	Keys   KeyStore
	Out    Channel
	NewTID func() (wire.TID, error)
	Clock  Clock
	// Notifier receives the signals of Notify, if set.
	Notifier func(Signal)
	// Log receives a line for every dropped event, if set.
	Log func(string)

	lastSent map[wire.Kind]time.Time
	deferred []Outgoing
}

// CloneCore returns a copy of c's variables and rate-limit state wired to
// new collaborators, for a model checker that copies devices.
func (c *Core) CloneCore(keys KeyStore, out Channel, newTID func() (wire.TID, error), clock Clock, notifier func(Signal)) *Core {
	d := &Core{Vars: c.Vars.Clone(), FSM: c.FSM, Keys: keys, Out: out, NewTID: newTID, Clock: clock, Notifier: notifier, Log: c.Log}
	if c.lastSent != nil {
		d.lastSent = make(map[wire.Kind]time.Time, len(c.lastSent))
		for k, t := range c.lastSent {
			d.lastSent[k] = t
		}
	}
	d.deferred = slices.Clone(c.deferred)
	return d
}

func (c *Core) logf(format string, a ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, a...))
	}
}

// Load implements Device. It drops a message that the receive policy does
// not accept (Accept: security context, D6, D8); it imports the keys
// attached to an accepted one.
func (c *Core) Load(ev Event, h *Handler) bool {
	if ev.Msg != nil {
		r := Received{Msg: ev.Msg, Signer: ev.SenderFpr, ForNegotiation: h != nil && h.TestsNegotiation}
		if c.FSM != nil {
			r.Decl = c.FSM.MessageOf(ev.Msg.Kind())
		}
		n := Negotiation{Stored: c.Stored, Partner: c.Partner.SenderFpr, TID: c.Partner.Negotiation}
		if err := Accept(r, n, c.Keys); err != nil {
			c.logf("dropped %s: %v", ev.Name, err)
			return false
		}
		if len(ev.Attached) > 0 {
			if err := c.Keys.ImportKeys(ev.Attached); err != nil {
				c.logf("dropped %s: importing its keys: %v", ev.Name, err)
				return false
			}
		}
	}
	if ev.From != "" {
		c.Transport.From = ev.From
	}
	if ev.SenderFpr != "" {
		c.Transport.SenderFpr = ev.SenderFpr
	}
	if ev.Msg != nil {
		c.KeySync.Load(ev.Msg)
	}
	if ev.Identities != nil {
		c.Own.Identities = slices.Clone(ev.Identities)
	}
	return true
}

// compareTID orders TIDs as weAreOfferer does: unsigned byte-wise.
func compareTID(a, b wire.TID) int { return bytes.Compare(a[:], b[:]) }

// Condition implements Device for the conditions of protocol.md §6.
func (c *Core) Condition(name string) (bool, error) {
	switch name {
	case "deviceGrouped":
		return c.Keys.DeviceGrouped()
	case "weAreOfferer":
		return compareTID(c.KeySync.Challenge, c.Own.Challenge) > 0, nil
	case "sameChallenge":
		return c.KeySync.Challenge == c.Own.Challenge, nil
	case "sameResponse":
		return c.KeySync.Response == c.Own.Response, nil
	case "sameNegotiation":
		return c.KeySync.Negotiation == c.Partner.Negotiation, nil
	case "sameNegotiationAndPartner":
		return c.KeySync.Negotiation == c.Partner.Negotiation &&
			c.Partner.SenderFpr != "" && c.Transport.SenderFpr != "" &&
			c.Partner.SenderFpr == c.Transport.SenderFpr, nil
	case "fromGroupMember":
		if c.Transport.SenderFpr == "" {
			return false, nil
		}
		return c.Keys.IsOwnKey(c.Transport.SenderFpr)
	}
	return false, fmt.Errorf("unknown condition %q", name)
}

var signals = map[string]Signal{
	"showSoleHandshake":      SignalInitFormGroup,
	"showJoinGroupHandshake": SignalInitAddOurDevice,
	"showGroupedHandshake":   SignalInitAddOtherDevice,
	"showDeviceAdded":        SignalAcceptedDeviceAdded,
	"showGroupCreated":       SignalAcceptedGroupCreated,
	"showDeviceAccepted":     SignalAcceptedDeviceAccepted,
	"showBeingSole":          SignalSole,
	"showBeingInGroup":       SignalInGroup,
}

// Action implements Device for the actions of protocol.md §7.
func (c *Core) Action(name string) error {
	if s, ok := signals[name]; ok {
		c.Notify(s)
		return nil
	}
	b := &c.KeySync
	switch name {
	case "newChallengeAndNegotiationBase":
		var err error
		for _, t := range []*wire.TID{&c.Own.Challenge, &c.Own.Response, &c.Own.Negotiation} {
			if *t, err = c.newTID(); err != nil {
				return err
			}
		}
		b.Challenge, b.Response = c.Own.Challenge, c.Own.Response
		b.Negotiation, c.Partner.Negotiation = wire.TID{}, wire.TID{}
		c.Stored, c.Trusted = false, ""
	case "useOwnChallenge":
		b.Challenge = c.Own.Challenge
	case "useOwnResponse":
		b.Response = c.Own.Response
	case "openNegotiation":
		c.Partner.SenderFpr, c.Partner.Identity = "", ""
		for i := range b.Negotiation {
			b.Negotiation[i] = c.Own.Negotiation[i] ^ b.Challenge[i]
		}
		c.Partner.Negotiation = b.Negotiation
		c.Stored, c.Trusted = false, ""
	case "storeNegotiation":
		c.Partner.SenderFpr = c.Transport.SenderFpr
		c.Partner.Identity = c.Transport.From
		c.Partner.Negotiation = b.Negotiation
		c.Stored, c.Trusted = true, ""
	case "tellWeAreGrouped":
		b.IsGroup = true
	case "tellWeAreNotGrouped":
		b.IsGroup = false
	case "useThisKey":
		b.Key = c.Partner.SenderFpr
	case "storeThisKey":
		c.Partner.SenderFpr = b.Key
	case "trustThisKey":
		fpr := c.Partner.SenderFpr
		if fpr == "" {
			return errors.New("trustThisKey: no partner key")
		}
		if err := c.Keys.TrustOwnKey(c.Transport.From, fpr); err != nil {
			return err
		}
		b.Key = fpr
		if c.Stored {
			c.Trusted = fpr
		}
	case "untrustThisKey":
		fpr := c.Partner.SenderFpr
		if fpr == "" {
			return errors.New("untrustThisKey: no partner key")
		}
		if err := c.Keys.UntrustKey(fpr); err != nil {
			return err
		}
		b.Key = ""
		if c.Trusted == fpr {
			c.Trusted = ""
		}
	case "prepareOwnKeys":
		keys, ids, err := c.Keys.OwnKeys()
		if err != nil {
			return err
		}
		c.Own.Keys, b.OwnIdentities = keys, ids
	case "backupOwnKeys":
		c.Own.Backup = slices.Clone(c.Own.Keys)
		c.Own.BackupIdentities = slices.Clone(b.OwnIdentities)
	case "prepareOwnKeysFromBackup":
		c.Own.Keys = slices.Clone(c.Own.Backup)
		b.OwnIdentities = slices.Clone(c.Own.BackupIdentities)
	case "saveGroupKeys":
		return c.Keys.SaveGroupKeys(b.OwnIdentities)
	case "ownKeysAreDefaultKeys":
		return c.Keys.OwnKeysAreDefaultKeys()
	case "receivedKeysAreDefaultKeys":
		return c.Keys.ReceivedKeysAreDefaultKeys(b.OwnIdentities)
	case "disable":
		return c.Keys.Disable()
	case "resetOwnGroupedKeys":
		return c.Keys.ResetOwnGroupedKeys()
	case "resetOwnKeysUngrouped":
		return c.Keys.ResetOwnKeysUngrouped()
	default:
		return fmt.Errorf("unknown action %q", name)
	}
	return nil
}

func (c *Core) newTID() (wire.TID, error) {
	if c.NewTID == nil {
		return wire.TID{}, errors.New("no source of TIDs")
	}
	return c.NewTID()
}

func (c *Core) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// Notify implements Device.
func (c *Core) Notify(s Signal) {
	if c.Notifier != nil {
		c.Notifier(s)
	}
}

// Abandon implements Device: it revokes the trust granted in the current
// negotiation (D5).
func (c *Core) Abandon() error {
	fpr := c.Trusted
	c.Trusted = ""
	if fpr == "" {
		return nil
	}
	return c.Keys.UntrustKey(fpr)
}

// Send implements Device: it builds the message from the I/O buffer, checks
// what its security context needs and transmits it, or defers it while its
// rate limit holds (D9).
func (c *Core) Send(decl *Message) error {
	if decl == nil {
		return errors.New("send: undeclared message")
	}
	v := wire.KeySyncVersion
	if c.FSM != nil {
		v = c.FSM.Version
	}
	msg, err := c.KeySync.Build(decl.Kind, v)
	if err != nil {
		return err
	}
	o := Outgoing{Msg: msg, Decl: decl, To: c.Partner.Identity, Partner: c.Partner.SenderFpr}
	if o.To == "" {
		o.To = c.Transport.From
	}
	if o.Partner == "" {
		o.Partner = c.Transport.SenderFpr
	}
	switch decl.Security {
	case Untrusted:
		if o.Partner == "" {
			return fmt.Errorf("%w: %s needs a partner key", ErrCannotSend, decl.Name)
		}
	case AttachOwnKeysForNewMember:
		ok, err := c.Keys.OwnKeyIsListed(o.Partner)
		if err != nil {
			return err
		}
		if o.Partner == "" || !ok {
			return fmt.Errorf("%w: %s: partner key %q is not trusted as own key", ErrCannotSend, decl.Name, o.Partner)
		}
		o.Attached = slices.Clone(c.Own.Keys)
	case AttachOwnKeysForGroup:
		o.Attached = slices.Clone(c.Own.Keys)
	case IgnoreSecurity:
		return fmt.Errorf("%w: %s is never sent", ErrCannotSend, decl.Name)
	}
	if decl.RateLimit > 0 {
		if c.lastSent == nil {
			c.lastSent = map[wire.Kind]time.Time{}
		}
		last, ok := c.lastSent[decl.Kind]
		if ok && c.now().Before(last.Add(time.Duration(decl.RateLimit)*time.Second)) {
			for _, d := range c.deferred {
				if d.To == o.To && reflect.DeepEqual(d.Msg, o.Msg) {
					return nil // D9: not queued twice
				}
			}
			c.deferred = append(c.deferred, o)
			return nil
		}
		c.lastSent[decl.Kind] = c.now()
	}
	return c.transmit(o)
}

// transmit resolves the signer and recipients of o with the own key of the
// moment and hands it to the channel.
func (c *Core) transmit(o Outgoing) error {
	own, err := c.Keys.OwnKey()
	if err != nil {
		return err
	}
	o.Signer, o.EncryptTo = own, Recipients(o.Decl.Security, own, o.Partner)
	return c.Out.Transmit(o)
}

// NextRelease returns when the first message deferred by a rate limit may
// be sent (D9).
func (c *Core) NextRelease() (time.Time, bool) {
	var first time.Time
	found := false
	for _, o := range c.deferred {
		t := c.lastSent[o.Decl.Kind].Add(time.Duration(o.Decl.RateLimit) * time.Second)
		if !found || t.Before(first) {
			first, found = t, true
		}
	}
	return first, found
}

// Flush transmits the deferred messages whose rate limit has passed, in the
// order they were deferred, at most one per kind per window.
func (c *Core) Flush() error {
	var keep []Outgoing
	var errs []error
	for _, o := range c.deferred {
		limit := time.Duration(o.Decl.RateLimit) * time.Second
		if c.now().Before(c.lastSent[o.Decl.Kind].Add(limit)) {
			keep = append(keep, o)
			continue
		}
		c.lastSent[o.Decl.Kind] = c.now()
		if err := c.transmit(o); err != nil {
			errs = append(errs, err)
		}
	}
	c.deferred = keep
	return errors.Join(errs...)
}

// LastSent returns when a message of kind k was last sent, for the rate
// limits of D9.
func (c *Core) LastSent(k wire.Kind) (time.Time, bool) {
	t, ok := c.lastSent[k]
	return t, ok
}

// Deferred returns the number of messages held back by rate limits.
func (c *Core) Deferred() int { return len(c.deferred) }
