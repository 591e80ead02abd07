package wire

import "strconv"

// Kind identifies a KeySync message. Its value is the message ID of
// protocol.md §2, which is also the FSM event ID and the [APPLICATION n] tag
// of the alternative in KEYSYNC; the UPER choice index is Kind − 2.
type Kind uint8

// KeySync message kinds.
const (
	KindBeacon                    Kind = 2
	KindNegotiationRequest        Kind = 3
	KindNegotiationOpen           Kind = 4
	KindRollback                  Kind = 5
	KindCommitReject              Kind = 6
	KindCommitAcceptOfferer       Kind = 7
	KindCommitAcceptRequester     Kind = 8
	KindCommitAccept              Kind = 9
	KindCommitAcceptForGroup      Kind = 10
	KindGroupTrustThisKey         Kind = 11
	KindGroupKeysForNewMember     Kind = 12
	KindGroupKeysAndClose         Kind = 13
	KindOwnKeysOfferer            Kind = 14
	KindOwnKeysRequester          Kind = 15
	KindNegotiationRequestGrouped Kind = 16
	KindGroupHandshake            Kind = 17
	KindGroupKeysUpdate           Kind = 18
	KindInitUnledGroupKeyReset    Kind = 19
	KindElectGroupKeyResetLeader  Kind = 20
	KindSynchronizeGroupKeys      Kind = 21
	KindReceiverRating            Kind = 22
)

var kindNames = [...]string{
	KindBeacon:                    "Beacon",
	KindNegotiationRequest:        "NegotiationRequest",
	KindNegotiationOpen:           "NegotiationOpen",
	KindRollback:                  "Rollback",
	KindCommitReject:              "CommitReject",
	KindCommitAcceptOfferer:       "CommitAcceptOfferer",
	KindCommitAcceptRequester:     "CommitAcceptRequester",
	KindCommitAccept:              "CommitAccept",
	KindCommitAcceptForGroup:      "CommitAcceptForGroup",
	KindGroupTrustThisKey:         "GroupTrustThisKey",
	KindGroupKeysForNewMember:     "GroupKeysForNewMember",
	KindGroupKeysAndClose:         "GroupKeysAndClose",
	KindOwnKeysOfferer:            "OwnKeysOfferer",
	KindOwnKeysRequester:          "OwnKeysRequester",
	KindNegotiationRequestGrouped: "NegotiationRequestGrouped",
	KindGroupHandshake:            "GroupHandshake",
	KindGroupKeysUpdate:           "GroupKeysUpdate",
	KindInitUnledGroupKeyReset:    "InitUnledGroupKeyReset",
	KindElectGroupKeyResetLeader:  "ElectGroupKeyResetLeader",
	KindSynchronizeGroupKeys:      "SynchronizeGroupKeys",
	KindReceiverRating:            "ReceiverRating",
}

// String returns the message name as in the ASN.1 module, such as "Beacon".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// KindByName returns the kind named name, as String spells it.
func KindByName(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n != "" && n == name {
			return Kind(k), true
		}
	}
	return 0, false
}
