//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package atomicfile

import (
	"bufio"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The set a kill test writes: two files replaced, one created, in one
// folder that holds an older backup.
var (
	killOld = map[string]string{
		"otr.private_key":                "ancient key",
		"otr.private_key.keysync-backup": strings.Repeat("old key ", 5000),
		"otr.fingerprints":               strings.Repeat("old fingerprint\n", 3000),
	}
	killNew = map[string]string{
		"otr.private_key":                  strings.Repeat("new key ", 5000),
		"otr.private_key.keysync-backup":   strings.Repeat("old key ", 5000),
		"otr.private_key.keysync-backup.1": "ancient key",
		"otr.fingerprints":                 strings.Repeat("new fingerprint\n", 3000),
		"otr.fingerprints.keysync-backup":  strings.Repeat("old fingerprint\n", 3000),
		"otr.instance_tags":                strings.Repeat("new tag\n", 4000),
	}
)

func init() {
	// kill-apply DIR N: write the kill set into DIR, killed at step N.
	helpers["kill-apply"] = func(args []string) error {
		killAt(args[1])
		return writeKillSet(args[0])
	}
	// kill-recover DIR N: recover DIR, killed at step N.
	helpers["kill-recover"] = func(args []string) error {
		killAt(args[1])
		_, err := Recover(args[0])
		return err
	}
}

// killAt makes the process kill itself with SIGKILL at step n.
func killAt(n string) {
	k, _ := strconv.Atoi(n)
	step = func() {
		if k--; k == 0 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

func writeKillSet(dir string) error {
	var files []File
	for _, name := range []string{"otr.private_key", "otr.fingerprints", "otr.instance_tags"} {
		files = append(files, File{Path: filepath.Join(dir, name), Content: Bytes(killNew[name]), Secret: name == "otr.private_key"})
	}
	cs, err := Plan(files)
	if err != nil {
		return err
	}
	_, err = Apply(cs)
	return err
}

func setupKillSet(t *testing.T) string {
	dir := t.TempDir()
	for name, data := range killOld {
		mustWrite(t, filepath.Join(dir, name), data, 0o600)
	}
	return dir
}

// folder returns the names and contents of the files in dir.
func folder(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, name := range entries(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = string(b)
	}
	return m
}

// runKilled runs a helper that is to kill itself, and reports whether it
// did; one that finishes must succeed.
func runKilled(t *testing.T, cmd *exec.Cmd) bool {
	t.Helper()
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return false
}

// checkRecovered checks that recovering dir left the whole old set or the
// whole new set, no temporary file and no partial backup, and said what
// it did if it did anything.
func checkRecovered(t *testing.T, what, dir string, before map[string]string, rep Report) {
	t.Helper()
	after := folder(t, dir)
	if !maps.Equal(after, killOld) && !maps.Equal(after, killNew) {
		t.Fatalf("%s: folder holds %q, neither the old set nor the new one", what, slices.Sorted(maps.Keys(after)))
	}
	if !maps.Equal(before, after) && len(rep.Messages()) == 0 {
		t.Errorf("%s: Recover changed the folder and said nothing", what)
	}
	for _, m := range rep.Messages() {
		if !strings.HasPrefix(m, dir+": ") {
			t.Errorf("%s: message %q does not name the folder", what, m)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "otr.private_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: private key: %v, %v", what, fi.Mode(), err)
	}
	rep, err := Recover(dir)
	if err != nil || len(rep.Messages()) != 0 {
		t.Errorf("%s: Recover again = %q, %v; want nothing to do", what, rep.Messages(), err)
	}
}

// Killing a write at every step, and then its recovery at every step,
// leaves after recovery every target fully old or fully new, the backups
// whole and no temporary file.
func TestKillAtEveryStep(t *testing.T) {
	steps := 0
	step = func() { steps++ }
	err := writeKillSet(setupKillSet(t))
	step = nil
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[Outcome]int{}
	cleaned := 0
	for k := 1; k <= steps; k++ {
		dir := setupKillSet(t)
		if !runKilled(t, helper(t, "kill-apply", dir, strconv.Itoa(k))) {
			t.Fatalf("step %d of %d: not killed", k, steps)
		}
		killed := folder(t, dir)
		// Recovery killed at each of its steps, then run to the end.
		for m := 1; ; m++ {
			work := t.TempDir()
			copyFolder(t, dir, work)
			if !runKilled(t, helper(t, "kill-recover", work, strconv.Itoa(m))) {
				break
			}
			before := folder(t, work)
			rep, err := Recover(work)
			if err != nil {
				t.Fatalf("kill at %d, recovery killed at %d: %v", k, m, err)
			}
			checkRecovered(t, "kill at "+strconv.Itoa(k)+", recovery killed at "+strconv.Itoa(m), work, before, rep)
		}
		rep, err := Recover(dir)
		if err != nil {
			t.Fatalf("kill at %d: %v", k, err)
		}
		checkRecovered(t, "kill at "+strconv.Itoa(k), dir, killed, rep)
		outcomes[rep.Outcome]++
		if len(rep.Removed) > 0 {
			cleaned++
		}
		// The folder is usable again.
		if err := writeKillSet(dir); err != nil {
			t.Fatalf("kill at %d: writing after recovery: %v", k, err)
		}
	}
	t.Logf("%d steps; outcomes %v; leftovers removed after %d", steps, outcomes, cleaned)
	// Kills fell before the journal (nothing to finish, leftovers to
	// remove) and after it (a set to finish).
	if outcomes[NoSet] == 0 || outcomes[Finished] == 0 || cleaned == 0 {
		t.Errorf("kills did not reach both sides of the journal")
	}
}

func copyFolder(t *testing.T, from, to string) {
	t.Helper()
	for name, data := range folder(t, from) {
		fi, err := os.Stat(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(to, name), data, fi.Mode().Perm())
	}
}

// A set whose new content is lost (a temporary file gone) is rolled back:
// the folder is as before the write, exactly.
func TestRecoverRollsBack(t *testing.T) {
	steps := 0
	step = func() { steps++ }
	err := writeKillSet(setupKillSet(t))
	step = nil
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for k := 1; k <= steps; k++ {
		dir := setupKillSet(t)
		runKilled(t, helper(t, "kill-apply", dir, strconv.Itoa(k)))
		j, err := readJournal(filepath.Join(dir, JournalName))
		if err != nil {
			continue // killed before or after the journal
		}
		lost := ""
		for _, e := range j.Files {
			if b, _ := os.ReadFile(filepath.Join(dir, e.Name)); string(b) != killNew[e.Name] {
				lost = e.Temp
			}
		}
		if lost == "" {
			continue // every target renamed: the set can only be finished
		}
		if _, err := Plan([]File{{Path: filepath.Join(dir, "x"), Content: Bytes("x")}}); !errors.Is(err, ErrInterrupted) {
			t.Errorf("kill at %d: Plan error %v, want ErrInterrupted", k, err)
		}
		if err := os.Remove(filepath.Join(dir, lost)); err != nil {
			t.Fatal(err)
		}
		tried++
		rep, err := Recover(dir)
		if err != nil {
			t.Fatalf("kill at %d: %v", k, err)
		}
		if rep.Outcome != RolledBack {
			t.Errorf("kill at %d: outcome %v, want rolled back", k, rep.Outcome)
		}
		if got := folder(t, dir); !maps.Equal(got, killOld) {
			t.Errorf("kill at %d: folder holds %q, want the old set", k, slices.Sorted(maps.Keys(got)))
		}
		want := dir + ": rolled back an interrupted write of otr.private_key, otr.fingerprints, otr.instance_tags: all as before"
		if ms := rep.Messages(); len(ms) == 0 || ms[0] != want {
			t.Errorf("kill at %d: messages %q, want first %q", k, ms, want)
		}
	}
	if tried == 0 {
		t.Fatal("no kill left a set to roll back")
	}
}

// A set that can be neither finished nor rolled back is left alone, with
// its journal, and Recover says which file changed.
func TestRecoverRefusesChangedSet(t *testing.T) {
	steps := 0
	step = func() { steps++ }
	err := writeKillSet(setupKillSet(t))
	step = nil
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= steps; k++ {
		dir := setupKillSet(t)
		runKilled(t, helper(t, "kill-apply", dir, strconv.Itoa(k)))
		j, err := readJournal(filepath.Join(dir, JournalName))
		if err != nil {
			continue
		}
		e := j.Files[1] // otr.fingerprints
		target := filepath.Join(dir, e.Name)
		os.Remove(filepath.Join(dir, e.Temp))
		os.Remove(filepath.Join(dir, e.Backup))
		os.Remove(filepath.Join(dir, e.BackupTemp))
		mustWrite(t, target, "edited by hand\n", 0o600)
		before := folder(t, dir)
		_, err = Recover(dir)
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), e.Name) {
			t.Fatalf("kill at %d: Recover error %v, want one naming %s in %s", k, err, e.Name, dir)
		}
		if got := folder(t, dir); !maps.Equal(got, before) {
			t.Errorf("kill at %d: Recover changed the folder", k)
		}
		return
	}
	t.Fatal("no kill left a journal")
}

// The lock of a keysync killed while holding it ends with it: the lock
// file it leaves behind does not block the next one.
func TestLockOfKilledHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := helper(t, "hold-lock", dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, LockName)); err != nil {
		t.Fatalf("the killed holder left no lock file: %v", err)
	}
	l, err := LockDirs([]string{dir}, 2*time.Second)
	if err != nil {
		t.Fatalf("LockDirs after the holder was killed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, LockName)); err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q, %v; want this process's id", b, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// A set whose backup was lost before it was placed is finished with a
// new backup made from the target.
func TestRecoverRemakesLostBackup(t *testing.T) {
	steps := 0
	step = func() { steps++ }
	err := writeKillSet(setupKillSet(t))
	step = nil
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= steps; k++ {
		dir := setupKillSet(t)
		runKilled(t, helper(t, "kill-apply", dir, strconv.Itoa(k)))
		j, err := readJournal(filepath.Join(dir, JournalName))
		if err != nil {
			continue
		}
		e := j.Files[1] // otr.fingerprints
		if err := os.Remove(filepath.Join(dir, e.BackupTemp)); err != nil {
			continue // placed already
		}
		rep, err := Recover(dir)
		if err != nil || rep.Outcome != Finished {
			t.Fatalf("kill at %d: Recover = %v, %v; want finished", k, rep.Outcome, err)
		}
		if got := folder(t, dir); !maps.Equal(got, killNew) {
			t.Errorf("kill at %d: folder holds %q, want the new set", k, slices.Sorted(maps.Keys(got)))
		}
		return
	}
	t.Fatal("no kill left a backup to lose")
}
