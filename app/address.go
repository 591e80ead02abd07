package app

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keysync/keysync"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Addresses are compared in a canonical form that follows each protocol's
// rules; two accounts or contacts are one only when their canonical forms
// are equal. A name that is not valid in its protocol is kept byte for
// byte, so that it is never merged with another, and reported.
//
//   - XMPP (RFC 7622): the bare JID; the resource is dropped. The localpart
//     is enforced with the PRECIS UsernameCaseMapped profile (RFC 8265) and
//     must not hold " & ' / : < > @. The domainpart loses a final dot and is
//     width-mapped, lower-cased and NFC-normalized; every label must be
//     LDH or, when it holds non-ASCII letters, valid in the PRECIS
//     IdentifierClass and under the Bidi Rule (RFC 5893). An IPv6 literal is
//     written in its RFC 5952 form. A-labels ("xn--…") are compared as they
//     are: they are not converted to U-labels.
//   - IRC: "nick@server" or a nick. The nick is case-mapped under the
//     rfc1459 CASEMAPPING (A-Z [ ] \ ~ to a-z { } | ^), the server is
//     lower-cased in ASCII, every other byte is kept: IRC is 8-bit, so
//     bytes that are not UTF-8 are valid. Nicks cannot hold spaces, control
//     bytes, '!' or ','.
//   - Other protocols: the name unchanged.

// canonicalAddress returns the canonical form of an account or contact
// address, as canonicalAddr does, without saying whether name is valid.
func canonicalAddress(protocol, name string) string {
	canon, _ := canonicalAddr(protocol, name)
	return canon
}

// canonicalAddr returns the canonical form of an account or contact
// address under protocol's rules. When name is not valid there, canon is
// name (for XMPP, its bare JID) byte for byte and problem says why.
// canonicalAddr(protocol, canon) returns canon again.
func canonicalAddr(protocol, name string) (canon, problem string) {
	switch protocol {
	case "xmpp":
		return canonicalJID(name)
	case "irc":
		return canonicalIRC(name)
	}
	return name, ""
}

// maxJIDPart is RFC 7622's limit on each part of a JID, in bytes.
const maxJIDPart = 1023

// canonicalJID returns the canonical bare JID of an XMPP address.
func canonicalJID(name string) (canon, problem string) {
	bare, _, _ := strings.Cut(name, "/")
	if isCanonicalASCIIJID(bare) {
		return bare, ""
	}
	return enforceJID(bare)
}

// isCanonicalASCIIJID reports whether bare is a bare JID in ASCII that is
// its own canonical form, which most are: a quick test that saves
// enforcing the PRECIS profile on every row of a large file.
func isCanonicalASCIIJID(bare string) bool {
	local, domain, hasLocal := strings.Cut(bare, "@")
	if !hasLocal {
		local, domain = "", bare
	}
	if hasLocal && (local == "" || len(local) > maxJIDPart) || domain == "" || len(domain) > maxJIDPart {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c >= 0x7f || 'A' <= c && c <= 'Z' || strings.IndexByte(`"&'/:<>@`, c) >= 0 {
			return false
		}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// enforceJID applies RFC 7622 to a bare JID.
func enforceJID(bare string) (canon, problem string) {
	if !utf8.ValidString(bare) {
		return bare, "not valid UTF-8"
	}
	local, domain, hasLocal := strings.Cut(bare, "@")
	if !hasLocal {
		local, domain = "", bare
	}
	d, problem := canonicalDomainpart(domain)
	if problem != "" {
		return bare, "domainpart: " + problem
	}
	if !hasLocal {
		return d, ""
	}
	l, problem := canonicalLocalpart(local)
	if problem != "" {
		return bare, "localpart: " + problem
	}
	return l + "@" + d, ""
}

// canonicalLocalpart enforces RFC 7622's rules for a localpart.
func canonicalLocalpart(s string) (string, string) {
	if s == "" {
		return "", "empty"
	}
	l, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", err.Error()
	}
	if i := strings.IndexAny(l, `"&'/:<>@`); i >= 0 {
		return "", fmt.Sprintf("holds %q", l[i])
	}
	if l == "" || len(l) > maxJIDPart {
		return "", fmt.Sprintf("%d bytes long, want 1 to %d", len(l), maxJIDPart)
	}
	return l, ""
}

// domainMapping applies the mappings RFC 7622 asks of a domainpart: width,
// lower case, NFC. Labels are checked one by one afterwards.
var domainMapping = precis.NewIdentifier(precis.FoldWidth, precis.LowerCase(), precis.Norm(norm.NFC))

// canonicalDomainpart enforces RFC 7622's rules for a domainpart.
func canonicalDomainpart(s string) (string, string) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", "empty"
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "not an IPv6 address between brackets"
		}
		return "[" + a.String() + "]", ""
	}
	d, err := domainMapping.String(s)
	if err != nil {
		return "", err.Error()
	}
	if len(d) > maxJIDPart {
		return "", fmt.Sprintf("%d bytes long, want at most %d", len(d), maxJIDPart)
	}
	for label := range strings.SplitSeq(d, ".") {
		if p := labelProblem(label); p != "" {
			return "", p
		}
	}
	return d, ""
}

// labelProblem says why a mapped domain label is not an LDH label or a
// U-label, or returns "".
func labelProblem(label string) string {
	switch {
	case label == "":
		return "empty label"
	case label[0] == '-' || label[len(label)-1] == '-':
		return fmt.Sprintf("label %s begins or ends with '-'", quoteName(label))
	}
	ascii := true
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9'):
			return fmt.Sprintf("label %s holds %q", quoteName(label), c)
		}
	}
	if ascii && len(label) > 63 {
		return fmt.Sprintf("label of %d bytes, want at most 63", len(label))
	}
	if !ascii && !bidirule.ValidString(label) {
		return fmt.Sprintf("label %s breaks the Bidi Rule", quoteName(label))
	}
	return ""
}

// canonicalIRC returns the canonical form of an IRC nick or nick@server.
func canonicalIRC(name string) (canon, problem string) {
	nick, server, hasServer := strings.Cut(name, "@")
	if nick == "" {
		return name, "empty nick"
	}
	for i := 0; i < len(nick); i++ {
		if c := nick[i]; c <= ' ' || c == 0x7f || c == '!' || c == ',' {
			return name, fmt.Sprintf("nick holds %q", c)
		}
	}
	if hasServer {
		if server == "" {
			return name, "empty server"
		}
		for i := 0; i < len(server); i++ {
			if c := server[i]; c <= ' ' || c == 0x7f || c == '@' {
				return name, fmt.Sprintf("server holds %q", c)
			}
		}
	}
	if !ircNeedsMapping(name, len(nick)) {
		return name, ""
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case i >= len(nick):
			// The server is case-insensitive in ASCII only.
		case c == '[' || c == ']' || c == '\\':
			b[i] = c + '{' - '['
		case c == '~':
			b[i] = '^'
		}
	}
	return string(b), ""
}

// ircNeedsMapping reports whether name, whose nick is its first n bytes,
// holds a byte that the case mapping changes.
func ircNeedsMapping(name string, n int) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' || i < n && (c == '[' || c == ']' || c == '\\' || c == '~') {
			return true
		}
	}
	return false
}

// caseKept reports whether protocol's canonical form serves only to compare
// names, so that apps are given a name as some app spelled it: IRC apps
// look nicks up byte for byte, and which case mapping the server uses is
// not recorded.
func caseKept(protocol string) bool { return protocol == "irc" }

// spelledAccount returns the account to name la by in an app: for
// protocols whose case is kept, the first spelling of its address an app
// used, else la's canonical account.
func spelledAccount(la *keysync.LocalAccount) keysync.Account {
	if !caseKept(la.Protocol) {
		return la.Account
	}
	for _, o := range la.Origins {
		if canonicalAddress(la.Protocol, o.Name) == la.Address {
			return keysync.Account{Protocol: la.Protocol, Address: o.Name}
		}
	}
	return la.Account
}

// spelledContact returns the contact name to write for f in an app other
// than the one it was read from: its app's spelling for protocols whose
// case is kept, else the canonical contact.
func spelledContact(f *keysync.KnownFingerprint) string {
	if f.ContactName != "" && caseKept(f.Origin.Local.Protocol) {
		return f.ContactName
	}
	return f.Contact
}

// maxNameNotices bounds the notices about names one read of a store lists;
// the rest are counted.
const maxNameNotices = 20

// nameNotices collects the notices about names that are not valid in their
// protocol: one per name, up to maxNameNotices, then a count of the rest.
type nameNotices struct {
	seen    map[string]bool
	notices []Notice
	more    int
}

// add notes that name, an account or contact ("what") of protocol, read at
// path:line, is not valid there.
func (r *nameNotices) add(path string, line int, what, protocol, name, problem string) {
	if len(r.notices) >= maxNameNotices {
		r.more++
		return
	}
	k := what + "\x00" + protocol + "\x00" + name
	if r.seen[k] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[k] = true
	r.notices = append(r.notices, Notice{File: path, Line: line,
		Msg: fmt.Sprintf("%s %s is not a valid %s address (%s): kept byte for byte, not merged with other spellings",
			what, quoteName(name), protocol, problem)})
}

// addProtocol notes that protocol, an app's spelling read at path:line, is
// not a protocol name that compares with others.
func (r *nameNotices) addProtocol(path string, line int, protocol, problem string) {
	if len(r.notices) >= maxNameNotices {
		r.more++
		return
	}
	k := "protocol\x00" + protocol
	if r.seen[k] {
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[k] = true
	r.notices = append(r.notices, Notice{File: path, Line: line,
		Msg: fmt.Sprintf("protocol %s is %s: kept byte for byte, not merged with other spellings", quoteName(protocol), problem)})
}

// list returns the notices.
func (r *nameNotices) list() []Notice {
	if r.more == 0 {
		return r.notices
	}
	return append(r.notices, Notice{Msg: fmt.Sprintf("%d more uses of names that are not valid addresses, kept byte for byte", r.more)})
}

// quoteName quotes a name for a message, escaping every byte that is not
// printable UTF-8 and cutting it short if it is long.
func quoteName(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// spellingConflicts reports the fingerprints that one file holds under
// several spellings of one contact with different non-empty trust: libotr
// keeps the rows apart, but they are one record, and an app that spells the
// contact one way can hold only one of the trusts.
func spellingConflicts(path string, rows []keysync.KnownFingerprint) []Notice {
	type key struct {
		local   keysync.Account
		contact string
		fp      keysync.Fingerprint
	}
	// Only a row spelled other than canonically can have a twin.
	groups := map[key][]int{}
	for i := range rows {
		if f := &rows[i]; f.ContactName != "" {
			groups[key{f.Local(), f.Contact, f.Fingerprint}] = nil
		}
	}
	if len(groups) == 0 {
		return nil
	}
	var order []key
	for i := range rows {
		f := &rows[i]
		k := key{f.Local(), f.Contact, f.Fingerprint}
		g, ok := groups[k]
		if !ok {
			continue
		}
		if g == nil {
			order = append(order, k)
		}
		groups[k] = append(g, i)
	}
	var notices []Notice
	more := 0
	for _, k := range order {
		var first keysync.Trust
		conflict := false
		for _, i := range groups[k] {
			switch t := rows[i].Trust; {
			case t == "":
			case first == "":
				first = t
			case t != first:
				conflict = true
			}
		}
		if !conflict {
			continue
		}
		if len(notices) == maxNameNotices {
			more++
			continue
		}
		const maxListed = 4
		var trusts []string
		for n, i := range groups[k] {
			if n == maxListed {
				trusts = append(trusts, fmt.Sprintf("%d more", len(groups[k])-maxListed))
				break
			}
			f := &rows[i]
			name := f.ContactName
			if name == "" {
				name = f.Contact
			}
			trusts = append(trusts, fmt.Sprintf("%q as %s", f.Trust, quoteName(name)))
		}
		notices = append(notices, Notice{File: path, Msg: fmt.Sprintf(
			"trust conflict: fingerprint %s of contact %s of %s is %s, spellings of one contact",
			k.fp.Human(), quoteName(k.contact), k.local, strings.Join(trusts, " and "))})
	}
	if more > 0 {
		notices = append(notices, Notice{File: path, Msg: fmt.Sprintf("%d more trust conflicts between spellings of one contact", more)})
	}
	return notices
}
