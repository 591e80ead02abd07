package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// JournalName is the name of the journal Apply writes into a folder while
// it renames a set of files there.
const JournalName = ".keysync-journal"

// ErrInterrupted is wrapped by the error of Plan and Apply for a folder
// holding the journal of an interrupted set: Recover must run first.
var ErrInterrupted = errors.New("an interrupted write awaits recovery")

// journal lists the files of a set in one folder, with everything needed
// to finish the set or roll it back.
type journal struct {
	Files []journalEntry `json:"files"`
}

// journalEntry is one file of a set. Names are relative to the folder.
type journalEntry struct {
	Name       string `json:"name"`                 // the target
	Temp       string `json:"temp"`                 // its new content
	New        string `json:"new"`                  // SHA-256 of the new content, hex
	Old        string `json:"old,omitempty"`        // SHA-256 of the old content; "" if the target is created
	OldMode    uint32 `json:"oldMode,omitempty"`    // the target's mode before
	Backup     string `json:"backup,omitempty"`     // the backup's name
	BackupTemp string `json:"backupTemp,omitempty"` // the backup before it is placed
}

// maxJournal bounds the size of a journal Recover reads.
const maxJournal = 1 << 20

// writeJournal writes the journal of ps into dir, whole or not at all,
// synced, and returns its name.
func writeJournal(dir string, ps []*prepared) (string, error) {
	var j journal
	for _, p := range ps {
		e := journalEntry{
			Name: filepath.Base(p.c.real),
			Temp: filepath.Base(p.temp),
			New:  hex.EncodeToString(p.newSum[:]),
		}
		if p.c.Op == Replace {
			e.Old = hex.EncodeToString(p.c.oldSum[:])
			e.OldMode = uint32(p.c.oldMode)
			e.Backup = filepath.Base(p.backup)
			e.BackupTemp = filepath.Base(p.backupTemp)
		}
		j.Files = append(j.Files, e)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return "", err
	}
	temp, _, err := writeTemp(dir, JournalName[1:], Bytes(b), 0o600)
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, JournalName)
	if err := os.Rename(temp, name); err != nil {
		os.Remove(temp)
		return "", unwrapPath(err)
	}
	if err := syncDir(dir); err != nil {
		os.Remove(name)
		return "", unwrapPath(err)
	}
	mark()
	return name, nil
}

// removeJournals removes the journals names and syncs their folders.
func removeJournals(names []string) error {
	var errs []error
	for _, name := range names {
		err := os.Remove(name)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			err = syncDir(filepath.Dir(name))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, unwrapPath(err)))
		}
		mark()
	}
	return errors.Join(errs...)
}

// checkNoJournal fails if dir holds the journal of an interrupted set.
func checkNoJournal(dir string) error {
	_, err := os.Lstat(filepath.Join(dir, JournalName))
	if err == nil {
		return fmt.Errorf("%s: %w", dir, ErrInterrupted)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("%s: %w", dir, unwrapPath(err))
}

// readJournal reads and checks the journal at path.
func readJournal(path string) (journal, error) {
	var j journal
	f, err := os.Open(path)
	if err != nil {
		return j, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJournal+1))
	if err != nil {
		return j, unwrapPath(err)
	}
	if len(b) > maxJournal {
		return j, badJournal("journal too large")
	}
	if len(b) == 0 {
		return j, unreadableJournal("the file is empty")
	}
	if err := json.Unmarshal(b, &j); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return j, unreadableJournal("not JSON")
		}
		return j, unreadableJournal("not a keysync journal")
	}
	if len(j.Files) == 0 {
		return j, unreadableJournal("a journal of no files") // keysync writes none
	}
	for i, e := range j.Files {
		if !plainName(e.Name) || !isTemp(e.Temp) || !isSum(e.New) ||
			e.Old != "" && (!isSum(e.Old) || !plainName(e.Backup) || !isTemp(e.BackupTemp)) {
			return j, badJournal(fmt.Sprintf("journal entry %d is malformed", i+1))
		}
	}
	return j, nil
}

// unreadableJournal is readJournal's error for a journal that is no
// journal at all: empty, not JSON, JSON of another shape or of no files. keysync never
// leaves one so: writeJournal writes the journal whole into a temporary
// file, syncs it and only then renames it to its name, before the set's
// first backup or rename. So such a file was not (or no longer is) a
// journal of keysync's, and Recover may remove it if no write was left
// half done in its folder (see dropJournal).
type unreadableJournal string

func (u unreadableJournal) Error() string { return "unreadable journal (" + string(u) + ")" }

// badJournal is readJournal's error for a journal that reads but is not
// one keysync wrote as it is (an entry is malformed, or it is too large):
// Recover leaves it, and the folder, to the user.
type badJournal string

func (b badJournal) Error() string { return string(b) }

// dropJournal handles the journal at jpath in dir that readJournal found
// unreadable (why). A set's new contents stay in temporary files in the
// folder until renamed over their targets, and the journal is written
// after all of them: if no temporary file other than a journal's own is
// left, every rename of any set it could have described happened (or none
// was to happen), and there is nothing to finish or roll back, so it
// removes the journal and returns the note for the report. Otherwise it
// changes nothing and returns an error naming the journal and the
// temporary files and saying what to do.
func dropJournal(dir, jpath string, why unreadableJournal) (string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	var temps []string
	for _, e := range es {
		if isTemp(e.Name()) && !strings.HasPrefix(e.Name(), JournalName+TempInfix) {
			temps = append(temps, e.Name())
		}
	}
	if len(temps) > 0 {
		return "", fmt.Errorf("%s: %w: keysync cannot tell which files the interrupted write covered, so it changed nothing here. "+
			"Each temporary file holds the new content of the file it is named after (%s); check those files "+
			"(backups, if any, are the *%s files), then remove %s and the temporary files",
			jpath, why, strings.Join(temps, ", "), BackupSuffix, jpath)
	}
	if err := os.Remove(jpath); err != nil {
		return "", fmt.Errorf("%s: %w", jpath, unwrapPath(err))
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	mark()
	return fmt.Sprintf("%s: removed an unreadable journal %s (%s): keysync writes its journal whole and synced before it changes any file, "+
		"and no temporary file of an interrupted write is here, so none was left half done", dir, JournalName, string(why)), nil
}

// plainName reports whether name is a file name with no folder in it.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && filepath.Base(name) == name
}

func isSum(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// Outcome is what Recover did with an interrupted set.
type Outcome int

// Outcomes.
const (
	NoSet      Outcome = iota // there was no interrupted set
	Finished                  // every file of the set now has its new content
	RolledBack                // every file of the set has its old content again
)

// String returns "none", "finished" or "rolled back".
func (o Outcome) String() string {
	switch o {
	case NoSet:
		return "none"
	case Finished:
		return "finished"
	case RolledBack:
		return "rolled back"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Report is what Recover did in a folder.
type Report struct {
	Dir     string
	Outcome Outcome
	Files   []string // the names of the interrupted set's targets
	Removed []string // the names of the leftover temporary files removed
	// Dropped, if not "", says that Recover removed an unreadable journal
	// that described no write left half done, and why that was safe.
	Dropped string
}

// Messages says what Recover did, one line each, for the user; none if
// it did nothing.
func (r Report) Messages() []string {
	var ms []string
	if r.Dropped != "" {
		ms = append(ms, r.Dropped)
	}
	switch r.Outcome {
	case Finished:
		ms = append(ms, fmt.Sprintf("%s: finished an interrupted write of %s: all new now", r.Dir, strings.Join(r.Files, ", ")))
	case RolledBack:
		ms = append(ms, fmt.Sprintf("%s: rolled back an interrupted write of %s: all as before", r.Dir, strings.Join(r.Files, ", ")))
	}
	if len(r.Removed) > 0 {
		what := "file"
		if len(r.Removed) > 1 {
			what = "files"
		}
		ms = append(ms, fmt.Sprintf("%s: removed keysync's leftover temporary %s %s", r.Dir, what, strings.Join(r.Removed, ", ")))
	}
	return ms
}

// Recover finishes or rolls back the set of files that an interrupted
// Apply left in dir, and then removes keysync's leftover temporary files
// there (names ".<name>.keysync-tmp-<digits>", see TempInfix), which may
// hold private keys. The caller must hold dir's lock (LockDirs).
//
// A set is finished if every new content is complete (its target or its
// temporary file has the SHA-256 the journal recorded); otherwise it is
// rolled back, if every old content is at hand (in its target or its
// backup): targets are restored, created files removed, and the backups
// the set made removed. If neither is possible (someone else changed the
// files), Recover changes nothing and fails, keeping the journal.
//
// A missing folder has nothing to recover.
func Recover(dir string) (Report, error) {
	r := Report{Dir: dir}
	jpath := filepath.Join(dir, JournalName)
	j, err := readJournal(jpath)
	var unreadable unreadableJournal
	var bad badJournal
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.As(err, &unreadable):
		if r.Dropped, err = dropJournal(dir, jpath, unreadable); err != nil {
			return r, err
		}
	case errors.As(err, &bad):
		return r, fmt.Errorf("%s: %w: keysync did not write this journal as it is, so it cannot finish or roll back the write it describes, "+
			"and changed nothing here; check the files of %s (backups are the *%s files, new contents the .*%s* files), then remove %s",
			jpath, err, dir, BackupSuffix, TempInfix, jpath)
	case err != nil:
		return r, fmt.Errorf("%s: %w", jpath, err)
	default:
		for _, e := range j.Files {
			r.Files = append(r.Files, e.Name)
		}
		if r.Outcome, err = finishSet(dir, j); err != nil {
			return r, err
		}
		if err := os.Remove(jpath); err != nil {
			return r, fmt.Errorf("%s: %w", jpath, unwrapPath(err))
		}
		if err := syncDir(dir); err != nil {
			return r, fmt.Errorf("%s: %w", dir, unwrapPath(err))
		}
		mark()
	}
	r.Removed, err = removeLeftovers(dir)
	return r, err
}

// fileState is what Recover finds of one file of a set.
type fileState struct {
	e          journalEntry
	target     string // the target's path
	targetNew  bool   // the target has the new content
	targetOld  bool   // the target has the old content
	targetGone bool   // there is no target
	tempNew    bool   // the temporary file has the new content
	backupOld  bool   // the backup has the old content
	backupTemp bool   // the backup's temporary file has the old content
}

func (s fileState) canFinish() bool { return s.targetNew || s.tempNew }

func (s fileState) canRollBack() bool {
	if s.e.Old == "" {
		return s.targetGone || s.targetNew
	}
	return s.targetOld || s.backupOld || s.backupTemp
}

func finishSet(dir string, j journal) (Outcome, error) {
	var states []fileState
	finish, back := true, true
	for _, e := range j.Files {
		s := fileState{e: e, target: filepath.Join(dir, e.Name)}
		sum, exists, err := sumFile(s.target)
		if err != nil {
			return NoSet, fmt.Errorf("%s: %w", s.target, err)
		}
		s.targetGone = !exists
		s.targetNew = exists && hex.EncodeToString(sum[:]) == e.New
		s.targetOld = exists && hex.EncodeToString(sum[:]) == e.Old
		if s.tempNew, err = hasSum(filepath.Join(dir, e.Temp), e.New); err != nil {
			return NoSet, err
		}
		if e.Old != "" {
			if s.backupOld, err = hasSum(filepath.Join(dir, e.Backup), e.Old); err != nil {
				return NoSet, err
			}
			if s.backupTemp, err = hasSum(filepath.Join(dir, e.BackupTemp), e.Old); err != nil {
				return NoSet, err
			}
		}
		finish = finish && s.canFinish()
		back = back && s.canRollBack()
		states = append(states, s)
	}
	switch {
	case finish:
		return Finished, rollForward(dir, states)
	case back:
		return RolledBack, rollBack(dir, states)
	}
	var changed []string
	for _, s := range states {
		if !s.canFinish() && !s.canRollBack() {
			changed = append(changed, s.e.Name)
		}
	}
	return NoSet, fmt.Errorf("%s: an interrupted write can be neither finished nor rolled back: %s changed meanwhile; see the journal %s",
		dir, strings.Join(changed, ", "), JournalName)
}

// rollForward gives every file of a set its new content, with a backup of
// its old one.
func rollForward(dir string, states []fileState) error {
	for _, s := range states {
		if s.e.Old == "" {
			continue
		}
		temp := filepath.Join(dir, s.e.BackupTemp)
		var err error
		switch {
		case s.backupOld:
			err = removeIfExists(temp)
		case s.backupTemp:
			err = placeFreeBackup(temp, filepath.Join(dir, s.e.Backup), s.target)
		case s.targetOld:
			// The backup is lost: make another, at most 0600 as the
			// journal does not say whether the file is secret.
			var sum [32]byte
			if temp, sum, err = writeTemp(dir, s.e.Name, fileContent(s.target), os.FileMode(s.e.OldMode)&SecretMode); err == nil {
				if hex.EncodeToString(sum[:]) != s.e.Old {
					os.Remove(temp)
					return fmt.Errorf("%s: changed during recovery", s.target)
				}
				err = placeFreeBackup(temp, filepath.Join(dir, s.e.Backup), s.target)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: backup: %w", s.target, err)
		}
		mark()
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	for _, s := range states {
		if s.targetNew {
			continue
		}
		if err := os.Rename(filepath.Join(dir, s.e.Temp), s.target); err != nil {
			return fmt.Errorf("%s: %w", s.target, unwrapPath(err))
		}
		mark()
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	return nil
}

// rollBack gives every file of a set its old content, removing the files
// it created and the backups it made.
func rollBack(dir string, states []fileState) error {
	for _, s := range states {
		var err error
		backup, backupTemp := filepath.Join(dir, s.e.Backup), filepath.Join(dir, s.e.BackupTemp)
		switch {
		case s.e.Old == "":
			if s.targetNew {
				err = os.Remove(s.target)
			}
		case s.targetOld:
		case s.backupOld:
			err = write(s.target, fileContent(backup), os.FileMode(s.e.OldMode))
		default:
			err = write(s.target, fileContent(backupTemp), os.FileMode(s.e.OldMode))
		}
		if err != nil {
			return fmt.Errorf("%s: restoring: %w", s.target, unwrapPath(err))
		}
		mark()
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	// Every target is as before: what the set made goes.
	for _, s := range states {
		names := []string{s.e.Temp}
		if s.e.Old != "" {
			names = append(names, s.e.BackupTemp)
			if s.backupOld {
				names = append(names, s.e.Backup)
			}
		}
		for _, n := range names {
			if err := removeIfExists(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
		mark()
	}
	return nil
}

// placeFreeBackup places the backup temp under name, or under the next
// free backup name of target if name was taken meanwhile.
func placeFreeBackup(temp, name, target string) error {
	if _, err := os.Lstat(name); err == nil {
		if name, err = freeBackupName(target); err != nil {
			return err
		}
	}
	return placeBackup(temp, name)
}

// removeLeftovers removes keysync's temporary files in dir and returns
// their names.
func removeLeftovers(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPath(err))
	}
	var removed []string
	for _, e := range es {
		if !e.Type().IsRegular() || !isTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), unwrapPath(err))
		}
		removed = append(removed, e.Name())
		mark()
	}
	if len(removed) > 0 {
		if err := syncDir(dir); err != nil {
			return removed, fmt.Errorf("%s: %w", dir, unwrapPath(err))
		}
	}
	return removed, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return nil
}

// sumFile returns the SHA-256 of the file at path, and false if there is
// none.
func sumFile(path string) (sum [32]byte, exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sum, false, nil
	}
	if err != nil {
		return sum, false, unwrapPath(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, true, unwrapPath(err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, true, nil
}

// hasSum reports whether the file at path exists with the SHA-256 want.
func hasSum(path, want string) (bool, error) {
	sum, exists, err := sumFile(path)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return exists && hex.EncodeToString(sum[:]) == want, nil
}
