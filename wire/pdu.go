package wire

// TrustUpdate is TrustSync's update message (defined by the reference but
// never sent by it).
type TrustUpdate struct{ Trust []Identity }

// TrustRequest is TrustSync's request message (never sent by the reference).
type TrustRequest struct{ Trust []Identity }

// GroupSyncUpdate is GroupSync's update message; it wraps a ManagedGroup
// message (never sent by the reference).
type GroupSyncUpdate struct{ Msg ManagedGroup }

// GroupSyncRequest is GroupSync's request message (never sent by the
// reference).
type GroupSyncRequest struct{ GroupIdentity Identity }

// Commands is the only KeyReset message: a list of key reset commands.
// KeyReset sends version 1.0.
type Commands struct {
	Version     Version
	CommandList []Command
}

// Command replaces the key of one identity: Ident carries the old fpr,
// NewKey the new one (upper-case hex).
type Command struct {
	Ident  Identity
	NewKey string
}

// GroupInvite invites an identity into a managed group.
type GroupInvite struct{ GroupIdentity, Manager Identity }

// GroupAdopted tells the manager a member joined a managed group.
type GroupAdopted struct{ GroupIdentity, Member Identity }

// GroupDissolve dissolves a managed group.
type GroupDissolve struct{ GroupIdentity, Manager Identity }

// ExploreRequest starts an exploration (not implemented by the reference).
type ExploreRequest struct {
	Challenge TID
	Forward   Identity
}

// ExploreAnswer answers an ExploreRequest.
type ExploreAnswer struct {
	Challenge     TID
	Forward, Back Identity
}

// ExploreChallenge challenges an ExploreAnswer.
type ExploreChallenge struct {
	Challenge     TID
	Forward, Back Identity
}

// ExploreResponse responds to an ExploreChallenge.
type ExploreResponse struct {
	Challenge     TID
	Forward, Back Identity
}

// SyncMessage is a value of the Sync PDU (payload of application/pEp.sync):
// one of the 21 KeySync messages (which also implement Message),
// *TrustUpdate, *TrustRequest, *GroupSyncUpdate or *GroupSyncRequest.
type SyncMessage interface {
	walker
	syncAlt() int
}

// DistributionMessage is a value of the Distribution PDU (payload of
// application/pEp.distribution): *Commands (KeyReset), a ManagedGroup
// message, or *ExploreRequest, *ExploreAnswer, *ExploreChallenge,
// *ExploreResponse.
type DistributionMessage interface {
	walker
	distAlt() int
}

// ManagedGroup is one of *GroupInvite, *GroupAdopted, *GroupDissolve.
type ManagedGroup interface {
	DistributionMessage
	managedGroup()
}

func (*GroupInvite) managedGroup()   {}
func (*GroupAdopted) managedGroup()  {}
func (*GroupDissolve) managedGroup() {}
