package wire

// The schema: which CHOICE alternative each message is, and the fields of
// every SEQUENCE in order. Every codec (UPER, XER, both directions) is a
// visitor driven by these walk methods.

// walker is a SEQUENCE: walk visits its fields in order.
type walker interface{ walk(v visitor) }

// visitor is one codec. Methods handle one field each; name is the ASN.1
// identifier of the field (the XER element name).
type visitor interface {
	tid(name string, p *TID)
	version(name string, p *Version)
	hash(name string, p *string)
	boolean(name string, p *bool)
	rating(name string, p *Rating)
	pstring(name string, p *string)
	uint8(name string, p *uint8)
	flags(name string, p *uint16) // Identity.flags: absent in the legacy variant
	lang(name string, p *string)
	seq(name string, w walker)
	list(name string, l list)
	managedGroup(name string, p *ManagedGroup)
}

// list is a SEQUENCE OF a SEQUENCE type.
type list interface {
	len() int
	elem(i int) walker
	grow(n int)  // sets the length to n (n == 0: nil)
	add() walker // appends a zero element and returns it
	elemName() string
	minBits() int // lower bound of one element's UPER size
	ptr() any     // the slice, such as *[]Identity
}

type identityList struct{ p *[]Identity }

func (l identityList) len() int          { return len(*l.p) }
func (l identityList) elem(i int) walker { return &(*l.p)[i] }
func (l identityList) grow(n int) {
	if n == 0 {
		*l.p = nil
	} else {
		*l.p = make([]Identity, n)
	}
}
func (l identityList) add() walker    { *l.p = append(*l.p, Identity{}); return &(*l.p)[len(*l.p)-1] }
func (identityList) elemName() string { return "Identity" }
func (identityList) minBits() int     { return identityMinBits }
func (l identityList) ptr() any       { return l.p }

type commandList struct{ p *[]Command }

func (l commandList) len() int          { return len(*l.p) }
func (l commandList) elem(i int) walker { return &(*l.p)[i] }
func (l commandList) grow(n int) {
	if n == 0 {
		*l.p = nil
	} else {
		*l.p = make([]Command, n)
	}
}
func (l commandList) add() walker    { *l.p = append(*l.p, Command{}); return &(*l.p)[len(*l.p)-1] }
func (commandList) elemName() string { return "Command" }
func (commandList) minBits() int     { return 1 + identityMinBits + 7 + 4*minHash }
func (l commandList) ptr() any       { return l.p }

// identityMinBits is the smallest legacy Identity: extension bit, three
// empty PStrings, a 16-character fpr, comm-type and lang.
const identityMinBits = 1 + 3*8 + 7 + 4*minHash + 8 + 10

// alt describes one message as an alternative of the two nested CHOICEs of
// its PDU: the top-level CHOICE (Sync or Distribution) and the family's
// CHOICE (KeySync, TrustSync, …).
type alt struct {
	outer int    // 0: the root alternative; n > 0: extension addition n−1
	index int    // index in the family's CHOICE
	bits  int    // width of that index
	name  string // XER element name of the message
	new   func() walker
}

var syncOuterNames = []string{"keysync", "trustsync", "groupsync"}
var distOuterNames = []string{"keyreset", "managedgroup", "exploration"}

func ks(k Kind, name string, f func() walker) alt {
	return alt{0, int(k) - 2, 5, name, f}
}

var syncAlts = [...]alt{
	ks(KindBeacon, "beacon", func() walker { return new(Beacon) }),
	ks(KindNegotiationRequest, "negotiationRequest", func() walker { return new(NegotiationRequest) }),
	ks(KindNegotiationOpen, "negotiationOpen", func() walker { return new(NegotiationOpen) }),
	ks(KindRollback, "rollback", func() walker { return new(Rollback) }),
	ks(KindCommitReject, "commitReject", func() walker { return new(CommitReject) }),
	ks(KindCommitAcceptOfferer, "commitAcceptOfferer", func() walker { return new(CommitAcceptOfferer) }),
	ks(KindCommitAcceptRequester, "commitAcceptRequester", func() walker { return new(CommitAcceptRequester) }),
	ks(KindCommitAccept, "commitAccept", func() walker { return new(CommitAccept) }),
	ks(KindCommitAcceptForGroup, "commitAcceptForGroup", func() walker { return new(CommitAcceptForGroup) }),
	ks(KindGroupTrustThisKey, "groupTrustThisKey", func() walker { return new(GroupTrustThisKey) }),
	ks(KindGroupKeysForNewMember, "groupKeysForNewMember", func() walker { return new(GroupKeysForNewMember) }),
	ks(KindGroupKeysAndClose, "groupKeysAndClose", func() walker { return new(GroupKeysAndClose) }),
	ks(KindOwnKeysOfferer, "ownKeysOfferer", func() walker { return new(OwnKeysOfferer) }),
	ks(KindOwnKeysRequester, "ownKeysRequester", func() walker { return new(OwnKeysRequester) }),
	ks(KindNegotiationRequestGrouped, "negotiationRequestGrouped", func() walker { return new(NegotiationRequestGrouped) }),
	ks(KindGroupHandshake, "groupHandshake", func() walker { return new(GroupHandshake) }),
	ks(KindGroupKeysUpdate, "groupKeysUpdate", func() walker { return new(GroupKeysUpdate) }),
	ks(KindInitUnledGroupKeyReset, "initUnledGroupKeyReset", func() walker { return new(InitUnledGroupKeyReset) }),
	ks(KindElectGroupKeyResetLeader, "electGroupKeyResetLeader", func() walker { return new(ElectGroupKeyResetLeader) }),
	ks(KindSynchronizeGroupKeys, "synchronizeGroupKeys", func() walker { return new(SynchronizeGroupKeys) }),
	ks(KindReceiverRating, "receiverRating", func() walker { return new(ReceiverRating) }),
	{1, 0, 1, "trustUpdate", func() walker { return new(TrustUpdate) }},
	{1, 1, 1, "trustRequest", func() walker { return new(TrustRequest) }},
	{2, 0, 1, "groupSyncUpdate", func() walker { return new(GroupSyncUpdate) }},
	{2, 1, 1, "groupSyncRequest", func() walker { return new(GroupSyncRequest) }},
}

const (
	altTrustUpdate = 21 + iota
	altTrustRequest
	altGroupSyncUpdate
	altGroupSyncRequest
)

var distAlts = [...]alt{
	{0, 0, 0, "commands", func() walker { return new(Commands) }},
	{1, 0, 2, "groupInvite", func() walker { return new(GroupInvite) }},
	{1, 1, 2, "groupAdopted", func() walker { return new(GroupAdopted) }},
	{1, 2, 2, "groupDissolve", func() walker { return new(GroupDissolve) }},
	{2, 0, 2, "exploreRequest", func() walker { return new(ExploreRequest) }},
	{2, 1, 2, "exploreAnswer", func() walker { return new(ExploreAnswer) }},
	{2, 2, 2, "exploreChallenge", func() walker { return new(ExploreChallenge) }},
	{2, 3, 2, "exploreResponse", func() walker { return new(ExploreResponse) }},
}

// findAlt returns the position in tab of alternative index of the family
// CHOICE at top-level position outer, or −1.
func findAlt(tab []alt, outer, index int) int {
	// Root alternatives come first, in index order.
	if outer == 0 && index < len(tab) && tab[index].outer == 0 && tab[index].index == index {
		return index
	}
	for i := range tab {
		if tab[i].outer == outer && tab[i].index == index {
			return i
		}
	}
	return -1
}

func (m *Beacon) syncAlt() int                    { return int(m.Kind()) - 2 }
func (m *NegotiationRequest) syncAlt() int        { return int(m.Kind()) - 2 }
func (m *NegotiationOpen) syncAlt() int           { return int(m.Kind()) - 2 }
func (m *Rollback) syncAlt() int                  { return int(m.Kind()) - 2 }
func (m *CommitReject) syncAlt() int              { return int(m.Kind()) - 2 }
func (m *CommitAcceptOfferer) syncAlt() int       { return int(m.Kind()) - 2 }
func (m *CommitAcceptRequester) syncAlt() int     { return int(m.Kind()) - 2 }
func (m *CommitAccept) syncAlt() int              { return int(m.Kind()) - 2 }
func (m *CommitAcceptForGroup) syncAlt() int      { return int(m.Kind()) - 2 }
func (m *GroupTrustThisKey) syncAlt() int         { return int(m.Kind()) - 2 }
func (m *GroupKeysForNewMember) syncAlt() int     { return int(m.Kind()) - 2 }
func (m *GroupKeysAndClose) syncAlt() int         { return int(m.Kind()) - 2 }
func (m *OwnKeysOfferer) syncAlt() int            { return int(m.Kind()) - 2 }
func (m *OwnKeysRequester) syncAlt() int          { return int(m.Kind()) - 2 }
func (m *NegotiationRequestGrouped) syncAlt() int { return int(m.Kind()) - 2 }
func (m *GroupHandshake) syncAlt() int            { return int(m.Kind()) - 2 }
func (m *GroupKeysUpdate) syncAlt() int           { return int(m.Kind()) - 2 }
func (m *InitUnledGroupKeyReset) syncAlt() int    { return int(m.Kind()) - 2 }
func (m *ElectGroupKeyResetLeader) syncAlt() int  { return int(m.Kind()) - 2 }
func (m *SynchronizeGroupKeys) syncAlt() int      { return int(m.Kind()) - 2 }
func (m *ReceiverRating) syncAlt() int            { return int(m.Kind()) - 2 }
func (*TrustUpdate) syncAlt() int                 { return altTrustUpdate }
func (*TrustRequest) syncAlt() int                { return altTrustRequest }
func (*GroupSyncUpdate) syncAlt() int             { return altGroupSyncUpdate }
func (*GroupSyncRequest) syncAlt() int            { return altGroupSyncRequest }

func (*Commands) distAlt() int         { return 0 }
func (*GroupInvite) distAlt() int      { return 1 }
func (*GroupAdopted) distAlt() int     { return 2 }
func (*GroupDissolve) distAlt() int    { return 3 }
func (*ExploreRequest) distAlt() int   { return 4 }
func (*ExploreAnswer) distAlt() int    { return 5 }
func (*ExploreChallenge) distAlt() int { return 6 }
func (*ExploreResponse) distAlt() int  { return 7 }

func (m *Identity) walk(v visitor) {
	v.pstring("address", &m.Address)
	v.hash("fpr", &m.Fpr)
	v.pstring("user-id", &m.UserID)
	v.pstring("username", &m.Username)
	v.uint8("comm-type", &m.CommType)
	v.lang("lang", &m.Lang)
	v.flags("flags", &m.Flags)
}

func (m *Beacon) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.version("version", &m.Version)
}

func (m *NegotiationRequest) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.tid("response", &m.Response)
	v.version("version", &m.Version)
	v.tid("negotiation", &m.Negotiation)
	v.boolean("is-group", &m.IsGroup)
}

func (m *NegotiationOpen) walk(v visitor) {
	v.tid("response", &m.Response)
	v.version("version", &m.Version)
	v.tid("negotiation", &m.Negotiation)
}

func (m *Rollback) walk(v visitor)              { v.tid("negotiation", &m.Negotiation) }
func (m *CommitReject) walk(v visitor)          { v.tid("negotiation", &m.Negotiation) }
func (m *CommitAcceptOfferer) walk(v visitor)   { v.tid("negotiation", &m.Negotiation) }
func (m *CommitAcceptRequester) walk(v visitor) { v.tid("negotiation", &m.Negotiation) }
func (m *CommitAccept) walk(v visitor)          { v.tid("negotiation", &m.Negotiation) }
func (m *CommitAcceptForGroup) walk(v visitor)  { v.tid("negotiation", &m.Negotiation) }

func (m *GroupTrustThisKey) walk(v visitor) {
	v.hash("key", &m.Key)
	v.tid("negotiation", &m.Negotiation)
}

func (m *GroupKeysForNewMember) walk(v visitor) {
	v.list("ownIdentities", identityList{&m.OwnIdentities})
}
func (m *GroupKeysAndClose) walk(v visitor) { v.list("ownIdentities", identityList{&m.OwnIdentities}) }
func (m *OwnKeysOfferer) walk(v visitor)    { v.list("ownIdentities", identityList{&m.OwnIdentities}) }
func (m *OwnKeysRequester) walk(v visitor)  { v.list("ownIdentities", identityList{&m.OwnIdentities}) }

func (m *NegotiationRequestGrouped) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.tid("response", &m.Response)
	v.version("version", &m.Version)
	v.tid("negotiation", &m.Negotiation)
	v.boolean("is-group", &m.IsGroup)
}

func (m *GroupHandshake) walk(v visitor) {
	v.tid("negotiation", &m.Negotiation)
	v.hash("key", &m.Key)
}

func (m *GroupKeysUpdate) walk(v visitor)          { v.list("ownIdentities", identityList{&m.OwnIdentities}) }
func (*InitUnledGroupKeyReset) walk(visitor)       {}
func (m *ElectGroupKeyResetLeader) walk(v visitor) { v.tid("response", &m.Response) }
func (*SynchronizeGroupKeys) walk(visitor)         {}
func (m *ReceiverRating) walk(v visitor)           { v.rating("rating", &m.Rating) }

func (m *TrustUpdate) walk(v visitor)      { v.list("trust", identityList{&m.Trust}) }
func (m *TrustRequest) walk(v visitor)     { v.list("trust", identityList{&m.Trust}) }
func (m *GroupSyncUpdate) walk(v visitor)  { v.managedGroup("msg", &m.Msg) }
func (m *GroupSyncRequest) walk(v visitor) { v.seq("groupIdentity", &m.GroupIdentity) }

func (m *Commands) walk(v visitor) {
	v.version("version", &m.Version)
	v.list("commandlist", commandList{&m.CommandList})
}

func (m *Command) walk(v visitor) {
	v.seq("ident", &m.Ident)
	v.hash("newkey", &m.NewKey)
}

func (m *GroupInvite) walk(v visitor) {
	v.seq("groupIdentity", &m.GroupIdentity)
	v.seq("manager", &m.Manager)
}

func (m *GroupAdopted) walk(v visitor) {
	v.seq("groupIdentity", &m.GroupIdentity)
	v.seq("member", &m.Member)
}

func (m *GroupDissolve) walk(v visitor) {
	v.seq("groupIdentity", &m.GroupIdentity)
	v.seq("manager", &m.Manager)
}

func (m *ExploreRequest) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.seq("forward", &m.Forward)
}

func (m *ExploreAnswer) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.seq("forward", &m.Forward)
	v.seq("back", &m.Back)
}

func (m *ExploreChallenge) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.seq("forward", &m.Forward)
	v.seq("back", &m.Back)
}

func (m *ExploreResponse) walk(v visitor) {
	v.tid("challenge", &m.Challenge)
	v.seq("forward", &m.Forward)
	v.seq("back", &m.Back)
}
