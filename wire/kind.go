package wire

import (
	"strconv"
	"strings"
)

// Kind identifies a KeySync message. Its value is the message ID of
// doc/protocol.md §2, which is also the FSM event ID and the [APPLICATION n] tag
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

// kindNames holds the message names by kind: the schema's element names
// with a capital.
var kindNames = func() map[Kind]string {
	t := map[Kind]string{}
	for _, a := range syncAlts {
		if a.outer == 0 {
			t[Kind(a.index+2)] = strings.ToUpper(a.name[:1]) + a.name[1:]
		}
	}
	return t
}()

// String returns the message name as in the ASN.1 module, such as "Beacon".
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// KindByName returns the kind named name, as String spells it.
func KindByName(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return k, true
		}
	}
	return 0, false
}
