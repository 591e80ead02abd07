package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/spf13/cobra"
)

// newShowCmd returns `keysync show`, which prints the merged trust model of
// one or more app stores.
func newShowCmd() *cobra.Command {
	var froms []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --from APP[:DIR] ... [--json]",
		Short: "Print the merged trust model of app stores",
		Long: "Read the OTR trust store of every --from app (in DIR, or the app's\n" +
			"default folder), merge them and print, per local account, its app\n" +
			"spellings, private key fingerprints, instance tags and the contacts'\n" +
			"fingerprints with their trust; then the conflicts between the stores and\n" +
			"the notices of the readers. Private key material is never printed.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runShow(cmd.OutOrStdout(), froms, asJSON)
		},
	}
	cmd.Flags().StringArrayVar(&froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// newConvertCmd returns `keysync convert`, which merges app stores and
// writes the result into other apps' stores.
func newConvertCmd() *cobra.Command {
	var o convertOptions
	cmd := &cobra.Command{
		Use:   "convert --from APP[:DIR] ... --to APP[:DIR] ... [--prefer APP[:DIR]] [--dry-run]",
		Short: "Merge app stores and write the result into other apps' stores",
		Long: "Read every --from store and the existing store of every --to app, merge\n" +
			"them (the --from stores first, in the order given; the targets' own\n" +
			"stores last) and write the result into every --to app, atomically, keeping\n" +
			"a backup of each file replaced. If the stores disagree on a private key or\n" +
			"a trust value, nothing is written unless --prefer names the store whose\n" +
			"side wins. --dry-run prints what would change without writing.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConvert(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringArrayVar(&o.froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().StringArrayVar(&o.tos, "to", nil, "store to write, as APP or APP:DIR (repeatable)")
	cmd.Flags().StringVar(&o.prefer, "prefer", "", "store whose side wins conflicts, as APP or APP:DIR")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would change, write nothing")
	return cmd
}

// parseStores parses every argument of one flag and refuses duplicates.
func parseStores(flag string, args []string) ([]app.Store, error) {
	var out []app.Store
	for _, arg := range args {
		s, err := app.ParseStore(arg)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		for _, o := range out {
			if o.Name == s.Name {
				return nil, fmt.Errorf("--%s: %s given twice", flag, s.Name)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func runShow(w io.Writer, froms []string, asJSON bool) error {
	if len(froms) == 0 {
		return errors.New("show: name at least one store with --from APP[:DIR]")
	}
	stores, err := parseStores("from", froms)
	if err != nil {
		return err
	}
	sources, notices, err := app.ReadAll(stores)
	if err != nil {
		return err
	}
	merged, conflicts := keysync.Merge(sources, "")
	r := newReport(stores, merged, conflicts, notices)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.writeText(w)
}

// convertOptions are the flags of `keysync convert`.
type convertOptions struct {
	froms, tos []string
	prefer     string
	dryRun     bool
}

// planned is one file a target's writer produced, with its planned change.
type planned struct {
	atomicfile.Change
	summary string
}

func runConvert(stdout, stderr io.Writer, o convertOptions) error {
	if len(o.froms) == 0 || len(o.tos) == 0 {
		return errors.New("convert: name at least one --from APP[:DIR] and one --to APP[:DIR]")
	}
	froms, err := parseStores("from", o.froms)
	if err != nil {
		return err
	}
	tos, err := parseStores("to", o.tos)
	if err != nil {
		return err
	}
	prefer := ""
	if o.prefer != "" {
		if prefer, err = resolvePrefer(o.prefer, append(append([]app.Store(nil), froms...), tos...)); err != nil {
			return fmt.Errorf("--prefer: %w", err)
		}
	}

	conv, err := app.Convert(froms, tos, prefer)
	if err != nil {
		return err
	}
	if conv.Unresolved > 0 {
		writeNotices(stderr, conv.Notices)
		fmt.Fprintln(stderr, "conflicts:")
		for _, c := range conv.Conflicts {
			writeConflict(stderr, newConflictView(c))
		}
		return fmt.Errorf("%d unresolved %s; nothing written (choose the side that wins with --prefer APP[:DIR])",
			conv.Unresolved, plural(conv.Unresolved, "conflict", "conflicts"))
	}
	var files []atomicfile.File
	var summaries []string
	for _, f := range conv.Files {
		files = append(files, atomicfile.File{Path: f.Path, Content: f.Content, Secret: f.Secret})
		summaries = append(summaries, f.Summary)
	}
	changes, err := atomicfile.Plan(files)
	if err != nil {
		return err
	}
	writeNotices(stderr, conv.Notices)
	for _, c := range conv.Conflicts {
		fmt.Fprintf(stderr, "note: %s\n", conflictLine(newConflictView(c)))
	}
	if o.dryRun {
		for i, c := range changes {
			if err := writeDryRun(stdout, planned{c, summaries[i]}); err != nil {
				return err
			}
		}
		return nil
	}
	results, err := atomicfile.Apply(changes)
	if err != nil {
		return err
	}
	for i, r := range results {
		line := map[atomicfile.Op]string{
			atomicfile.Unchanged: "unchanged ", atomicfile.Create: "created ", atomicfile.Replace: "replaced ",
		}[r.Op] + r.Path
		if summaries[i] != "" {
			line += " (" + summaries[i] + ")"
		}
		if r.Backup != "" {
			line += ", backup " + r.Backup
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// writeDryRun prints what applying p would do. Secret files get counts
// only, never their lines.
func writeDryRun(w io.Writer, p planned) error {
	what := ""
	if p.summary != "" {
		what = " (" + p.summary + ")"
	}
	if p.Op == atomicfile.Unchanged {
		fmt.Fprintf(w, "would leave %s unchanged%s\n", p.Path, what)
		return nil
	}
	added, removed, err := p.Lines()
	if err != nil {
		return err
	}
	counts := fmt.Sprintf("%d %s added, %d removed", len(added), plural(len(added), "line", "lines"), len(removed))
	if p.Secret {
		fmt.Fprintf(w, "would %s %s%s: %s (secret, contents not shown)\n", p.Op, p.Path, what, counts)
		return nil
	}
	fmt.Fprintf(w, "would %s %s%s: %s\n", p.Op, p.Path, what, counts)
	for _, l := range removed {
		fmt.Fprintf(w, "  - %s\n", displayLine(l))
	}
	for _, l := range added {
		fmt.Fprintf(w, "  + %s\n", displayLine(l))
	}
	return nil
}

func writeNotices(w io.Writer, notices []app.Notice) {
	for _, n := range notices {
		fmt.Fprintf(w, "note: %s\n", n.String())
	}
}

// resolvePrefer returns the name of the store that arg names: the store
// APP:DIR (DIR cleaned) or, for a bare APP, the app's default folder or
// else the only store of that app.
func resolvePrefer(arg string, stores []app.Store) (string, error) {
	p, err := app.ParseStore(arg)
	if err == nil && namesStore(stores, p.Name) {
		return p.Name, nil
	}
	if !strings.Contains(arg, ":") {
		var match []string
		for _, s := range stores {
			if s.App.Name() == arg {
				match = append(match, s.Name)
			}
		}
		switch len(match) {
		case 1:
			return match[0], nil
		case 0:
		default:
			return "", fmt.Errorf("%s names %s; say which as APP:DIR", arg, strings.Join(match, " and "))
		}
	}
	if err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s is none of the --from or --to stores", p.Name)
}

func namesStore(stores []app.Store, name string) bool {
	for _, s := range stores {
		if s.Name == name {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// report is the output of `keysync show`, as text or JSON. The JSON field
// names are part of the interface (see keysync.1.md).
type report struct {
	Sources   []string       `json:"sources"`
	Accounts  []accountView  `json:"accounts"`
	Conflicts []conflictView `json:"conflicts"`
	Notices   []noticeView   `json:"notices"`
}

type accountView struct {
	Account      string         `json:"account"` // "protocol:address"
	Protocol     string         `json:"protocol"`
	Address      string         `json:"address"`
	Unmapped     string         `json:"unmapped"` // why the address is an app's raw name, or ""
	Spellings    []spellingView `json:"spellings"`
	Keys         []keyView      `json:"keys"`
	InstanceTags []tagView      `json:"instance_tags"`
	Contacts     []contactView  `json:"contacts"`
}

type spellingView struct {
	App      string `json:"app"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
}

type keyView struct {
	Fingerprint string `json:"fingerprint"` // libotr's human form
	Source      string `json:"source"`
	Invalid     string `json:"invalid"` // why Validate refused the key, or ""
}

type tagView struct {
	Tag    string `json:"tag"` // 8 hex digits
	Source string `json:"source"`
}

type contactView struct {
	Contact      string            `json:"contact"`
	Fingerprints []fingerprintView `json:"fingerprints"`
}

type fingerprintView struct {
	Fingerprint string `json:"fingerprint"` // libotr's human form
	Trust       string `json:"trust"`       // verbatim; "" is unverified
	Trusted     bool   `json:"trusted"`
	Source      string `json:"source"`
}

type conflictView struct {
	Kind        string      `json:"kind"` // "private key" or "trust"
	Account     string      `json:"account"`
	Contact     string      `json:"contact"`     // trust conflicts only
	Fingerprint string      `json:"fingerprint"` // trust conflicts only
	Values      []valueView `json:"values"`
	Winner      string      `json:"winner"` // "" when unresolved
}

type valueView struct {
	Source string `json:"source"`
	Value  string `json:"value"`
}

type noticeView struct {
	Source  string `json:"source"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// newReport builds the report of a merged store. Accounts keep the store's
// order; accounts known only from fingerprints follow, in the order they
// first appear; contacts and fingerprints keep the store's order.
func newReport(stores []app.Store, s *keysync.Store, conflicts []keysync.Conflict, notices []app.Notice) *report {
	r := &report{Sources: []string{}, Accounts: []accountView{}, Conflicts: []conflictView{}, Notices: []noticeView{}}
	for _, st := range stores {
		r.Sources = append(r.Sources, st.Name)
	}
	index := map[keysync.Account]int{}
	add := func(la *keysync.LocalAccount) {
		index[la.Account] = len(r.Accounts)
		v := accountView{
			Account: la.Account.String(), Protocol: la.Protocol, Address: la.Address, Unmapped: la.Unmapped,
			Spellings: []spellingView{}, Keys: []keyView{}, InstanceTags: []tagView{}, Contacts: []contactView{},
		}
		for _, sp := range la.Spellings {
			v.Spellings = append(v.Spellings, spellingView{sp.App, sp.Name, sp.Protocol})
		}
		for _, k := range la.Keys {
			kv := keyView{Source: k.Source}
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
			v.InstanceTags = append(v.InstanceTags, tagView{fmt.Sprintf("%08x", t.Tag), t.Source})
		}
		r.Accounts = append(r.Accounts, v)
	}
	for _, la := range s.Accounts {
		if _, dup := index[la.Account]; !dup {
			add(la)
		}
	}
	type contactKey struct {
		local   keysync.Account
		contact string
	}
	contacts := map[contactKey]int{} // index in its account's Contacts
	for _, f := range s.Fingerprints {
		i, ok := index[f.Local()]
		if !ok {
			add(&keysync.LocalAccount{Account: f.Local()})
			i = index[f.Local()]
		}
		a := &r.Accounts[i]
		ck := contactKey{f.Local(), f.Contact}
		ci, ok := contacts[ck]
		if !ok {
			ci = len(a.Contacts)
			contacts[ck] = ci
			a.Contacts = append(a.Contacts, contactView{Contact: f.Contact, Fingerprints: []fingerprintView{}})
		}
		c := &a.Contacts[ci]
		fv := fingerprintView{Fingerprint: f.Fingerprint.Human(), Trust: string(f.Trust), Trusted: f.Trust.Trusted()}
		if f.Origin != nil {
			fv.Source = f.Origin.Source
		}
		c.Fingerprints = append(c.Fingerprints, fv)
	}
	for _, c := range conflicts {
		r.Conflicts = append(r.Conflicts, newConflictView(c))
	}
	for _, n := range notices {
		r.Notices = append(r.Notices, noticeView{Source: n.Source, File: n.File, Line: n.Line, Message: n.Msg})
	}
	return r
}

func newConflictView(c keysync.Conflict) conflictView {
	v := conflictView{Kind: string(c.Kind), Account: c.Account.String(), Values: []valueView{}, Winner: c.Winner}
	if c.Kind == keysync.TrustConflict {
		v.Contact = c.Contact
		v.Fingerprint = c.Fingerprint.Human()
	}
	for _, x := range c.Values {
		v.Values = append(v.Values, valueView{x.Source, x.Value})
	}
	return v
}

// writeText prints the report for people. Names read from files are
// quoted when they hold spaces or unprintable characters.
func (r *report) writeText(w io.Writer) error {
	var b strings.Builder
	q := quoteIfNeeded
	for _, s := range r.Sources {
		fmt.Fprintf(&b, "source %s\n", q(s))
	}
	for _, a := range r.Accounts {
		fmt.Fprintf(&b, "\naccount %s\n", q(a.Account))
		if a.Unmapped != "" {
			fmt.Fprintf(&b, "  unmapped: %s\n", a.Unmapped)
		}
		for _, sp := range a.Spellings {
			fmt.Fprintf(&b, "  spelling %s: %s %s\n", sp.App, strconv.Quote(sp.Name), q(sp.Protocol))
		}
		for _, k := range a.Keys {
			fmt.Fprintf(&b, "  key %s from %s", k.Fingerprint, q(k.Source))
			if k.Invalid != "" {
				fmt.Fprintf(&b, " INVALID: %s", k.Invalid)
			}
			b.WriteByte('\n')
		}
		for _, t := range a.InstanceTags {
			fmt.Fprintf(&b, "  instance tag %s from %s\n", t.Tag, q(t.Source))
		}
		for _, c := range a.Contacts {
			fmt.Fprintf(&b, "  contact %s\n", q(c.Contact))
			for _, f := range c.Fingerprints {
				trust := q(f.Trust)
				if f.Trust == "" {
					trust = "(unverified)"
				}
				fmt.Fprintf(&b, "    %s %s from %s\n", f.Fingerprint, trust, q(f.Source))
			}
		}
	}
	b.WriteByte('\n')
	if len(r.Conflicts) == 0 {
		b.WriteString("conflicts: none\n")
	} else {
		b.WriteString("conflicts:\n")
		for _, c := range r.Conflicts {
			writeConflict(&b, c)
		}
	}
	if len(r.Notices) == 0 {
		b.WriteString("notices: none\n")
	} else {
		b.WriteString("notices:\n")
		for _, n := range r.Notices {
			fmt.Fprintf(&b, "  %s\n", app.Notice{File: n.File, Line: n.Line, Msg: n.Message})
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// conflictLine describes a conflict in one line, without its values.
func conflictLine(c conflictView) string {
	s := c.Kind + " of " + quoteIfNeeded(c.Account)
	if c.Contact != "" {
		s += " for contact " + quoteIfNeeded(c.Contact) + " fingerprint " + c.Fingerprint
	}
	if c.Winner == "" {
		return s + ": unresolved"
	}
	return s + ": settled by --prefer " + quoteIfNeeded(c.Winner)
}

func writeConflict(w io.Writer, c conflictView) {
	fmt.Fprintf(w, "  %s\n", conflictLine(c))
	for _, v := range c.Values {
		val := quoteIfNeeded(v.Value)
		if c.Kind == string(keysync.KeyConflict) {
			val = v.Value // a human fingerprint, spaces and all
		} else if v.Value == "" {
			val = "(unverified)"
		}
		fmt.Fprintf(w, "    %s: %s\n", quoteIfNeeded(v.Source), val)
	}
}

// displayLine returns a line of a file as is, tabs included, or quoted if
// it holds other characters that are not printable.
func displayLine(s string) string {
	for _, r := range s {
		if r != '\t' && !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// quoteIfNeeded returns s, or s quoted if it is empty or holds spaces or
// characters that are not printable, so that names from files cannot
// disguise themselves or drive the terminal.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}
