package fsm

import (
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/keysync/keysync/wire"
)

// Outgoing is a message a device asks its channel to send, with what the
// security context of the message needs (doc/protocol.md §10.2–10.3).
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

// soleState is the state of a device that looks for a partner, the only
// state a held-back Beacon is sent in (D9).
const soleState = "Sole"

// ErrCannotSend is returned by Send when the security context cannot be met
// (PEP_SYNC_CANNOT_ENCRYPT).
var ErrCannotSend = errors.New("cannot send")

// Send implements Device: it builds the message from the I/O buffer, checks
// what its security context needs and transmits it, or defers it while its
// rate limit holds (D9).
func (c *Core) Send(decl *Message) error {
	if decl == nil {
		return errors.New("send: undeclared message")
	}
	msg, err := c.KeySync.Build(decl.Kind, c.cfg.FSM.Version)
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
	if err := sendable(decl, o.Partner, c.cfg.Keys); err != nil {
		return err
	}
	if decl.Security == AttachOwnKeysForNewMember || decl.Security == AttachOwnKeysForGroup {
		o.Attached = slices.Clone(c.Own.Keys)
	}
	if decl.RateLimit > 0 {
		if c.lastSent == nil {
			c.lastSent = map[wire.Kind]time.Time{}
		}
		last, ok := c.lastSent[decl.Kind]
		if ok && c.cfg.Clock.Now().Before(last.Add(time.Duration(decl.RateLimit)*time.Second)) {
			for _, d := range c.deferred {
				if d.To == o.To && reflect.DeepEqual(d.Msg, o.Msg) {
					return nil // D9: not queued twice
				}
			}
			c.deferred = append(c.deferred, o)
			return nil
		}
		c.lastSent[decl.Kind] = c.cfg.Clock.Now()
	}
	return c.transmit(o)
}

// transmit resolves the signer and recipients of o with the own key of the
// moment and hands it to the channel.
func (c *Core) transmit(o Outgoing) error {
	own, err := c.cfg.Keys.OwnKey()
	if err != nil {
		return err
	}
	o.Signer, o.EncryptTo = own, Recipients(o.Decl.Security, own, o.Partner)
	return c.cfg.Out.Transmit(o)
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
// order they were deferred, at most one per kind per window. state is the
// machine's state: a Beacon held back is discarded unless the device is
// still Sole (D9), for a Beacon is how a sole device looks for a partner.
func (c *Core) Flush(state string) error {
	var keep []Outgoing
	var errs []error
	for _, o := range c.deferred {
		limit := time.Duration(o.Decl.RateLimit) * time.Second
		if c.cfg.Clock.Now().Before(c.lastSent[o.Decl.Kind].Add(limit)) {
			keep = append(keep, o)
			continue
		}
		if o.Decl.Kind == wire.KindBeacon && state != soleState {
			c.logf("dropped a held-back %s: the device is in %s now, no longer Sole (D9)", o.Decl.Name, state)
			continue
		}
		c.lastSent[o.Decl.Kind] = c.cfg.Clock.Now()
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
