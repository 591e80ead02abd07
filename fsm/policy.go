package fsm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keysync/keysync/wire"
)

// This file is the security policy of doc/protocol.md §10.3 with D6 and D8:
// whether a message may be sent and whom it is encrypted to, and whether a
// received one is accepted. Core applies it on both sides; a channel and a
// receive pipeline only carry out what it decides.

// Recipients returns the keys a message in security context sec is
// encrypted to, given the device's own key and the partner key: none (sent
// in clear) for unencrypted, the own key for trusted and
// attach_own_keys_for_group, the own and the partner key for untrusted and
// attach_own_keys_for_new_member. A message of context ignore is never
// sent; it has no recipients.
func Recipients(sec Security, own, partner string) []string {
	switch sec {
	case Unencrypted, IgnoreSecurity:
		return nil
	case Untrusted, AttachOwnKeysForNewMember:
		return []string{own, partner}
	}
	return []string{own}
}

// sendable reports whether a message in decl's security context may be
// sent with partner as the partner key, or why not (wrapping
// ErrCannotSend): untrusted needs a partner key,
// attach_own_keys_for_new_member a partner key listed as own key (the own
// keys go only to a device the user accepted), and ignore is never sent.
func sendable(decl *Message, partner string, keys KeyStore) error {
	switch decl.Security {
	case Untrusted:
		if partner == "" {
			return fmt.Errorf("%w: %s needs a partner key", ErrCannotSend, decl.Name)
		}
	case AttachOwnKeysForNewMember:
		ok, err := keys.OwnKeyIsListed(partner)
		if err != nil {
			return err
		}
		if partner == "" || !ok {
			return fmt.Errorf("%w: %s: partner key %q is not trusted as own key", ErrCannotSend, decl.Name, partner)
		}
	case IgnoreSecurity:
		return fmt.Errorf("%w: %s is never sent", ErrCannotSend, decl.Name)
	}
	return nil
}

// Received is a message as a device received it, decrypted.
type Received struct {
	Decl   *Message     // the fsm's declaration of the message; nil if it has none
	Msg    wire.Message // the message
	Signer string       // fpr of the key that signed it; "" if unsigned
	// Encrypted is true when the message arrived encrypted: only a message
	// of the unencrypted context may arrive in clear.
	Encrypted bool
	// ForNegotiation is true when the handler that would run for the
	// message tests the negotiation (Handler.TestsNegotiation).
	ForNegotiation bool
}

// Negotiation is what the receive policy knows of the negotiation a device
// is in (comm_partner of doc/protocol.md §5).
type Negotiation struct {
	Stored  bool     // storeNegotiation ran in this negotiation
	Partner string   // the partner key, comm_partner.sender_fpr
	TID     wire.TID // the negotiation's TID
}

// ErrNotAccepted wraps every reason Accept gives for dropping a message.
var ErrNotAccepted = errors.New("not accepted")

// Accept decides whether a device accepts a received message, and returns
// nil or why it drops it (wrapping ErrNotAccepted):
//
//   - A message without a declaration, or of security context ignore, is
//     never accepted.
//   - A message of context trusted or attach_own_keys_* must be signed by
//     an own key listed in the trust table (KeyStore.OwnKeyIsListed).
//   - A message whose major version is not 1 is dropped (D8,
//     wire.Version.Check).
//   - After storeNegotiation, a trusted or untrusted message of the current
//     negotiation — it carries the negotiation's TID, or its handler tests
//     the negotiation — must be signed by the partner key or an own listed
//     key (D6).
func Accept(r Received, n Negotiation, keys KeyStore) error {
	d := r.Decl
	if d == nil || r.Msg == nil {
		return fmt.Errorf("%w: undeclared message", ErrNotAccepted)
	}
	switch d.Security {
	case IgnoreSecurity:
		return fmt.Errorf("%w: %s is never received", ErrNotAccepted, d.Name)
	case Trusted, AttachOwnKeysForNewMember, AttachOwnKeysForGroup:
		if !listed(keys, r.Signer) {
			return fmt.Errorf("%w: %s signed by %q, not an own key", ErrNotAccepted, d.Name, r.Signer)
		}
	}
	if d.Security != Unencrypted && !r.Encrypted {
		return fmt.Errorf("%w: %s arrived in clear; its security context %s needs encryption", ErrNotAccepted, d.Name, d.Security)
	}
	if v, ok := messageVersion(r.Msg); ok {
		if err := v.Check(); err != nil {
			return fmt.Errorf("%w: %s: %w (D8)", ErrNotAccepted, d.Name, err)
		}
	}
	if !n.Stored || (d.Security != Untrusted && d.Security != Trusted) {
		return nil
	}
	tid, carries := messageNegotiation(r.Msg)
	if !(carries && tid == n.TID) && !r.ForNegotiation {
		return nil
	}
	if r.Signer != "" && strings.EqualFold(r.Signer, n.Partner) || listed(keys, r.Signer) {
		return nil
	}
	return fmt.Errorf("%w: %s: signer %q is not the partner %q (D6)", ErrNotAccepted, d.Name, r.Signer, n.Partner)
}

// ImportsKeys reports whether a message of context s may carry keys for
// the receiver to import: only the attach_own_keys contexts do (doc/protocol.md
// §10.2). Keys attached to any other message, even an accepted one, are
// never imported.
func ImportsKeys(s Security) bool {
	return s == AttachOwnKeysForNewMember || s == AttachOwnKeysForGroup
}

// listed reports whether fpr is an own key listed in the trust table.
func listed(keys KeyStore, fpr string) bool {
	if fpr == "" {
		return false
	}
	ok, err := keys.OwnKeyIsListed(fpr)
	return err == nil && ok
}

// AcceptKeyReset decides whether a device accepts a reset of its group key
// (a KeyReset Commands message of the Distribution PDU, doc/protocol.md §13.1):
// it must be signed by an own key whose secret the device holds
// (KeyStore.IsOwnKey). It returns nil or why not, wrapping ErrNotAccepted.
func AcceptKeyReset(signer string, keys KeyStore) error {
	if signer != "" {
		if ok, err := keys.IsOwnKey(signer); err == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("%w: key reset signed by %q, not an own key", ErrNotAccepted, signer)
}
