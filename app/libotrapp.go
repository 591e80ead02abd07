package app

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/libotr"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/collapse"
	"github.com/keysync/keysync/internal/excerpt"
)

// libotrApp is an app that keeps its trust store in libotr's files:
// a private key file, a fingerprints file and, for libotr 4 apps, an
// instance tags file. The apps differ in file names, in how they name
// accounts and protocols (the mapper and protocols) and in which protocols
// they speak.
type libotrApp struct {
	name                     string
	keyFile, fpFile, tagFile string // tagFile is "" when the app keeps none
	only                     string // the one canonical protocol the app speaks, or ""
	dirs                     defaultDirs
	processes                []string // the names the app's program runs under
	mapper                   func(dir string) (mapper, error)
	protocols                *protocols
}

// mapper translates between an app's account spellings and the model.
type mapper interface {
	// canonical maps a stored (name, protocol) to an account; unmapped
	// explains a name that could not be resolved to an address.
	canonical(name, protocol string) (a keysync.Account, unmapped string)
	// native returns the app's (name, protocol) for a, or why it has none.
	native(a keysync.Account) (name, protocol, why string)
}

// Name returns the app's name, such as "pidgin".
func (p *libotrApp) Name() string { return p.name }

// DefaultDir returns the app's folder on this OS.
func (p *libotrApp) DefaultDir() (string, error) { return p.dirs.dir(p.name) }

// ProcessNames returns the names the app's program runs under.
func (p *libotrApp) ProcessNames() []string { return p.processes }
func (p *libotrApp) spellings() *protocols  { return p.protocols }

// origins gives every (account name, protocol) of one store its Origin,
// made once and shared by all records of that account: fingerprint files
// repeat the same few pairs on every row.
type origins struct {
	m      mapper
	model  *keysync.Model
	source string
	app    string
	seen   map[[2]string]*keysync.Origin
	names  nameNotices // names not valid in their protocol
}

// get returns the Origin of the account an app names (name, protocol),
// first read at path:line.
func (c *origins) get(name, protocol, path string, line int) *keysync.Origin {
	k := [2]string{name, protocol}
	if o, ok := c.seen[k]; ok {
		return o
	}
	a, unmapped := c.m.canonical(name, protocol)
	if problem := protocolProblem(a.Protocol); problem != "" {
		c.names.addProtocol(path, line, a.Protocol, problem)
	}
	la := c.model.AddAccount(a)
	if unmapped != "" {
		la.Unmapped = unmapped
	} else if _, problem := canonicalAddr(a.Protocol, a.Address); problem != "" {
		c.names.add(path, line, "account", a.Protocol, a.Address, problem)
	}
	o := &keysync.Origin{Source: c.source, App: c.app, Local: a, Name: name, Protocol: protocol}
	la.AddOrigin(o)
	c.seen[k] = o
	return o
}

// Read reads the app's files in req.Dir. libotr's files are not encrypted,
// so it never prompts.
func (p *libotrApp) Read(req ReadRequest) (*keysync.Model, []Notice, error) {
	dir := req.Dir
	m, err := p.mapper(dir)
	if err != nil {
		return nil, nil, err
	}
	s := &keysync.Model{}
	c := &origins{m: m, model: s, source: req.Source, app: p.name, seen: map[[2]string]*keysync.Origin{}}
	var notices []Notice

	readKeys := func(r io.Reader, path string) error {
		keys, err := libotr.ReadPrivKeys(r, path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			o := c.get(k.Name, k.Protocol, path, k.Line)
			la := s.Account(o.Local)
			la.Keys = append(la.Keys, keysync.Key{PrivateKey: k.Key, Origin: o, Line: k.Line})
			if err := k.Key.Validate(); err != nil {
				notices = append(notices, Notice{Source: req.Source, File: path, Line: k.Line,
					Msg: fmt.Sprintf("key of %s (%s), fingerprint %s: %v", excerpt.Quote(k.Name), excerpt.Cut(k.Protocol, excerpt.MaxRunes), k.Key.Fingerprint().Human(), err)})
			}
		}
		return nil
	}
	readFingerprints := func(r io.Reader, path string) error {
		// Rows go straight into the model: a million rows never exist
		// twice.
		s.Fingerprints = make([]keysync.KnownFingerprint, 0, estimateRows(path))
		var o *keysync.Origin
		err := libotr.ScanFingerprints(r, path, func(r libotr.FingerprintRow) error {
			// Rows come grouped by account: look up only when it changes.
			if o == nil || r.Account != o.Name || r.Protocol != o.Protocol {
				o = c.get(r.Account, r.Protocol, path, r.Line)
			}
			contact, problem := canonicalAddr(o.Local.Protocol, r.Username)
			if problem != "" {
				c.names.add(path, r.Line, "contact", o.Local.Protocol, r.Username, problem)
			}
			f := keysync.KnownFingerprint{
				Contact:     contact,
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
		notices = append(notices, spellingConflicts(path, s.Fingerprints)...)
		return nil
	}
	readTags := func(r io.Reader, path string) error {
		tags, err := libotr.ReadInstanceTags(r, path)
		if err != nil {
			return err
		}
		for _, t := range tags {
			o := c.get(t.Account, t.Protocol, path, t.Line)
			la := s.Account(o.Local)
			la.InstanceTags = append(la.InstanceTags, keysync.InstanceTag{Tag: t.Tag, Origin: o, Line: t.Line})
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
		fh, err := req.Open(path) // streamed: a fingerprints file can be large
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
	notices = append(notices, c.names.list()...)
	for _, la := range s.Accounts {
		if la.Unmapped != "" {
			notices = append(notices, Notice{Source: req.Source, Msg: fmt.Sprintf("%s: account %s: %s", p.name, excerpt.Cut(la.Address, excerpt.MaxRunes), la.Unmapped)})
		}
	}
	return s, notices, nil
}

// estimateRows estimates the lines of a file from the size of the whole
// and the lines of its first 64 KB, with a margin, so that the rows of a
// large file are allocated once.
func estimateRows(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	head := make([]byte, 64<<10)
	n, _ := f.ReadAt(head, 0)
	lines := bytes.Count(head[:n], []byte{'\n'})
	if n == 0 || lines == 0 {
		return 1
	}
	est := fi.Size() * int64(lines) / int64(n)
	est += est/32 + 16
	// A row's line has at least three tabs, 40 hex digits and a line feed:
	// blank lines at the start cannot make the estimate exceed that.
	return int(min(est, fi.Size()/44+1))
}

// collapseRows collapses the rows of one fingerprints file as libotr does:
// rows with the same account, protocol, contact and fingerprint become the
// first of them, with the last one's trust.
func collapseRows(rows []keysync.KnownFingerprint) []keysync.KnownFingerprint {
	// Rows of one account and protocol share their Origin; the username
	// is ContactName, or Contact when that is the same.
	type rowKey struct {
		origin   *keysync.Origin
		username string
		fp       keysync.Fingerprint
	}
	return collapse.Rows(rows,
		func(f *keysync.KnownFingerprint) rowKey {
			user := f.ContactName
			if user == "" {
				user = f.Contact
			}
			return rowKey{f.Origin, user, f.Fingerprint}
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
		for _, o := range la.Origins {
			if o.App == n.p.name {
				name, protocol, why = o.Name, o.Protocol, ""
				break
			}
		}
	case n.p.only != "" && la.Protocol != n.p.only:
		why = fmt.Sprintf("%s holds only %s accounts", n.p.name, strings.ToUpper(n.p.only))
	default:
		name, protocol, why = n.m.native(spelledAccount(la))
	}
	n.cache[la.Account] = [3]string{name, protocol, why}
	return name, protocol, why
}

// Write plans the app's files in dir. It holds only OTR keys and
// fingerprints.
func (p *libotrApp) Write(dir, source string, s *keysync.Model) (Plan, []Notice, error) {
	m, err := p.mapper(dir)
	if err != nil {
		return Plan{}, nil, err
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
	var tagsLeft []string // the other stores of this app whose tags were not copied
	for _, la := range s.Accounts {
		name, protocol, why := n.name(la)
		for _, k := range la.Keys {
			dsa, ok := k.PrivateKey.(*keysync.DSAKey)
			if !ok {
				noteSkip(la.Account, "libotr holds only "+keysync.OTRDSA.String()+" keys", "private key")
				continue
			}
			kn, kp := name, protocol
			if k.Origin.App == p.name {
				kn, kp = k.Origin.Name, k.Origin.Protocol
			} else if why != "" {
				noteSkip(la.Account, why, "private key")
				continue
			}
			keys.add(k.Origin.Source, k.Line, libotr.PrivKey{Name: kn, Protocol: kp, Key: dsa})
		}
		if p.tagFile == "" {
			continue
		}
		t, ok, others := pickTag(la.InstanceTags, p.name, dir)
		if ok {
			tagRows.add(t.Origin.Source, t.Line, libotr.InstanceTag{Account: t.Origin.Name, Protocol: t.Origin.Protocol, Tag: t.Tag})
		}
		for _, o := range others {
			if !slices.Contains(tagsLeft, o) {
				tagsLeft = append(tagsLeft, o)
			}
		}
	}

	fps := &fingerprintRows{p: p, n: n, byAccount: byAccount, fps: s.Fingerprints}
	nrows := fps.count(func(a keysync.Account, why string) { noteSkip(a, why, "fingerprint") })

	var plan Plan
	if keys := keys.sorted(); len(keys) > 0 {
		var b bytes.Buffer
		if err := libotr.WritePrivKeys(&b, keys); err != nil {
			return Plan{}, nil, err
		}
		plan.Files = append(plan.Files, File{Path: filepath.Join(dir, p.keyFile), Content: atomicfile.Bytes(b.Bytes()), Secret: true,
			Summary: count(len(keys), "private key")})
	}
	if nrows > 0 {
		plan.Files = append(plan.Files, File{Path: filepath.Join(dir, p.fpFile), Content: fps,
			Summary: count(nrows, "fingerprint")})
	}
	if tags := tagRows.sorted(); len(tags) > 0 {
		var b bytes.Buffer
		if err := libotr.WriteInstanceTags(&b, tags); err != nil {
			return Plan{}, nil, err
		}
		plan.Files = append(plan.Files, File{Path: filepath.Join(dir, p.tagFile), Content: atomicfile.Bytes(b.Bytes()),
			Summary: count(len(tags), "instance tag")})
	}

	var notices []Notice
	slices.Sort(tagsLeft)
	for _, o := range tagsLeft {
		notices = append(notices, Notice{Source: source, Msg: fmt.Sprintf("%s: instance tags of %s not copied: an instance tag names one installation (libotr makes a new one)", source, o)})
	}
	for _, a := range skipOrder {
		sk := skipped[a]
		notices = append(notices, Notice{Source: source, Msg: fmt.Sprintf("%s: skipped %s (%s): %s", p.name, excerpt.Cut(a.String(), excerpt.MaxRunes), sk.describe(), sk.why)})
	}
	if n := len(s.OpenPGPKeys); n > 0 {
		notices = append(notices, Notice{Source: source, Msg: fmt.Sprintf("%s: skipped %s: libotr holds only %s keys", p.name, count(n, "OpenPGP key"), keysync.OTRDSA)})
	}
	return plan, notices, nil
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

// onlyOTR is why a libotr app skips a fingerprint of another kind.
var onlyOTR = "libotr holds only " + keysync.OTRDSA.String() + " fingerprints"

// count returns the number of rows the file holds and calls skip for
// every fingerprint the app cannot hold.
func (r *fingerprintRows) count(skip func(a keysync.Account, why string)) int {
	n := 0
	r.each(func(row *libotr.FingerprintRow, local keysync.Account, why string) {
		if why != "" {
			skip(local, why)
			return
		}
		n++
	})
	return n
}

// WriteTo writes the file in chunks of rows.
func (r *fingerprintRows) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	rows := make([]libotr.FingerprintRow, 0, 4096)
	var err error
	r.each(func(row *libotr.FingerprintRow, _ keysync.Account, why string) {
		if why != "" || err != nil {
			return
		}
		rows = append(rows, *row)
		if len(rows) == cap(rows) {
			err = libotr.WriteFingerprints(cw, rows)
			rows = rows[:0]
		}
	})
	if err == nil {
		err = libotr.WriteFingerprints(cw, rows)
	}
	return cw.n, err
}

// each calls fn with the libotr row of every fingerprint, in order, and
// with why the app cannot hold it ("" when it can).
func (r *fingerprintRows) each(fn func(row *libotr.FingerprintRow, local keysync.Account, why string)) {
	var last *keysync.LocalAccount
	var name, protocol, why string
	var row libotr.FingerprintRow
	for i := range r.fps {
		f := &r.fps[i]
		if f.Fingerprint.Kind != keysync.OTRDSA {
			fn(&row, f.Origin.Local, onlyOTR)
			continue
		}
		if f.Origin.App == r.p.name {
			user := f.Contact
			if f.ContactName != "" {
				user = f.ContactName
			}
			row = libotr.FingerprintRow{Username: user, Account: f.Origin.Name,
				Protocol: f.Origin.Protocol, Fingerprint: f.Fingerprint, Trust: f.Trust}
			fn(&row, f.Origin.Local, "")
			continue
		}
		if last == nil || f.Origin.Local != last.Account { // rows come grouped by account
			last = r.byAccount[f.Origin.Local]
			if last == nil {
				last = &keysync.LocalAccount{Account: f.Origin.Local}
			}
			name, protocol, why = r.n.name(last)
		}
		row = libotr.FingerprintRow{Username: spelledContact(f), Account: name,
			Protocol: protocol, Fingerprint: f.Fingerprint, Trust: f.Trust}
		fn(&row, last.Account, why)
	}
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

// Write writes p and counts its bytes.
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

// pickTag chooses the instance tag to write for an account into the
// store of appName in dir: its own, read from that store (that folder,
// however spelled). An instance tag names one installation (libotr's file
// says not to copy it; doc/formats.md §4), so a tag of another store is
// never written, not even one of the same app: libotr makes a new one.
// others lists the other stores of appName that had a tag for the account.
func pickTag(tags []keysync.InstanceTag, appName, dir string) (t keysync.InstanceTag, ok bool, others []string) {
	for _, x := range tags {
		if x.Origin.App != appName {
			continue
		}
		if !ok && storeIn(x.Origin.Source, appName, dir) {
			t, ok = x, true
		} else if !storeIn(x.Origin.Source, appName, dir) {
			others = append(others, x.Origin.Source)
		}
	}
	return t, ok, others
}

// storeIn reports whether source, a store's name ("APP:DIR", see
// Location), is the store of appName in dir: the same folder, however
// spelled.
func storeIn(source, appName, dir string) bool {
	app, sdir, ok := strings.Cut(source, ":")
	if !ok || app != appName {
		return false
	}
	a, err1 := filepath.Abs(sdir)
	b, err2 := filepath.Abs(dir)
	if err1 == nil && err2 == nil && a == b {
		return true
	}
	fa, err1 := os.Stat(sdir)
	fb, err2 := os.Stat(dir)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// homeDir joins path elements to the user's home folder.
func homeDir(elem ...string) (string, error) {
	h, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{h}, elem...)...), nil
}
