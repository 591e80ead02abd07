package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/keysync/keysync/wire"
)

// The vocabulary of the model: every condition (doc/protocol.md §6) and action
// (§7) a handler may name, with what it does on a Core. Parse accepts
// exactly these names.

// conditions decide the conditions of doc/protocol.md §6.
var conditions = map[string]func(c *Core) (bool, error){
	"deviceGrouped": func(c *Core) (bool, error) { return c.cfg.Keys.DeviceGrouped() },
	// weAreOfferer orders the challenges unsigned byte-wise.
	"weAreOfferer": func(c *Core) (bool, error) {
		return bytes.Compare(c.KeySync.Challenge[:], c.Own.Challenge[:]) > 0, nil
	},
	"sameChallenge":   func(c *Core) (bool, error) { return c.KeySync.Challenge == c.Own.Challenge, nil },
	"sameResponse":    func(c *Core) (bool, error) { return c.KeySync.Response == c.Own.Response, nil },
	"sameNegotiation": func(c *Core) (bool, error) { return c.KeySync.Negotiation == c.Partner.Negotiation, nil },
	"sameNegotiationAndPartner": func(c *Core) (bool, error) {
		return c.KeySync.Negotiation == c.Partner.Negotiation &&
			c.Partner.SenderFpr != "" && c.Transport.SenderFpr != "" &&
			c.Partner.SenderFpr == c.Transport.SenderFpr, nil
	},
	"fromGroupMember": func(c *Core) (bool, error) {
		if c.Transport.SenderFpr == "" {
			return false, nil
		}
		return c.cfg.Keys.IsOwnKey(c.Transport.SenderFpr)
	},
}

// actions run the actions of doc/protocol.md §7.
var actions = map[string]func(c *Core) error{
	"newChallengeAndNegotiationBase": func(c *Core) error {
		var err error
		for _, t := range []*wire.TID{&c.Own.Challenge, &c.Own.Response, &c.Own.Negotiation} {
			if *t, err = c.newTID(); err != nil {
				return err
			}
		}
		b := &c.KeySync
		b.Challenge, b.Response = c.Own.Challenge, c.Own.Response
		b.Negotiation, c.Partner.Negotiation = wire.TID{}, wire.TID{}
		c.Stored, c.Trusted = false, ""
		return nil
	},
	"useOwnChallenge": func(c *Core) error { c.KeySync.Challenge = c.Own.Challenge; return nil },
	"useOwnResponse":  func(c *Core) error { c.KeySync.Response = c.Own.Response; return nil },
	"openNegotiation": func(c *Core) error {
		b := &c.KeySync
		c.Partner.SenderFpr, c.Partner.Identity = "", ""
		for i := range b.Negotiation {
			b.Negotiation[i] = c.Own.Negotiation[i] ^ b.Challenge[i]
		}
		c.Partner.Negotiation = b.Negotiation
		c.Stored, c.Trusted = false, ""
		return nil
	},
	"storeNegotiation": func(c *Core) error {
		c.Partner.SenderFpr = c.Transport.SenderFpr
		c.Partner.Identity = c.Transport.From
		c.Partner.Negotiation = c.KeySync.Negotiation
		c.Stored, c.Trusted = true, ""
		return nil
	},
	"tellWeAreGrouped":    func(c *Core) error { c.KeySync.IsGroup = true; return nil },
	"tellWeAreNotGrouped": func(c *Core) error { c.KeySync.IsGroup = false; return nil },
	"useThisKey":          func(c *Core) error { c.KeySync.Key = c.Partner.SenderFpr; return nil },
	"storeThisKey":        func(c *Core) error { c.Partner.SenderFpr = c.KeySync.Key; return nil },
	"trustThisKey": func(c *Core) error {
		fpr := c.Partner.SenderFpr
		if fpr == "" {
			return errors.New("trustThisKey: no partner key")
		}
		if err := c.cfg.Keys.TrustOwnKey(c.Transport.From, fpr); err != nil {
			return err
		}
		c.KeySync.Key = fpr
		if c.Stored {
			c.Trusted = fpr
		}
		return nil
	},
	"untrustThisKey": func(c *Core) error {
		fpr := c.Partner.SenderFpr
		if fpr == "" {
			return errors.New("untrustThisKey: no partner key")
		}
		if err := c.cfg.Keys.UntrustKey(fpr); err != nil {
			return err
		}
		c.KeySync.Key = ""
		if c.Trusted == fpr {
			c.Trusted = ""
		}
		return nil
	},
	"prepareOwnKeys": func(c *Core) error {
		keys, ids, err := c.cfg.Keys.OwnKeys()
		if err != nil {
			return err
		}
		c.Own.Keys, c.KeySync.OwnIdentities = keys, ids
		return nil
	},
	"backupOwnKeys": func(c *Core) error {
		c.Own.Backup = slices.Clone(c.Own.Keys)
		c.Own.BackupIdentities = slices.Clone(c.KeySync.OwnIdentities)
		return nil
	},
	"prepareOwnKeysFromBackup": func(c *Core) error {
		c.Own.Keys = slices.Clone(c.Own.Backup)
		c.KeySync.OwnIdentities = slices.Clone(c.Own.BackupIdentities)
		return nil
	},
	"saveGroupKeys":              func(c *Core) error { return c.cfg.Keys.SaveGroupKeys(c.KeySync.OwnIdentities) },
	"ownKeysAreDefaultKeys":      func(c *Core) error { return c.cfg.Keys.OwnKeysAreDefaultKeys() },
	"receivedKeysAreDefaultKeys": func(c *Core) error { return c.cfg.Keys.ReceivedKeysAreDefaultKeys(c.KeySync.OwnIdentities) },
	"disable":                    func(c *Core) error { return c.cfg.Keys.Disable() },
	"resetOwnGroupedKeys":        func(c *Core) error { return c.cfg.Keys.ResetOwnGroupedKeys() },
	"resetOwnKeysUngrouped":      func(c *Core) error { return c.cfg.Keys.ResetOwnKeysUngrouped() },

	"showSoleHandshake":      show(SignalInitFormGroup),
	"showJoinGroupHandshake": show(SignalInitAddOurDevice),
	"showGroupedHandshake":   show(SignalInitAddOtherDevice),
	"showDeviceAdded":        show(SignalAcceptedDeviceAdded),
	"showGroupCreated":       show(SignalAcceptedGroupCreated),
	"showDeviceAccepted":     show(SignalAcceptedDeviceAccepted),
	"showBeingSole":          show(SignalSole),
	"showBeingInGroup":       show(SignalInGroup),
}

// show returns the action that notifies s.
func show(s Signal) func(c *Core) error {
	return func(c *Core) error { c.Notify(s); return nil }
}

// Condition implements Device for the conditions of doc/protocol.md §6.
func (c *Core) Condition(name string) (bool, error) {
	f, ok := conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	return f(c)
}

// Action implements Device for the actions of doc/protocol.md §7.
func (c *Core) Action(name string) error {
	f, ok := actions[name]
	if !ok {
		return fmt.Errorf("unknown action %q", name)
	}
	return f(c)
}
