package app

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// protocols is one app's spellings of protocols.
type protocols struct {
	// known lists canonical protocol names with the app's spellings: the
	// first is the one written, the others are accepted when reading.
	known []protocolSpelling
	// prefix spells a protocol the app does not list: prefix followed by
	// the canonical name. Readers drop any app's prefix from a spelling no
	// app lists.
	prefix string
}

// protocolSpelling is a canonical protocol name and an app's spellings.
type protocolSpelling struct {
	canonical string
	native    []string
}

// native returns the app's spelling of a canonical protocol.
func (p *protocols) native(canonical string) string {
	for _, x := range p.known {
		if x.canonical == canonical {
			return x.native[0]
		}
	}
	return p.prefix + canonical
}

// spelledApp is an app with protocol spellings of its own.
type spelledApp interface{ spellings() *protocols }

// readSpellings maps every app's protocol spellings to canonical names
// (apps in name order; the first app to list a spelling decides), and
// lists the apps' prefixes, longest first.
var readSpellings = sync.OnceValues(func() (map[string]string, []string) {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	m := map[string]string{}
	var prefixes []string
	for _, n := range names {
		sa, ok := registry[n].(spelledApp)
		if !ok {
			continue
		}
		p := sa.spellings()
		for _, x := range p.known {
			for _, s := range x.native {
				if _, taken := m[s]; !taken {
					m[s] = x.canonical
				}
			}
		}
		if p.prefix != "" {
			prefixes = append(prefixes, p.prefix)
		}
	}
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	return m, prefixes
})

// canonicalProtocol maps any app's protocol spelling to the canonical
// lower-case protocol name. Every app's spellings are recognised (files
// are copied between apps: Kopete samples carry Pidgin's prpl ids);
// otherwise an app's prefix ("prpl-", "libpurple-") is dropped and the
// rest lower-cased in ASCII: every other byte is kept, so that two
// spellings that are not UTF-8 stay two protocols (see protocolProblem).
func canonicalProtocol(s string) string {
	known, prefixes := readSpellings()
	if c, ok := known[s]; ok {
		return c
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return lowerASCII(rest)
		}
	}
	return lowerASCII(s)
}

// lowerASCII returns s with A-Z lower-cased and every other byte kept.
func lowerASCII(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// protocolProblem says why a protocol spelling is not a protocol name
// that can be compared with others, or returns "".
func protocolProblem(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	return ""
}
