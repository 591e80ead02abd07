package webui

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/format/ofcaes"
	"github.com/keysync/keysync/internal/atomicfile"
)

// appsData is the Apps page: app.Detect's findings.
type appsData struct {
	Apps []app.Detected
	Note string // why running programs could not be listed
}

func (s *Server) apps(w http.ResponseWriter, r *http.Request) {
	found, err := app.Detect()
	d := appsData{Apps: found}
	if err != nil {
		d.Note = err.Error()
	}
	s.render(w, http.StatusOK, "apps.html", "Apps", d, nil)
}

// stores returns the stores the page merges: Config.Stores, else every
// default store app.Detect finds readable without a password (an
// encrypted ChatSecure file is an export target, not a source here).
func (s *Server) stores() ([]app.Location, error) {
	if s.cfg.Stores != nil {
		return s.cfg.Stores, nil
	}
	found, _ := app.Detect()
	var args []string
	for _, d := range found {
		if d.Found && d.Problem == "" && d.App != "chatsecure" {
			args = append(args, d.App+":"+d.Dir)
		}
	}
	return app.ParseLocations(args)
}

// pageSize is how many contacts the Identities page shows at once;
// maxPage bounds the page number asked for (50M contacts).
const (
	pageSize = 50
	maxPage  = 1 << 20
)

// identitiesData is the Identities page: one page of the merged report.
type identitiesData struct {
	Report   *app.Report
	Filter   string
	Accounts []accountRows
	Shown    int // contacts on this page
	Matched  int // contacts matching the filter
	Page     int
	Pages    int
}

// accountRows is an account with the contacts of this page.
type accountRows struct {
	app.AccountReport
	Contacts []app.ContactReport
}

func (s *Server) identities(w http.ResponseWriter, r *http.Request) {
	locs, err := s.stores()
	if err != nil {
		s.render(w, http.StatusOK, "identities.html", "Identities", identitiesData{}, err)
		return
	}
	rep, err := app.Show(locs, nil)
	if err != nil {
		s.render(w, http.StatusOK, "identities.html", "Identities", identitiesData{}, err)
		return
	}
	filter := strings.TrimSpace(r.URL.Query().Get("q"))
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if pageNo < 1 || pageNo > maxPage {
		pageNo = 1
	}
	d := identitiesData{Report: rep, Filter: filter, Page: pageNo}
	first, last := (pageNo-1)*pageSize, pageNo*pageSize
	lower := strings.ToLower(filter)
	matches := func(fields ...string) bool {
		for _, f := range fields {
			if strings.Contains(strings.ToLower(f), lower) {
				return true
			}
		}
		return false
	}
	for i, a := range rep.Accounts {
		ar := accountRows{AccountReport: a}
		accountMatch := matches(a.Account)
		rep.EachContact(i, func(c app.ContactReport) error {
			ok := filter == "" || accountMatch || matches(c.Contact)
			for _, f := range c.Fingerprints {
				ok = ok || matches(f.Fingerprint, strings.ReplaceAll(f.Fingerprint, " ", ""))
			}
			if !ok {
				return nil
			}
			if d.Matched >= first && d.Matched < last {
				ar.Contacts = append(ar.Contacts, c)
				d.Shown++
			}
			d.Matched++
			return nil
		})
		if len(ar.Contacts) > 0 || (filter == "" && pageNo == 1) || (accountMatch && pageNo == 1) {
			d.Accounts = append(d.Accounts, ar)
		}
	}
	d.Pages = (d.Matched + pageSize - 1) / pageSize
	s.render(w, http.StatusOK, "identities.html", "Identities", d, nil)
}

// previewData is a dry run of settling the conflicts for one store.
type previewData struct {
	Prefer    string
	Conflicts []app.ConflictReport
	Changes   []changeView
	Commands  []string
	Notices   []string
	Results   []string // after writing
}

// changeView is one file's planned change: counts, and the lines of a
// file that holds no secret.
type changeView struct {
	Path, Op, Summary string
	Secret            bool
	Added, Removed    []string
}

// plan runs what `keysync sync STORES... --prefer PREFER` does up to the
// plan: the stores' folders locked, read, merged with prefer and compared
// with the disk. The caller unlocks.
func (s *Server) plan(prefer string) (*app.Locked, *app.Conversion, *app.Prepared, error) {
	locs, err := s.stores()
	if err != nil {
		return nil, nil, nil, err
	}
	// The page names the store exactly, as one of its stores' names.
	name := ""
	for _, l := range locs {
		if l.Name == prefer {
			name = l.Name
		}
	}
	if name == "" {
		return nil, nil, nil, fmt.Errorf("%q is none of the stores shown", prefer)
	}
	if _, err := app.CheckRunning(locs, false, false); err != nil {
		return nil, nil, nil, err
	}
	lock, err := app.LockStores(locs, locs, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	conv, err := app.Convert(locs, locs, name, nil)
	if err == nil {
		err = conv.Err()
	}
	if err != nil {
		lock.Unlock()
		return nil, nil, nil, err
	}
	prepared, err := conv.Plan.Prepare(conv.Seen, false)
	if err != nil {
		lock.Unlock()
		return nil, nil, nil, err
	}
	return lock, conv, prepared, nil
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	prefer := r.PostFormValue("prefer")
	lock, conv, prepared, err := s.plan(prefer)
	if err != nil {
		s.render(w, http.StatusOK, "preview.html", "Identities", previewData{Prefer: prefer}, err)
		return
	}
	defer lock.Unlock()
	d := previewData{Prefer: prefer}
	for _, c := range conv.Conflicts {
		d.Conflicts = append(d.Conflicts, app.NewConflictReport(c))
	}
	for _, n := range conv.Notices {
		d.Notices = append(d.Notices, n.String())
	}
	for _, c := range prepared.Changes {
		v := changeView{Path: c.Path, Op: c.Op.String(), Summary: c.Summary, Secret: c.Secret}
		if c.Op != atomicfile.Unchanged {
			added, removed, err := c.Lines()
			if err != nil {
				s.render(w, http.StatusOK, "preview.html", "Identities", d, err)
				return
			}
			if c.Secret {
				v.Added, v.Removed = make([]string, len(added)), make([]string, len(removed))
			} else {
				v.Added, v.Removed = added, removed
			}
		}
		d.Changes = append(d.Changes, v)
	}
	for _, c := range prepared.Commands {
		d.Commands = append(d.Commands, c.String())
	}
	s.render(w, http.StatusOK, "preview.html", "Identities", d, nil)
}

func (s *Server) settle(w http.ResponseWriter, r *http.Request) {
	if !s.writeMu.TryLock() {
		s.render(w, http.StatusConflict, "preview.html", "Identities", previewData{}, errBusy)
		return
	}
	defer s.writeMu.Unlock()
	prefer := r.PostFormValue("prefer")
	lock, _, prepared, err := s.plan(prefer)
	d := previewData{Prefer: prefer}
	if err != nil {
		s.render(w, http.StatusOK, "preview.html", "Identities", d, err)
		return
	}
	defer lock.Unlock()
	results, err := prepared.Apply()
	for _, res := range results {
		line := map[atomicfile.Op]string{atomicfile.Unchanged: "unchanged ", atomicfile.Create: "created ", atomicfile.Replace: "replaced "}[res.Op] + res.Path
		if res.Backup != "" {
			line += ", backup " + res.Backup
		}
		d.Results = append(d.Results, line)
	}
	for _, c := range prepared.Commands {
		d.Results = append(d.Results, "ran "+c.String())
	}
	s.render(w, http.StatusOK, "preview.html", "Identities", d, err)
}

// phoneData is the Phone page.
type phoneData struct {
	Dir       string
	Sources   []string
	ADB       string // "" when adb sees no device; else why not or how many
	Devices   int
	File      string       // the keystore written
	Password  string       // its fresh password, only on the page that made it
	QR        template.URL // the password's QR code as a data: URL, made here
	Pushed    string       // where adb put the file on the phone
	PushError string
	Written   []string
}

func (s *Server) phoneBase() phoneData {
	d := phoneData{Dir: s.cfg.PhoneDir}
	if locs, err := s.stores(); err == nil {
		for _, l := range locs {
			d.Sources = append(d.Sources, l.Name)
		}
	}
	if _, n, err := app.ADBDevices(); err != nil {
		d.ADB = err.Error()
	} else {
		d.Devices = n
	}
	return d
}

func (s *Server) phone(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "phone.html", "Phone", s.phoneBase(), nil)
}

// export does what `keysync convert --from STORES... --to chatsecure:DIR`
// does: a fresh password, the keystore written, the password shown.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	d := s.phoneBase()
	if dir := strings.TrimSpace(r.PostFormValue("dir")); dir != "" {
		d.Dir = dir
	}
	if !s.writeMu.TryLock() {
		s.render(w, http.StatusConflict, "phone.html", "Phone", d, errBusy)
		return
	}
	defer s.writeMu.Unlock()
	file, pw, results, err := s.writeKeystore(d.Dir)
	if err != nil {
		s.render(w, http.StatusOK, "phone.html", "Phone", d, err)
		return
	}
	defer clear(pw)
	for _, res := range results {
		d.Written = append(d.Written, res.Op.String()+" "+res.Path)
	}
	d.File, d.Password = file, string(pw)
	if r.PostFormValue("push") != "" {
		adb, n, err := app.ADBDevices()
		if err == nil && n == 0 {
			err = errors.New("adb lists no device (is USB debugging on?)")
		}
		if err == nil {
			d.Pushed, err = app.ADBPush(adb, file)
		}
		if err != nil {
			d.PushError = err.Error()
		}
	}
	if d.QR, err = qrDataURL(d.Password); err != nil {
		s.render(w, http.StatusOK, "phone.html", "Phone", d, err)
		return
	}
	s.render(w, http.StatusOK, "phone.html", "Phone", d, nil)
}

// writeKeystore converts the stores into a ChatSecure keystore in dir
// under a fresh password.
func (s *Server) writeKeystore(dir string) (string, []byte, []app.FileResult, error) {
	locs, err := s.stores()
	if err != nil {
		return "", nil, nil, err
	}
	to, err := app.ParseLocation("chatsecure:" + dir)
	if err != nil {
		return "", nil, nil, err
	}
	var froms []app.Location
	for _, l := range locs {
		if l.Name != to.Name {
			froms = append(froms, l)
		}
	}
	if len(froms) == 0 {
		return "", nil, nil, errors.New("no store to export: the Apps page lists none found")
	}
	lock, err := app.LockStores(froms, []app.Location{to}, 0)
	if err != nil {
		return "", nil, nil, err
	}
	defer lock.Unlock()
	pw, err := ofcaes.NewPassword(rand.Reader)
	if err != nil {
		return "", nil, nil, err
	}
	to.Password = pw
	conv, err := app.Convert(froms, []app.Location{to}, "", nil)
	if err == nil && conv.Err() != nil {
		err = fmt.Errorf("%d unresolved conflicts between the stores; nothing written: settle them on the Identities page first", conv.Unresolved)
	}
	var prepared *app.Prepared
	if err == nil {
		prepared, err = conv.Plan.Prepare(conv.Seen, false)
	}
	var results []app.FileResult
	if err == nil {
		results, err = prepared.Apply()
	}
	if err != nil {
		clear(pw)
		return "", nil, nil, err
	}
	file := ""
	for _, res := range results {
		if filepath.Ext(res.Path) == ".ofcaes" {
			file = res.Path
		}
	}
	if file == "" {
		clear(pw)
		return "", nil, results, errors.New("nothing was written: " + to.Name + " holds what the stores hold already")
	}
	return file, pw, results, nil
}
