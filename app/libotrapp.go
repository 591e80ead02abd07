package app

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/collapse"
	"github.com/keysync/keysync/internal/excerpt"
	"github.com/keysync/keysync/libotr"
)

// libotrApp is an app that keeps its trust store in libotr's files:
// a private key file, a fingerprints file and, for libotr 4 apps, an
// instance tags file. The apps differ in file names, in how they name
// accounts and protocols (the mapper) and in which protocols they speak.
type libotrApp struct {
	name                     string
	keyFile, fpFile, tagFile string // tagFile is "" when the app keeps none
	only                     string // the one canonical protocol the app speaks, or ""
	defaultDir               func() (string, error)
	mapper                   func(dir string) (mapper, error)
}

// mapper translates between an app's account spellings and the model.
type mapper interface {
	// canonical maps a stored (name, protocol) to an account; unmapped
	// explains a name that could not be resolved to an address.
	canonical(name, protocol string) (a keysync.Account, unmapped string)
	// native returns the app's (name, protocol) for a, or why it has none.
	native(a keysync.Account) (name, protocol, why string)
}

func (p *libotrApp) Name() string                { return p.name }
func (p *libotrApp) DefaultDir() (string, error) { return p.defaultDir() }

// accountCache memoizes canonical lookups: fingerprint files repeat the
// same few (account, protocol) pairs on every row.
type accountCache struct {
	m     mapper
	store *keysync.Store
	app   string
	seen  map[[2]string]*keysync.LocalAccount
}

func (c *accountCache) get(name, protocol string) *keysync.LocalAccount {
	k := [2]string{name, protocol}
	if la, ok := c.seen[k]; ok {
		return la
	}
	a, unmapped := c.m.canonical(name, protocol)
	la := c.store.AddAccount(a)
	if unmapped != "" {
		la.Unmapped = unmapped
	}
	la.AddSpelling(keysync.Spelling{App: c.app, Name: name, Protocol: protocol})
	c.seen[k] = la
	return la
}

func (p *libotrApp) Read(dir, source string) (*keysync.Store, []Notice, error) {
	m, err := p.mapper(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &keysync.Store{}
	c := &accountCache{m: m, store: s, app: p.name, seen: map[[2]string]*keysync.LocalAccount{}}
	var notices []Notice

	readKeys := func(r io.Reader, path string) error {
		keys, err := libotr.ReadPrivKeys(r, path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			la := c.get(k.Name, k.Protocol)
			la.Keys = append(la.Keys, keysync.Key{
				PrivateKey: k.Key, Source: source, Line: k.Line,
				Spelling: keysync.Spelling{App: p.name, Name: k.Name, Protocol: k.Protocol},
			})
			if err := k.Key.Validate(); err != nil {
				notices = append(notices, Notice{File: path, Line: k.Line,
					Msg: fmt.Sprintf("key of %s (%s), fingerprint %s: %v", excerpt.Quote(k.Name), excerpt.Cut(k.Protocol, excerpt.MaxRunes), k.Key.Fingerprint().Human(), err)})
			}
		}
		return nil
	}
	readFingerprints := func(r io.Reader, path string) error {
		// Rows go straight into the model, which is sized from a count of
		// the file's lines: a million rows never exist twice.
		n, err := countLines(r)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s.Fingerprints = make([]keysync.KnownFingerprint, 0, n)
		origins := map[[2]string]*keysync.Origin{}
		var o *keysync.Origin
		err = libotr.ScanFingerprints(r, path, func(r libotr.FingerprintRow) error {
			// Rows come grouped by account: look up only when it changes.
			if o == nil || r.Account != o.LocalName || r.Protocol != o.Protocol {
				k := [2]string{r.Account, r.Protocol}
				if o = origins[k]; o == nil {
					la := c.get(r.Account, r.Protocol)
					o = &keysync.Origin{Local: la.Account, Source: source, App: p.name, LocalName: r.Account, Protocol: r.Protocol}
					origins[k] = o
				}
			}
			f := keysync.KnownFingerprint{
				Contact:     canonicalAddress(o.Local.Protocol, r.Username),
				Fingerprint: r.Fingerprint,
				Trust:       r.Trust,
				Origin:      o,
			}
			if f.Contact != r.Username {
				f.ContactName = r.Username
			}
			s.Fingerprints = append(s.Fingerprints, f)
			return nil
		})
		if err != nil {
			return err
		}
		s.Fingerprints = collapseRows(s.Fingerprints)
		return nil
	}
	readTags := func(r io.Reader, path string) error {
		tags, err := libotr.ReadInstanceTags(r, path)
		if err != nil {
			return err
		}
		for _, t := range tags {
			la := c.get(t.Account, t.Protocol)
			la.InstanceTags = append(la.InstanceTags, keysync.InstanceTag{
				Tag: t.Tag, Source: source, Line: t.Line,
				Spelling: keysync.Spelling{App: p.name, Name: t.Account, Protocol: t.Protocol},
			})
		}
		return nil
	}

	found := false
	for _, f := range []struct {
		name string
		read func(io.Reader, string) error
	}{{p.keyFile, readKeys}, {p.fpFile, readFingerprints}, {p.tagFile, readTags}} {
		if f.name == "" {
			continue
		}
		path := filepath.Join(dir, f.name)
		fh, err := os.Open(path) // streamed: a fingerprints file can be large
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		found = true
		err = f.read(fh, path)
		fh.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%s: %w in %s", p.name, ErrNoStore, dir)
	}
	for _, la := range s.Accounts {
		if la.Unmapped != "" {
			notices = append(notices, Notice{Msg: fmt.Sprintf("%s: account %s: %s", p.name, excerpt.Cut(la.Address, excerpt.MaxRunes), la.Unmapped)})
		}
	}
	return s, notices, nil
}

// countLines counts the line feeds of r, if it can be rewound, and
// rewinds it.
func countLines(r io.Reader) (int, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return 0, nil
	}
	n := 0
	buf := make([]byte, 256<<10)
	for {
		m, err := rs.Read(buf)
		n += bytes.Count(buf[:m], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	_, err := rs.Seek(0, io.SeekStart)
	return n + 1, err
}

// collapseRows collapses the rows of one fingerprints file as libotr does:
// rows with the same account, protocol, contact and fingerprint become the
// first of them, with the last one's trust.
func collapseRows(rows []keysync.KnownFingerprint) []keysync.KnownFingerprint {
	seed := maphash.MakeSeed()
	return collapse.Rows(rows,
		func(f *keysync.KnownFingerprint) uint64 {
			// Rows of one account and protocol share their Origin.
			var h maphash.Hash
			h.SetSeed(seed)
			h.WriteString(f.Contact)
			h.WriteByte(0)
			h.WriteString(f.ContactName)
			h.Write(f.Fingerprint[:])
			return h.Sum64() ^ uint64(uintptr(unsafe.Pointer(f.Origin)))*0x9e3779b97f4a7c15
		},
		func(a, b *keysync.KnownFingerprint) bool {
			return a.Origin == b.Origin && a.Fingerprint == b.Fingerprint &&
				a.Contact == b.Contact && a.ContactName == b.ContactName
		},
		func(first, dup *keysync.KnownFingerprint) { first.Trust = dup.Trust })
}

// namer resolves the app's spelling of each local account once.
type namer struct {
	p     *libotrApp
	m     mapper
	cache map[keysync.Account][3]string // name, protocol, why
}

func (n *namer) name(la *keysync.LocalAccount) (name, protocol, why string) {
	if v, ok := n.cache[la.Account]; ok {
		return v[0], v[1], v[2]
	}
	switch {
	case la.Unmapped != "":
		// Only the app that could not map it can hold it, under its own name.
		why = la.Unmapped
		for _, sp := range la.Spellings {
			if sp.App == n.p.name {
				name, protocol, why = sp.Name, sp.Protocol, ""
				break
			}
		}
	case n.p.only != "" && la.Protocol != n.p.only:
		why = fmt.Sprintf("%s holds only %s accounts", n.p.name, strings.ToUpper(n.p.only))
	default:
		name, protocol, why = n.m.native(la.Account)
	}
	n.cache[la.Account] = [3]string{name, protocol, why}
	return name, protocol, why
}

func (p *libotrApp) Write(dir, source string, s *keysync.Store) ([]File, []Notice, error) {
	m, err := p.mapper(dir)
	if err != nil {
		return nil, nil, err
	}
	n := &namer{p: p, m: m, cache: map[keysync.Account][3]string{}}
	skipped := map[keysync.Account]*skip{}
	var skipOrder []keysync.Account
	noteSkip := func(a keysync.Account, why, what string) {
		sk := skipped[a]
		if sk == nil {
			sk = &skip{why: why, counts: map[string]int{}}
			skipped[a] = sk
			skipOrder = append(skipOrder, a)
		}
		sk.counts[what]++
	}
	byAccount := make(map[keysync.Account]*keysync.LocalAccount, len(s.Accounts))
	for _, la := range s.Accounts {
		byAccount[la.Account] = la
	}

	var keys fileOrder[libotr.PrivKey]
	var tagRows fileOrder[libotr.InstanceTag]
	for _, la := range s.Accounts {
		name, protocol, why := n.name(la)
		for _, k := range la.Keys {
			kn, kp := name, protocol
			if k.Spelling.App == p.name {
				kn, kp = k.Spelling.Name, k.Spelling.Protocol
			} else if why != "" {
				noteSkip(la.Account, why, "private key")
				continue
			}
			keys.add(k.Source, k.Line, libotr.PrivKey{Name: kn, Protocol: kp, Key: k.PrivateKey})
		}
		if p.tagFile == "" {
			continue
		}
		if t, ok := pickTag(la.InstanceTags, p.name, source); ok {
			tagRows.add(t.Source, t.Line, libotr.InstanceTag{Account: t.Spelling.Name, Protocol: t.Spelling.Protocol, Tag: t.Tag})
		}
	}

	fps := &fingerprintRows{p: p, n: n, byAccount: byAccount, fps: s.Fingerprints}
	// Encoding once here counts the rows, notes what is skipped and finds
	// rows libotr could not read back before anything is written.
	nrows, err := fps.encode(io.Discard, func(a keysync.Account, why string) { noteSkip(a, why, "fingerprint") })
	if err != nil {
		return nil, nil, err
	}

	var files []File
	if keys := keys.sorted(); len(keys) > 0 {
		var b bytes.Buffer
		if err := libotr.WritePrivKeys(&b, keys); err != nil {
			return nil, nil, err
		}
		files = append(files, File{Path: filepath.Join(dir, p.keyFile), Content: atomicfile.Bytes(b.Bytes()), Secret: true,
			Summary: count(len(keys), "private key")})
	}
	if nrows > 0 {
		files = append(files, File{Path: filepath.Join(dir, p.fpFile), Content: fps,
			Summary: count(nrows, "fingerprint")})
	}
	if tags := tagRows.sorted(); len(tags) > 0 {
		var b bytes.Buffer
		if err := libotr.WriteInstanceTags(&b, tags); err != nil {
			return nil, nil, err
		}
		files = append(files, File{Path: filepath.Join(dir, p.tagFile), Content: atomicfile.Bytes(b.Bytes()),
			Summary: count(len(tags), "instance tag")})
	}

	var notices []Notice
	for _, a := range skipOrder {
		sk := skipped[a]
		notices = append(notices, Notice{Msg: fmt.Sprintf("%s: skipped %s (%s): %s", p.name, excerpt.Cut(a.String(), excerpt.MaxRunes), sk.describe(), sk.why)})
	}
	return files, notices, nil
}

// fileOrder collects entries of one file and restores the order their
// sources had them in: entries of each source sorted by line, sources in
// the order they first appear.
type fileOrder[T any] struct {
	sources []string
	entries map[string][]lined[T]
}

type lined[T any] struct {
	line int
	v    T
}

func (o *fileOrder[T]) add(source string, line int, v T) {
	if o.entries == nil {
		o.entries = map[string][]lined[T]{}
	}
	if _, ok := o.entries[source]; !ok {
		o.sources = append(o.sources, source)
	}
	o.entries[source] = append(o.entries[source], lined[T]{line, v})
}

func (o *fileOrder[T]) sorted() []T {
	var out []T
	for _, s := range o.sources {
		e := o.entries[s]
		sort.SliceStable(e, func(i, j int) bool { return e[i].line < e[j].line })
		for _, x := range e {
			out = append(out, x.v)
		}
	}
	return out
}

type skip struct {
	why    string
	counts map[string]int
}

func (s *skip) describe() string {
	var parts []string
	for what, n := range s.counts {
		parts = append(parts, count(n, what))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// fingerprintRows is the content of an app's fingerprints file, encoded
// from the store each time it is written and in chunks, so that a million
// rows never exist as bytes or as libotr rows all at once.
type fingerprintRows struct {
	p         *libotrApp
	n         *namer
	byAccount map[keysync.Account]*keysync.LocalAccount
	fps       []keysync.KnownFingerprint
}

// WriteTo writes the file.
func (r *fingerprintRows) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	_, err := r.encode(cw, func(keysync.Account, string) {})
	return cw.n, err
}

// encode writes the row of every fingerprint the app can hold and calls
// skip for every one it cannot, returning the number of rows written.
func (r *fingerprintRows) encode(w io.Writer, skip func(a keysync.Account, why string)) (int, error) {
	nrows := 0
	rows := make([]libotr.FingerprintRow, 0, 4096)
	flush := func() error {
		nrows += len(rows)
		err := libotr.WriteFingerprints(w, rows)
		rows = rows[:0]
		return err
	}
	var last keysync.Account
	var name, protocol, why string
	for i := range r.fps {
		f := &r.fps[i]
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return 0, err
			}
		}
		if f.Origin.App == r.p.name {
			user := f.Contact
			if f.ContactName != "" {
				user = f.ContactName
			}
			rows = append(rows, libotr.FingerprintRow{Username: user, Account: f.Origin.LocalName,
				Protocol: f.Origin.Protocol, Fingerprint: f.Fingerprint, Trust: f.Trust})
			continue
		}
		if i == 0 || f.Origin.Local != last { // rows come grouped by account
			last = f.Origin.Local
			la := r.byAccount[last]
			if la == nil {
				la = &keysync.LocalAccount{Account: last}
			}
			name, protocol, why = r.n.name(la)
		}
		if why != "" {
			skip(last, why)
			continue
		}
		rows = append(rows, libotr.FingerprintRow{Username: f.Contact, Account: name,
			Protocol: protocol, Fingerprint: f.Fingerprint, Trust: f.Trust})
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return nrows, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// count says "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// pickTag chooses the instance tag to write for an account: the target
// installation's own tag if it has one, else a tag of the same app (a
// conversion within one app keeps it). Tags of other apps are never copied:
// libotr makes a new one.
func pickTag(tags []keysync.InstanceTag, appName, source string) (keysync.InstanceTag, bool) {
	for _, t := range tags {
		if t.Source == source && t.Spelling.App == appName {
			return t, true
		}
	}
	for _, t := range tags {
		if t.Spelling.App == appName {
			return t, true
		}
	}
	return keysync.InstanceTag{}, false
}

// homeDir joins path elements to the user's home folder.
func homeDir(elem ...string) (string, error) {
	h, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{h}, elem...)...), nil
}
