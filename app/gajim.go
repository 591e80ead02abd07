package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/libotr"
	"github.com/keysync/keysync/format/potr"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/collapse"
	"github.com/keysync/keysync/internal/excerpt"
)

func init() { register(gajimApp{}) }

// gajimApp is Gajim with its OTR plugin gotr (doc/formats.md §6.5): per
// Gajim account section <acct>, potr's key in <acct>.key3 and libotr's
// fingerprint columns in <acct>.fpr, both in Gajim's data folder; the
// accounts' JIDs come from Gajim's config, in its config folder. With
// gajim:DIR all three files are in DIR.
type gajimApp struct{}

// gajimProtocols: gotr writes "xmpp" in every row, for every account.
var gajimProtocols = protocols{known: []protocolSpelling{{"xmpp", []string{gajimProtocol}}}}

// gajimProtocol is gotr's PROTOCOL.
const gajimProtocol = "xmpp"

// Name returns "gajim".
func (gajimApp) Name() string          { return "gajim" }
func (gajimApp) spellings() *protocols { return &gajimProtocols }

// ProcessNames returns the names Gajim runs under: its launcher script,
// or gajim.exe on Windows. A running Gajim rewrites its fingerprints from
// memory.
func (gajimApp) ProcessNames() []string { return []string{"gajim"} }

// DefaultDir returns Gajim's data folder, where the key and fingerprint
// files are; Read and Write find the config in the config folder.
func (gajimApp) DefaultDir() (string, error) { d, _, err := gajimDirs(); return d, err }

// gajimDirs returns Gajim's data and config folders on this OS, as
// Gajim's configpaths.py has them: %APPDATA%\Gajim for both on Windows,
// else (Linux, macOS, BSD) the XDG folders $XDG_DATA_HOME/gajim
// (~/.local/share/gajim) and $XDG_CONFIG_HOME/gajim (~/.config/gajim).
func gajimDirs() (data, config string, err error) {
	if runtime.GOOS == "windows" {
		d := os.Getenv("APPDATA")
		if d == "" {
			return "", "", errors.New("gajim: %APPDATA% is not set; name the folder as gajim:DIR")
		}
		return filepath.Join(d, "Gajim"), filepath.Join(d, "Gajim"), nil
	}
	xdg := func(env string, elem ...string) (string, error) {
		if d := os.Getenv(env); d != "" {
			return filepath.Join(d, "gajim"), nil
		}
		return homeDir(append(elem, "gajim")...)
	}
	if data, err = xdg("XDG_DATA_HOME", ".local", "share"); err != nil {
		return "", "", err
	}
	if config, err = xdg("XDG_CONFIG_HOME", ".config"); err != nil {
		return "", "", err
	}
	return data, config, nil
}

// gajimConfigPath returns where the config of the store in dir is: in
// dir, unless dir is Gajim's default data folder, whose config is in the
// default config folder. (Gajim on Windows names it Config, which its
// file system finds as config.)
func gajimConfigPath(dir string) string {
	if data, config, err := gajimDirs(); err == nil && filepath.Clean(dir) == filepath.Clean(data) {
		return filepath.Join(config, "config")
	}
	return filepath.Join(dir, "config")
}

// gajimAccount is one account section of Gajim's config: the lines
// accounts.<section>.<option> = <value>.
type gajimAccount struct {
	section                  string
	name, hostname, resource string
	zeroconf                 bool // Gajim's link-local (Bonjour) account
	line                     int  // the section's first line
}

// jid is the account's JID as Gajim and gotr make it (get_jid_from_account):
// name@hostname, byte for byte.
func (a *gajimAccount) jid() string { return a.name + "@" + a.hostname }

// account returns the account in the model, or why there is none.
func (a *gajimAccount) account() (keysync.Account, string) {
	if a.name == "" || a.hostname == "" {
		return keysync.Account{}, "account " + excerpt.Quote(a.section) + " of Gajim's config has no name or hostname"
	}
	proto := "xmpp"
	if a.zeroconf {
		proto = "bonjour"
	}
	return keysync.Account{Protocol: proto, Address: canonicalAddress(proto, a.jid())}, ""
}

// spelling is the Origin name of the account: its JID with the resource.
func (a *gajimAccount) spelling() string { return a.jid() + "/" + a.resource }

// Bounds on Gajim's config: a larger file is an error rather than held in
// memory (a real one has tens of kilobytes), and so are more account
// sections.
const (
	maxGajimConfigSize = 16 << 20
	maxGajimAccounts   = 1 << 12
)

// gajimOption is Gajim's own pattern for a config line (optparser.py):
// optname, then optionally .key.subname, " = ", value. Its \s is
// Python's, which takes Unicode's spaces and separators too.
var gajimOption = regexp.MustCompile(`^([^.=]+)(?:(?:\.(.+))?\.([^.=]+))?` + pyspace + `=` + pyspace + `(.*)`)

// pyspace is Python's \s in a str pattern: str.isspace.
const pyspace = `[\t\n\v\f\r \x{1c}-\x{1f}\x{85}\p{Z}]`

// readGajimConfig reads the account sections of Gajim's config, in the
// order of their first lines, as Gajim reads them: UTF-8 lines ended by
// LF, CRLF or CR (Python's text mode), each matching Gajim's pattern, a
// later value of an option replacing an earlier one. Gajim writes nothing
// else; a blank line is ignored, and any other line is an error naming the
// file and line, for a file that is not Gajim's must not pass as a config
// without accounts (Gajim itself stops at bytes that are not UTF-8).
// Nothing of the file's content appears in errors (it holds passwords).
func readGajimConfig(r io.Reader, path string) ([]*gajimAccount, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxGajimConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxGajimConfigSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, not a Gajim config", path, maxGajimConfigSize>>20)
	}
	bySection := map[string]*gajimAccount{}
	var list []*gajimAccount
	var b []byte
	for line := 1; len(data) > 0; line++ {
		end := bytes.IndexAny(data, "\r\n")
		next := len(data)
		if end < 0 {
			end = len(data)
		} else {
			next = end + 1
			if data[end] == '\r' && next < len(data) && data[next] == '\n' {
				next++
			}
		}
		text := data[:end]
		// The line as Python reads it: its end, if any, as LF.
		b = append(b[:0], text...)
		if next > end {
			b = append(b, '\n')
		}
		data = data[next:]
		switch {
		case !utf8.Valid(text):
			return nil, fmt.Errorf("%s:%d: not UTF-8 text, which Gajim cannot read", path, line)
		case len(bytes.TrimSpace(text)) == 0:
			continue
		}
		m := gajimOption.FindSubmatchIndex(b)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: not a line of Gajim's config (option = value)", path, line)
		}
		if bytes.HasPrefix(b, []byte("accounts.")) {
			if err := addGajimOption(b, m, line, bySection, &list); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
		}
	}
	return list, nil
}

// addGajimOption records one accounts.… line of the config.
// m is the match of gajimOption in b.
func addGajimOption(b []byte, m []int, line int, bySection map[string]*gajimAccount, list *[]*gajimAccount) error {
	if m[4] < 0 { // not an option of a section
		return nil
	}
	section, option, value := string(b[m[4]:m[5]]), string(b[m[6]:m[7]]), string(b[m[8]:m[9]])
	a := bySection[section]
	if a == nil {
		if len(*list) == maxGajimAccounts {
			return fmt.Errorf("more than %d account sections", maxGajimAccounts)
		}
		a = &gajimAccount{section: section, line: line}
		bySection[section] = a
		*list = append(*list, a)
	}
	switch option {
	case "name":
		a.name = value
	case "hostname":
		a.hostname = value
	case "resource":
		a.resource = value
	case "is_zeroconf":
		n, err := strconv.Atoi(value) // Gajim's booleans: True, False or a number
		a.zeroconf = value == "True" || (err == nil && n != 0)
	}
	return nil
}

// gajimConfig is what a store's config says: its accounts, or why there
// are none.
type gajimConfig struct {
	path      string
	accounts  []*gajimAccount
	bySection map[string]*gajimAccount
	missing   bool
}

// section returns the account section called name, or nil.
func (c *gajimConfig) section(name string) *gajimAccount { return c.bySection[name] }

// loadGajimConfig reads the config of the store in dir; open opens it.
func loadGajimConfig(dir string, open func(string) (io.ReadCloser, error)) (*gajimConfig, error) {
	c := &gajimConfig{path: gajimConfigPath(dir)}
	f, err := open(c.path)
	if isNotExist(err) {
		c.missing = true
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if c.accounts, err = readGajimConfig(f, c.path); err != nil {
		return nil, err
	}
	c.bySection = make(map[string]*gajimAccount, len(c.accounts))
	for _, a := range c.accounts {
		c.bySection[a.section] = a
	}
	return c, nil
}

// gajimStems lists the account sections that have a .key3 or .fpr file in
// dir, in name order.
func gajimStems(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var stems []string
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		stem := strings.TrimSuffix(strings.TrimSuffix(name, ".key3"), ".fpr")
		if stem == name || stem == "" || e.IsDir() || seen[stem] {
			continue
		}
		seen[stem] = true
		stems = append(stems, stem)
	}
	sort.Strings(stems)
	return stems, nil
}

// Read reads every <acct>.key3 and <acct>.fpr in req.Dir and maps them
// through Gajim's config. Rows of a .fpr that gotr ignores (another
// account's JID or another protocol) are reported and left out; without
// the account in the config, a key is kept unmapped and rows are filed
// under their account column.
func (g gajimApp) Read(req ReadRequest) (*keysync.Model, []Notice, error) {
	dir := req.Dir
	stems, err := gajimStems(dir)
	if err != nil && !isNotExist(err) {
		return nil, nil, err
	}
	if len(stems) == 0 {
		return nil, nil, fmt.Errorf("gajim: %w in %s", ErrNoStore, dir)
	}
	cfg, err := loadGajimConfig(dir, req.Open)
	if err != nil {
		return nil, nil, err
	}
	// Sections in the config's order, then files without one by name.
	line := func(stem string) int {
		if a := cfg.section(stem); a != nil {
			return a.line
		}
		return math.MaxInt
	}
	sort.SliceStable(stems, func(i, j int) bool { return line(stems[i]) < line(stems[j]) })
	r := &gajimReader{req: req, cfg: cfg, model: &keysync.Model{}, origins: map[[2]string]*keysync.Origin{}}
	for _, stem := range stems {
		if err := r.readSection(stem); err != nil {
			return nil, nil, err
		}
	}
	r.notices = append(r.notices, r.names.list()...)
	for i := range r.notices {
		r.notices[i].Source = req.Source
	}
	return r.model, r.notices, nil
}

type gajimReader struct {
	req     ReadRequest
	cfg     *gajimConfig
	model   *keysync.Model
	origins map[[2]string]*keysync.Origin // by (name, unmapped reason)
	notices []Notice
	names   nameNotices
}

// origin returns the shared Origin of account a spelled name, adding the
// account to the model.
func (r *gajimReader) origin(a keysync.Account, name, unmapped string) *keysync.Origin {
	k := [2]string{a.String() + "\x00" + name, unmapped}
	if o, ok := r.origins[k]; ok {
		return o
	}
	la := r.model.AddAccount(a)
	if unmapped != "" {
		la.Unmapped = unmapped
	}
	o := &keysync.Origin{Source: r.req.Source, App: "gajim", Local: a, Name: name, Protocol: gajimProtocol}
	la.AddOrigin(o)
	r.origins[k] = o
	return o
}

// sectionOrigin returns the Origin of the account section stem, or nil and
// why it is unmapped.
func (r *gajimReader) sectionOrigin(stem string) (*keysync.Origin, *gajimAccount, string) {
	a := r.cfg.section(stem)
	var why string
	switch {
	case r.cfg.missing:
		why = "no Gajim config at " + r.cfg.path
	case a == nil:
		why = "no account " + excerpt.Quote(stem) + " in " + r.cfg.path
	default:
		acct, problem := a.account()
		if problem == "" {
			if _, bad := canonicalAddr(acct.Protocol, a.jid()); bad != "" {
				r.names.add(r.cfg.path, a.line, "account", acct.Protocol, a.jid(), bad)
			}
			return r.origin(acct, a.spelling(), ""), a, ""
		}
		why = problem
	}
	return nil, a, why
}

func (r *gajimReader) readSection(stem string) error {
	o, acct, why := r.sectionOrigin(stem)
	keyPath := filepath.Join(r.req.Dir, stem+".key3")
	fh, err := r.req.Open(keyPath)
	switch {
	case isNotExist(err):
	case err != nil:
		return err
	default:
		k, err := potr.ReadPrivKey(fh, keyPath)
		fh.Close()
		if err != nil {
			return err
		}
		ko, line := o, 0
		if acct != nil {
			line = acct.line
		}
		if ko == nil {
			ko = r.origin(keysync.Account{Protocol: "xmpp", Address: "gajim:" + stem}, stem, why)
			r.notices = append(r.notices, Notice{File: keyPath, Msg: "key of Gajim account " + excerpt.Quote(stem) + " kept unmapped: " + why})
		}
		la := r.model.Account(ko.Local)
		la.Keys = append(la.Keys, keysync.Key{PrivateKey: k, Origin: ko, Line: line})
		if err := k.Validate(); err != nil {
			r.notices = append(r.notices, Notice{File: keyPath,
				Msg: fmt.Sprintf("key of %s, fingerprint %s: %v", excerpt.Quote(stem), k.Fingerprint().Human(), err)})
		}
	}
	fpPath := filepath.Join(r.req.Dir, stem+".fpr")
	fh, err = r.req.Open(fpPath)
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		return err
	}
	defer fh.Close()
	if o == nil {
		r.notices = append(r.notices, Notice{File: fpPath, Msg: "rows of Gajim account " + excerpt.Quote(stem) + " read under their account column: " + why})
	}
	return r.readFingerprints(fh, fpPath, o, acct)
}

// readFingerprints reads a .fpr into the model: with the section's Origin
// o, the rows gotr loads (its JID, protocol xmpp); without, every xmpp row
// under its account column.
func (r *gajimReader) readFingerprints(fh io.Reader, path string, o *keysync.Origin, acct *gajimAccount) error {
	start := len(r.model.Fingerprints)
	ignored, firstIgnored := 0, 0
	var last *keysync.Origin
	err := libotr.ScanFingerprints(fh, path, func(row libotr.FingerprintRow) error {
		if strings.IndexByte(string(row.Trust), '\t') >= 0 { // gotr splits a line into exactly five
			return fmt.Errorf("%s:%d: more than five tab-separated fields, which gotr cannot read", path, row.Line)
		}
		ro := o
		switch {
		case row.Protocol != gajimProtocol || (o != nil && row.Account != acct.jid()):
			if ignored == 0 {
				firstIgnored = row.Line
			}
			ignored++
			return nil
		case o == nil:
			if last == nil || last.Name != row.Account {
				a := keysync.Account{Protocol: "xmpp", Address: canonicalAddress("xmpp", row.Account)}
				if _, bad := canonicalAddr("xmpp", row.Account); bad != "" {
					r.names.add(path, row.Line, "account", "xmpp", row.Account, bad)
				}
				last = r.origin(a, row.Account, "")
			}
			ro = last
		}
		contact, bad := canonicalAddr(ro.Local.Protocol, row.Username)
		if bad != "" {
			r.names.add(path, row.Line, "contact", ro.Local.Protocol, row.Username, bad)
		}
		f := keysync.KnownFingerprint{Contact: contact, Fingerprint: row.Fingerprint, Trust: row.Trust, Origin: ro}
		if contact != row.Username {
			f.ContactName = row.Username
		}
		r.model.Fingerprints = append(r.model.Fingerprints, f)
		return nil
	})
	if err != nil {
		return err
	}
	if ignored > 0 {
		whose := "protocol " + gajimProtocol
		if o != nil {
			whose = "account " + excerpt.Quote(acct.jid()) + " and protocol " + gajimProtocol
		}
		r.notices = append(r.notices, Notice{File: path, Line: firstIgnored,
			Msg: fmt.Sprintf("%s left out: Gajim reads only the rows of %s", count(ignored, "row"), whose)})
	}
	// gotr keeps one trust per (bare JID as written, fingerprint): the
	// last row's, in the first row's place.
	type rowKey struct {
		origin *keysync.Origin
		bare   string
		fp     keysync.Fingerprint
	}
	rows := collapse.Rows(r.model.Fingerprints[start:], func(f *keysync.KnownFingerprint) rowKey {
		user := f.ContactName
		if user == "" {
			user = f.Contact
		}
		bare, _, _ := strings.Cut(user, "/")
		return rowKey{f.Origin, bare, f.Fingerprint}
	}, func(first, dup *keysync.KnownFingerprint) { first.Trust = dup.Trust })
	r.model.Fingerprints = r.model.Fingerprints[:start+len(rows)]
	return nil
}

// Write plans the .key3 and .fpr of every account section of Gajim's
// config in dir whose account the model holds. Gajim finds a key only
// under an account section of its config, which keysync never changes: an
// account without a section is skipped and reported, like what Gajim
// cannot hold at all (accounts of other protocols, keys other than OTR's
// DSA, invalid keys, which potr refuses to load). Files of sections it
// does not write stay as they are.
func (g gajimApp) Write(dir, source string, m *keysync.Model) (Plan, []Notice, error) {
	cfg, err := loadGajimConfig(dir, func(p string) (io.ReadCloser, error) { return os.Open(p) })
	if err != nil {
		return Plan{}, nil, err
	}
	w := &gajimWriter{source: source, skipped: map[keysync.Account]*skip{}}
	var sections []*gajimSection
	byAccount := map[keysync.Account][]*gajimSection{}
	for _, a := range cfg.accounts {
		if acct, problem := a.account(); problem == "" {
			s := &gajimSection{acct: a}
			sections = append(sections, s)
			byAccount[acct] = append(byAccount[acct], s)
		}
	}
	for _, la := range m.Accounts {
		secs := byAccount[la.Account]
		if len(secs) == 0 {
			why := la.Unmapped // a key kept unmapped has no JID to look up
			if why == "" {
				why = gajimWhyNot(la.Account, cfg)
			}
			for range la.Keys {
				w.noteSkip(la.Account, why, "private key")
			}
		}
		for _, s := range secs {
			w.pickKey(s, la, source)
		}
	}
	for i := range m.Fingerprints {
		f := &m.Fingerprints[i]
		secs := byAccount[f.Origin.Local]
		user := f.Contact
		if f.ContactName != "" && f.Origin.App == "gajim" {
			user = f.ContactName // as read: a round trip keeps the file
		}
		switch {
		case len(secs) == 0:
			w.noteSkip(f.Origin.Local, gajimWhyNot(f.Origin.Local, cfg), "fingerprint")
		case f.Fingerprint.Kind != keysync.OTRDSA:
			w.noteSkip(f.Origin.Local, "Gajim holds only "+keysync.OTRDSA.String()+" fingerprints", "fingerprint")
		case strings.ContainsAny(user, "\t\n\r\x00") || strings.ContainsAny(string(f.Trust), "\t\n\r\x00"):
			// gotr splits each line at tabs into exactly five fields.
			w.noteSkip(f.Origin.Local, "a tab, line end or NUL in the contact or trust, which gotr cannot read", "fingerprint")
		case len(user)+len(secs[0].acct.jid())+len(f.Trust)+len(gajimProtocol)+44 > libotr.MaxLineLen:
			w.noteSkip(f.Origin.Local, fmt.Sprintf("a row longer than the %d bytes keysync reads back", libotr.MaxLineLen), "fingerprint")
		default:
			for _, s := range secs {
				s.rows = append(s.rows, libotr.FingerprintRow{Username: user, Account: s.acct.jid(), Protocol: gajimProtocol,
					Fingerprint: f.Fingerprint, Trust: f.Trust})
			}
		}
	}

	var plan Plan
	for _, s := range sections {
		if s.key != nil {
			b, err := potr.AppendPrivKey(nil, s.key)
			if err != nil {
				return Plan{}, nil, fmt.Errorf("key of Gajim account %s: %w", excerpt.Quote(s.acct.section), err)
			}
			plan.Files = append(plan.Files, File{Path: filepath.Join(dir, s.acct.section+".key3"), Content: atomicfile.Bytes(b),
				Secret: true, Summary: "1 private key"})
		}
		if len(s.rows) > 0 {
			var b bytes.Buffer
			if err := libotr.WriteFingerprints(&b, s.rows); err != nil {
				return Plan{}, nil, fmt.Errorf("fingerprints of Gajim account %s: %w", excerpt.Quote(s.acct.section), err)
			}
			plan.Files = append(plan.Files, File{Path: filepath.Join(dir, s.acct.section+".fpr"), Content: atomicfile.Bytes(b.Bytes()),
				Summary: count(len(s.rows), "fingerprint")})
		}
	}
	return plan, w.list(), nil
}

// gajimWhyNot says why Gajim's config cfg has no section for account a.
func gajimWhyNot(a keysync.Account, cfg *gajimConfig) string {
	switch {
	case a.Protocol != "xmpp" && a.Protocol != "bonjour":
		return "Gajim holds only XMPP accounts"
	case cfg.missing:
		return "no Gajim config at " + cfg.path + " to find the account in"
	case a.Protocol == "bonjour":
		return "Gajim's config has no zeroconf account with this address"
	}
	return "Gajim's config has no account with this JID (create it in Gajim first)"
}

// gajimSection is what one account section's files will hold.
type gajimSection struct {
	acct *gajimAccount
	key  *keysync.DSAKey
	rows []libotr.FingerprintRow
}

type gajimWriter struct {
	source  string
	skipped map[keysync.Account]*skip
	order   []keysync.Account
}

func (w *gajimWriter) noteSkip(a keysync.Account, why, what string) {
	sk := w.skipped[a]
	if sk == nil {
		sk = &skip{why: why, counts: map[string]int{}}
		w.skipped[a] = sk
		w.order = append(w.order, a)
	}
	sk.counts[what]++
}

func (w *gajimWriter) list() []Notice {
	var out []Notice
	for _, a := range w.order {
		sk := w.skipped[a]
		out = append(out, Notice{Source: w.source, Msg: fmt.Sprintf("gajim: skipped %s (%s): %s",
			excerpt.Cut(a.String(), excerpt.MaxRunes), sk.describe(), sk.why)})
	}
	return out
}

// pickKey chooses the key of section s among la's: the one read from this
// section of this store if the model still has it, else the first valid
// DSA key. Gajim holds one key per account; the others are reported.
func (w *gajimWriter) pickKey(s *gajimSection, la *keysync.LocalAccount, source string) {
	chosen := -1
	for i, k := range la.Keys {
		if _, ok := k.PrivateKey.(*keysync.DSAKey); ok && k.Origin.App == "gajim" && k.Origin.Source == source && k.Line == s.acct.line {
			chosen = i
			break
		}
	}
	for i := 0; i < len(la.Keys) && chosen < 0; i++ {
		if d, ok := la.Keys[i].PrivateKey.(*keysync.DSAKey); ok && d.Validate() == nil {
			chosen = i
		}
	}
	for i, k := range la.Keys {
		d, ok := k.PrivateKey.(*keysync.DSAKey)
		switch {
		case i == chosen:
			s.key = d
		case !ok:
			w.noteSkip(la.Account, "Gajim holds only "+keysync.OTRDSA.String()+" keys", "private key")
		case d.Validate() != nil:
			w.noteSkip(la.Account, "invalid key, which potr refuses to load", "private key")
		default:
			w.noteSkip(la.Account, "Gajim holds one key per account", "private key")
		}
	}
}
