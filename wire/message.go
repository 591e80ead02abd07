package wire

// TID is a transaction ID: 16 octets, a UUIDv4 on the wire by convention
// (the codec does not check the version bits).
type TID [16]byte

// Version is a protocol version. On the wire a member equal to its DEFAULT
// (major 1, minor 2) is omitted; the Go value always holds both numbers.
type Version struct {
	Major, Minor uint8
}

// Identity is the wire form of a p≡p identity. Fpr is upper-case hex,
// 16 to 128 characters. Flags exists only in the current wire variant.
type Identity struct {
	Address  string
	Fpr      string
	UserID   string
	Username string
	CommType uint8
	Lang     string // two lower-case letters
	Flags    uint16
}

// Rating is the ENUMERATED Rating of the PEP module.
type Rating int8

// Rating values, as in the PEP module.
const (
	RatingUnderAttack          Rating = -3
	RatingB0rken               Rating = -2
	RatingMistrust             Rating = -1
	RatingCannotDecrypt        Rating = 1
	RatingHaveNoKey            Rating = 2
	RatingUnencrypted          Rating = 3
	RatingUnreliable           Rating = 5
	RatingReliable             Rating = 6
	RatingTrusted              Rating = 7
	RatingTrustedAndAnonymized Rating = 8
	RatingFullyAnonymous       Rating = 9
)

// Message is one alternative of the KeySync CHOICE, a SyncMessage ready for
// MarshalSync.
type Message interface {
	SyncMessage
	Kind() Kind
}

// Beacon announces a device's challenge on the broadcast channel.
type Beacon struct {
	Challenge TID
	Version   Version
}

// NegotiationRequest opens a negotiation from a sole Requester.
type NegotiationRequest struct {
	Challenge   TID
	Response    TID
	Version     Version
	Negotiation TID
	IsGroup     bool
}

// NegotiationOpen answers a NegotiationRequest or NegotiationRequestGrouped.
type NegotiationOpen struct {
	Response    TID
	Version     Version
	Negotiation TID
}

// Rollback cancels a negotiation.
type Rollback struct{ Negotiation TID }

// CommitReject rejects a negotiation for good.
type CommitReject struct{ Negotiation TID }

// CommitAcceptOfferer is the Offerer's commit.
type CommitAcceptOfferer struct{ Negotiation TID }

// CommitAcceptRequester is the Requester's commit.
type CommitAcceptRequester struct{ Negotiation TID }

// CommitAccept is a joining device's commit.
type CommitAccept struct{ Negotiation TID }

// CommitAcceptForGroup is a group member's commit towards a joining device.
type CommitAcceptForGroup struct{ Negotiation TID }

// GroupTrustThisKey tells the group to trust a new member's key.
type GroupTrustThisKey struct {
	Key         string
	Negotiation TID
}

// GroupKeysForNewMember carries the group's identities to a joining device.
type GroupKeysForNewMember struct{ OwnIdentities []Identity }

// GroupKeysAndClose carries a new member's identities to the group.
type GroupKeysAndClose struct{ OwnIdentities []Identity }

// OwnKeysOfferer carries the Offerer's identities when forming a group.
type OwnKeysOfferer struct{ OwnIdentities []Identity }

// OwnKeysRequester carries the Requester's identities when forming a group.
type OwnKeysRequester struct{ OwnIdentities []Identity }

// NegotiationRequestGrouped opens a negotiation from a grouped device.
type NegotiationRequestGrouped struct {
	Challenge   TID
	Response    TID
	Version     Version
	Negotiation TID
	IsGroup     bool
}

// GroupHandshake tells the group which key a joining device announced.
type GroupHandshake struct {
	Negotiation TID
	Key         string
}

// GroupKeysUpdate distributes the group's identities and keys.
type GroupKeysUpdate struct{ OwnIdentities []Identity }

// InitUnledGroupKeyReset starts an unled group key reset.
type InitUnledGroupKeyReset struct{}

// ElectGroupKeyResetLeader is a candidate's bid to lead a group key reset.
type ElectGroupKeyResetLeader struct{ Response TID }

// SynchronizeGroupKeys asks every member for a GroupKeysUpdate.
type SynchronizeGroupKeys struct{}

// ReceiverRating records a stored message's rating; never an FSM event.
type ReceiverRating struct{ Rating Rating }

// Kind methods.
func (*Beacon) Kind() Kind                    { return KindBeacon }
func (*NegotiationRequest) Kind() Kind        { return KindNegotiationRequest }
func (*NegotiationOpen) Kind() Kind           { return KindNegotiationOpen }
func (*Rollback) Kind() Kind                  { return KindRollback }
func (*CommitReject) Kind() Kind              { return KindCommitReject }
func (*CommitAcceptOfferer) Kind() Kind       { return KindCommitAcceptOfferer }
func (*CommitAcceptRequester) Kind() Kind     { return KindCommitAcceptRequester }
func (*CommitAccept) Kind() Kind              { return KindCommitAccept }
func (*CommitAcceptForGroup) Kind() Kind      { return KindCommitAcceptForGroup }
func (*GroupTrustThisKey) Kind() Kind         { return KindGroupTrustThisKey }
func (*GroupKeysForNewMember) Kind() Kind     { return KindGroupKeysForNewMember }
func (*GroupKeysAndClose) Kind() Kind         { return KindGroupKeysAndClose }
func (*OwnKeysOfferer) Kind() Kind            { return KindOwnKeysOfferer }
func (*OwnKeysRequester) Kind() Kind          { return KindOwnKeysRequester }
func (*NegotiationRequestGrouped) Kind() Kind { return KindNegotiationRequestGrouped }
func (*GroupHandshake) Kind() Kind            { return KindGroupHandshake }
func (*GroupKeysUpdate) Kind() Kind           { return KindGroupKeysUpdate }
func (*InitUnledGroupKeyReset) Kind() Kind    { return KindInitUnledGroupKeyReset }
func (*ElectGroupKeyResetLeader) Kind() Kind  { return KindElectGroupKeyResetLeader }
func (*SynchronizeGroupKeys) Kind() Kind      { return KindSynchronizeGroupKeys }
func (*ReceiverRating) Kind() Kind            { return KindReceiverRating }
