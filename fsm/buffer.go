package fsm

import (
	"fmt"
	"slices"

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
