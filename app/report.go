package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keysync/keysync"
)

// Report is what the merged model of some stores holds, for people and
// programs: the stores, per local account its spellings, keys, instance
// tags and contacts with their fingerprints, the OpenPGP keys, then the
// conflicts and the readers' notices. Private key material is never in it.
//
// The JSON field names are an interface (see keysync.1.md). Contacts are
// not held but made one at a time from the model (EachContact), so that a
// million rows cost about what the model does; WriteJSON streams them.
type Report struct {
	Sources     []string         `json:"sources"`
	Accounts    []AccountReport  `json:"accounts"`
	OpenPGPKeys []OpenPGPReport  `json:"openpgp_keys"`
	Conflicts   []ConflictReport `json:"conflicts"`
	Notices     []NoticeReport   `json:"notices"`

	fps []keysync.KnownFingerprint
	// contacts lists, per account, its contacts in order of first
	// appearance; next links each row to the next row of its contact.
	contacts [][]contactRows
	next     []int32
}

// contactRows is one contact of an account and its first row.
type contactRows struct {
	name  string
	first int32
}

// AccountReport is one local account, without its contacts.
type AccountReport struct {
	Account      string           `json:"account"` // "protocol:address"
	Protocol     string           `json:"protocol"`
	Address      string           `json:"address"`
	Unmapped     string           `json:"unmapped"` // why the address is an app's raw name, or ""
	Spellings    []SpellingReport `json:"spellings"`
	Keys         []KeyReport      `json:"keys"`
	InstanceTags []TagReport      `json:"instance_tags"`
}

// SpellingReport is how one app names an account.
type SpellingReport struct {
	App      string `json:"app"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
}

// KeyReport is one private key, by its fingerprint.
type KeyReport struct {
	Fingerprint string `json:"fingerprint"` // the human form
	Source      string `json:"source"`
	Invalid     string `json:"invalid"` // why Validate refused the key, or ""
}

// TagReport is one instance tag.
type TagReport struct {
	Tag    string `json:"tag"` // 8 hex digits
	Source string `json:"source"`
}

// ContactReport is one contact of a local account with its fingerprints.
type ContactReport struct {
	Contact      string              `json:"contact"`
	Fingerprints []FingerprintReport `json:"fingerprints"`
}

// FingerprintReport is one known fingerprint and its trust.
type FingerprintReport struct {
	Fingerprint string `json:"fingerprint"` // the human form
	Trust       string `json:"trust"`       // verbatim; "" is unverified
	Trusted     bool   `json:"trusted"`
	Source      string `json:"source"`
}

// OpenPGPReport is one OpenPGP key, without its packets.
type OpenPGPReport struct {
	Fingerprint string   `json:"fingerprint"` // GnuPG's human form
	UserIDs     []string `json:"user_ids"`
	Ownertrust  string   `json:"ownertrust"` // "unset", "marginal", "full", …
	HasSecret   bool     `json:"has_secret"` // a store holds the secret key
	Source      string   `json:"source"`
}

// ConflictReport is one conflict between stores.
type ConflictReport struct {
	Kind        string        `json:"kind"` // "private key" or "trust"
	Account     string        `json:"account"`
	Contact     string        `json:"contact"`     // trust conflicts only
	Fingerprint string        `json:"fingerprint"` // trust conflicts only
	Values      []ValueReport `json:"values"`
	Winner      string        `json:"winner"` // "" when unresolved
}

// ValueReport is one store's side of a conflict.
type ValueReport struct {
	Source string `json:"source"`
	Value  string `json:"value"`
}

// NoticeReport is one notice.
type NoticeReport struct {
	Source  string `json:"source"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Show reads every store, merges them without preference and reports the
// result.
func Show(locs []Location, prompt Prompt) (*Report, error) {
	sources, notices, err := ReadAll(locs, prompt, nil)
	if err != nil {
		return nil, err
	}
	merged, conflicts := keysync.Merge(sources, "")
	return NewReport(locs, merged, conflicts, notices), nil
}

// NewReport reports a merged model. Accounts keep the model's order;
// accounts known only from fingerprints follow, in the order they first
// appear; contacts and fingerprints keep the model's order. The report
// refers to m's fingerprints, which must not change while it is used.
func NewReport(locs []Location, m *keysync.Model, conflicts []keysync.Conflict, notices []Notice) *Report {
	r := &Report{Sources: []string{}, Accounts: []AccountReport{}, OpenPGPKeys: []OpenPGPReport{}, Conflicts: []ConflictReport{}, Notices: []NoticeReport{},
		fps: m.Fingerprints, next: make([]int32, len(m.Fingerprints))}
	for _, l := range locs {
		r.Sources = append(r.Sources, l.Name)
	}
	index := map[keysync.Account]int{}
	add := func(la *keysync.LocalAccount) {
		index[la.Account] = len(r.Accounts)
		r.Accounts = append(r.Accounts, accountReport(la))
		r.contacts = append(r.contacts, nil)
	}
	for _, la := range m.Accounts {
		if _, dup := index[la.Account]; !dup {
			add(la)
		}
	}
	type contactKey struct {
		account int
		contact string
	}
	// last maps a contact to its last row so far. Files keep a contact's
	// rows together, so a row of the previous row's contact needs no
	// lookup.
	last := make(map[contactKey]int32, len(m.Fingerprints)/2)
	var prev contactKey
	ai := -1
	for i := range m.Fingerprints {
		f := &m.Fingerprints[i]
		r.next[i] = -1
		if ai < 0 || f.Local() != m.Fingerprints[i-1].Local() {
			var ok bool
			if ai, ok = index[f.Local()]; !ok {
				add(&keysync.LocalAccount{Account: f.Local()})
				ai = index[f.Local()]
			}
		}
		k := contactKey{ai, f.Contact}
		if i > 0 && k == prev {
			r.next[i-1] = int32(i)
		} else if j, seen := last[k]; seen {
			r.next[j] = int32(i)
		} else {
			r.contacts[ai] = append(r.contacts[ai], contactRows{f.Contact, int32(i)})
		}
		if i+1 == len(m.Fingerprints) || m.Fingerprints[i+1].Contact != f.Contact || m.Fingerprints[i+1].Local() != f.Local() {
			last[k] = int32(i) // the contact's run of rows ends here
		}
		prev = k
	}
	for _, k := range m.OpenPGPKeys {
		r.OpenPGPKeys = append(r.OpenPGPKeys, OpenPGPReport{Fingerprint: k.Fingerprint.Human(), UserIDs: append([]string{}, k.UserIDs...),
			Ownertrust: k.Ownertrust.String(), HasSecret: k.HasSecret, Source: k.Origin.Source})
	}
	for _, c := range conflicts {
		r.Conflicts = append(r.Conflicts, NewConflictReport(c))
	}
	for _, n := range notices {
		r.Notices = append(r.Notices, NoticeReport{Source: n.Source, File: n.File, Line: n.Line, Message: n.Msg})
	}
	return r
}

func accountReport(la *keysync.LocalAccount) AccountReport {
	v := AccountReport{
		Account: la.Account.String(), Protocol: la.Protocol, Address: la.Address, Unmapped: la.Unmapped,
		Spellings: []SpellingReport{}, Keys: []KeyReport{}, InstanceTags: []TagReport{},
	}
	for _, o := range la.Origins {
		sp := SpellingReport{o.App, o.Name, o.Protocol}
		if !containsSpelling(v.Spellings, sp) {
			v.Spellings = append(v.Spellings, sp)
		}
	}
	for _, k := range la.Keys {
		kv := KeyReport{Source: k.Origin.Source}
		if k.PrivateKey != nil {
			kv.Fingerprint = k.PrivateKey.Fingerprint().Human()
			if err := k.PrivateKey.Validate(); err != nil {
				kv.Invalid = strings.TrimPrefix(err.Error(), keysync.ErrInvalidKey.Error()+": ")
			}
		} else {
			kv.Invalid = "no key"
		}
		v.Keys = append(v.Keys, kv)
	}
	for _, t := range la.InstanceTags {
		v.InstanceTags = append(v.InstanceTags, TagReport{fmt.Sprintf("%08x", t.Tag), t.Origin.Source})
	}
	return v
}

func containsSpelling(list []SpellingReport, sp SpellingReport) bool {
	for _, x := range list {
		if x == sp {
			return true
		}
	}
	return false
}

// NewConflictReport reports one conflict.
func NewConflictReport(c keysync.Conflict) ConflictReport {
	v := ConflictReport{Kind: string(c.Kind), Values: []ValueReport{}, Winner: c.Winner}
	if c.Account != (keysync.Account{}) { // none for an OpenPGP key
		v.Account = c.Account.String()
	}
	if c.Kind == keysync.TrustConflict {
		v.Contact = c.Contact
		v.Fingerprint = c.Fingerprint.Human()
	}
	for _, x := range c.Values {
		v.Values = append(v.Values, ValueReport{x.Source, x.Value})
	}
	return v
}

// EachContact calls fn with each contact of account i (an index into
// Accounts), in order, and stops at fn's first error.
func (r *Report) EachContact(i int, fn func(ContactReport) error) error {
	for _, c := range r.contacts[i] {
		cr := ContactReport{Contact: c.name, Fingerprints: []FingerprintReport{}}
		for j := c.first; j >= 0; j = r.next[j] {
			f := &r.fps[j]
			cr.Fingerprints = append(cr.Fingerprints, FingerprintReport{
				Fingerprint: f.Fingerprint.Human(), Trust: string(f.Trust), Trusted: f.Trust.Trusted(), Source: f.Origin.Source,
			})
		}
		if err := fn(cr); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the report as one JSON object indented by two spaces,
// the contacts inside their accounts, followed by a line feed: the bytes
// encoding/json's Encoder with SetIndent("", "  ") gives.
func (r *Report) WriteJSON(w io.Writer) error {
	b := bufio.NewWriterSize(w, 64<<10)
	// value writes v as a member or element that starts at indentation
	// prefix.
	value := func(v any, prefix string) error {
		data, err := json.MarshalIndent(v, prefix, "  ")
		if err == nil {
			_, err = b.Write(data)
		}
		return err
	}
	member := func(name string, v any, prefix string, last bool) error {
		fmt.Fprintf(b, "%s%q: ", prefix, name)
		if err := value(v, prefix); err != nil {
			return err
		}
		if !last {
			b.WriteByte(',')
		}
		return b.WriteByte('\n')
	}
	q := &quoter{cache: map[string][]byte{}}
	b.WriteString("{\n")
	if err := member("sources", r.Sources, "  ", false); err != nil {
		return err
	}
	b.WriteString(`  "accounts": `)
	if len(r.Accounts) == 0 {
		b.WriteString("[]")
	} else {
		b.WriteString("[\n")
		for i, a := range r.Accounts {
			b.WriteString("    {\n")
			for _, m := range []struct {
				name string
				v    any
			}{
				{"account", a.Account}, {"protocol", a.Protocol}, {"address", a.Address}, {"unmapped", a.Unmapped},
				{"spellings", a.Spellings}, {"keys", a.Keys}, {"instance_tags", a.InstanceTags},
			} {
				if err := member(m.name, m.v, "      ", false); err != nil {
					return err
				}
			}
			b.WriteString(`      "contacts": `)
			n := 0
			err := r.EachContact(i, func(c ContactReport) error {
				if n == 0 {
					b.WriteString("[\n")
				} else {
					b.WriteString(",\n")
				}
				n++
				return q.contact(b, c)
			})
			if err != nil {
				return err
			}
			if n == 0 {
				b.WriteString("[]\n")
			} else {
				b.WriteString("\n      ]\n")
			}
			b.WriteString("    }")
			if i < len(r.Accounts)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("  ]")
	}
	b.WriteString(",\n")
	if err := member("openpgp_keys", r.OpenPGPKeys, "  ", false); err != nil {
		return err
	}
	if err := member("conflicts", r.Conflicts, "  ", false); err != nil {
		return err
	}
	if err := member("notices", r.Notices, "  ", true); err != nil {
		return err
	}
	b.WriteString("}\n")
	return b.Flush()
}

// quoter writes JSON strings as encoding/json does, keeping the quoted
// form of the few strings that repeat on every row (trust values, sources).
type quoter struct {
	cache map[string][]byte
}

func (q *quoter) quote(b *bufio.Writer, s string, cache bool) error {
	if data, ok := q.cache[s]; ok {
		_, err := b.Write(data)
		return err
	}
	if plainJSON(s) {
		b.WriteByte('"')
		b.WriteString(s)
		return b.WriteByte('"')
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if cache && len(q.cache) < 1024 {
		q.cache[s] = data
	}
	_, err = b.Write(data)
	return err
}

// contact writes c as an element of an account's contacts array, as
// json.MarshalIndent(c, "        ", "  ") does, without reflection.
func (q *quoter) contact(b *bufio.Writer, c ContactReport) error {
	b.WriteString("        {\n          \"contact\": ")
	if err := q.quote(b, c.Contact, false); err != nil {
		return err
	}
	b.WriteString(",\n          \"fingerprints\": ")
	if len(c.Fingerprints) == 0 {
		b.WriteString("[]")
	} else {
		b.WriteString("[\n")
		for i, f := range c.Fingerprints {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("            {\n              \"fingerprint\": ")
			q.quote(b, f.Fingerprint, false)
			b.WriteString(",\n              \"trust\": ")
			q.quote(b, f.Trust, true)
			b.WriteString(",\n              \"trusted\": ")
			b.WriteString(strconv.FormatBool(f.Trusted))
			b.WriteString(",\n              \"source\": ")
			if err := q.quote(b, f.Source, true); err != nil {
				return err
			}
			b.WriteString("\n            }")
		}
		b.WriteString("\n          ]")
	}
	_, err := b.WriteString("\n        }")
	return err
}

// plainJSON reports whether encoding/json writes s as is between quotes:
// printable ASCII other than the quote, the backslash and <, > and &.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
