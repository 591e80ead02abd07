package fsm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keysync/keysync/wire"
)

// Own holds the own variables of doc/protocol.md §5.
type Own struct {
	Keys             []string        // prepared for shipping (prepareOwnKeys)
	Backup           []string        // backupOwnKeys
	BackupIdentities []wire.Identity // backupOwnKeys also saves the identities (D3)
	Identities       []wire.Identity // identities_sharing of the last API event
	Challenge        wire.TID
	Response         wire.TID
	Negotiation      wire.TID // the negotiation base
}

// Partner holds the comm_partner variables of doc/protocol.md §5.
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

// Config is what a Core is built from: the fsm it runs and the device's
// collaborators.
type Config struct {
	FSM    *FSM                     // the fsm the device runs, KeySync; required
	Keys   KeyStore                 // required
	Out    Channel                  // required
	NewTID func() (wire.TID, error) // random TIDs; required by the actions that make them
	Clock  Clock                    // nil: the system clock
	Notify func(Signal)             // receives the signals of notifyHandshake; nil: none
	Log    func(string)             // receives a line for every dropped event; nil: none
}

var _ Device = (*Core)(nil)

// Core is the reusable part of a KeySync device: the variables, the
// conditions and actions of the vocabulary, the security policy on both
// sides (Recipients, Accept) and the rate limits of D9. It implements
// Device.
type Core struct {
	Vars
	cfg Config

	lastSent map[wire.Kind]time.Time
	deferred []Outgoing
}

// NewCore returns a device core with zero variables. It panics if cfg lacks
// a required collaborator, a programming error.
func NewCore(cfg Config) *Core {
	if cfg.FSM == nil || cfg.Keys == nil || cfg.Out == nil {
		panic("fsm.NewCore: Config needs FSM, Keys and Out")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	return &Core{cfg: cfg}
}

// Clone returns a copy of c's variables and rate-limit state wired to the
// collaborators of cfg, for a model checker that copies devices.
func (c *Core) Clone(cfg Config) *Core {
	d := NewCore(cfg)
	d.Vars = c.Vars.Clone()
	d.lastSent = maps.Clone(c.lastSent)
	d.deferred = slices.Clone(c.deferred)
	return d
}

func (c *Core) logf(format string, a ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log(fmt.Sprintf(format, a...))
	}
}

// Load implements Device. It drops a message that the receive policy does
// not accept (Accept: security context, D6, D8); it imports the keys
// attached to an accepted one whose context carries keys (ImportsKeys) and
// ignores, with a log line, keys attached to any other.
func (c *Core) Load(ev Event, inNegotiation bool) bool {
	if ev.Msg != nil {
		r := Received{Decl: c.cfg.FSM.MessageOf(ev.Msg.Kind()), Msg: ev.Msg, Signer: ev.SenderFpr,
			Encrypted: ev.Encrypted, ForNegotiation: inNegotiation}
		n := Negotiation{Stored: c.Stored, Partner: c.Partner.SenderFpr, TID: c.Partner.Negotiation}
		if err := Accept(r, n, c.cfg.Keys); err != nil {
			c.logf("dropped %s: %v", ev.Name, err)
			return false
		}
		if len(ev.Attached) > 0 && !ImportsKeys(r.Decl.Security) {
			c.logf("ignored %d keys attached to %s: its security context %s carries none", len(ev.Attached), ev.Name, r.Decl.Security)
		} else if len(ev.Attached) > 0 {
			if err := c.cfg.Keys.ImportKeys(ev.Attached); err != nil {
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

func (c *Core) newTID() (wire.TID, error) {
	if c.cfg.NewTID == nil {
		return wire.TID{}, errors.New("no source of TIDs")
	}
	return c.cfg.NewTID()
}

// Notify implements Device.
func (c *Core) Notify(s Signal) {
	if c.cfg.Notify != nil {
		c.cfg.Notify(s)
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
	return c.cfg.Keys.UntrustKey(fpr)
}
