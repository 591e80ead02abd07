package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// addRow is one convert into dir: lock, read, add a row, write, unlock.
func addRow(dir, row string, wait time.Duration) error {
	l, err := LockDirs([]string{dir}, wait)
	if err != nil {
		return err
	}
	defer l.Unlock()
	p := filepath.Join(dir, "otr.fingerprints")
	data, v, err := ReadFile(p)
	if err != nil {
		return err
	}
	time.Sleep(time.Millisecond) // the time a real merge takes
	cs, err := Plan([]File{{Path: p, Content: Bytes(string(data) + row + "\n"), Read: v}})
	if err != nil {
		return err
	}
	_, err = Apply(cs)
	return err
}

// Two writers adding rows to one file at once lose none: each waits for
// the other's lock, or fails cleanly without writing.
func TestTwoWritersLoseNoRows(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	mustWrite(t, p, "", 0o600)
	var mu sync.Mutex
	var written []string
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				row := fmt.Sprintf("writer %d row %d", w, i)
				err := addRow(dir, row, 5*time.Second)
				if err != nil {
					t.Errorf("%s: %v", row, err)
					continue
				}
				mu.Lock()
				written = append(written, row)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		have[l] = true
	}
	for _, row := range written {
		if !have[row] {
			t.Errorf("row %q written and then lost", row)
		}
	}
	if len(written) != 40 {
		t.Errorf("%d of 40 rows written", len(written))
	}
}

// A folder another process holds is waited for a bounded time, then
// refused with an error naming the folder and the holder.
func TestLockWaitsThenFails(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("helper process")
	}
	dir := t.TempDir()
	cmd := helper(t, "hold-lock", dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	start := time.Now()
	_, err = LockDirs([]string{dir}, 300*time.Millisecond)
	took := time.Since(start)
	if err == nil || !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("LockDirs error %v, want ErrLocked naming %s and process %d", err, dir, cmd.Process.Pid)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("LockDirs gave up after %v, want about 300ms", took)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err := LockDirs([]string{dir}, time.Second)
	if err != nil {
		t.Fatalf("LockDirs after the holder left: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("folder holds %v after Unlock, want nothing", got)
	}
}

// Locking overlapping sets of folders in different orders, and under
// different names, does not deadlock: folders are locked in one order,
// each once.
func TestLockManyNoDeadlock(t *testing.T) {
	base := t.TempDir()
	var dirs []string
	for i := range 4 {
		d := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set := []string{dirs[w], dirs[(w+1)%4], dirs[(w+2)%4] + "/.", dirs[w]}
			for range 20 {
				l, err := LockDirs(set, 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if n := len(l.Dirs()); n != 3 {
					t.Errorf("locked %d folders, want 3", n)
				}
				l.Unlock()
			}
		}()
	}
	wg.Wait()
}

// A missing folder is created to be locked, and removed again on Unlock
// if nothing was written into it.
func TestLockMissingFolder(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "new", "sub")
	l, err := LockDirs([]string{dir}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); err != nil {
		t.Errorf("no lock file: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, base); len(got) != 0 {
		t.Errorf("%s holds %v after Unlock, want nothing", base, got)
	}
}

func init() {
	// add-rows DIR WRITER N: add N rows to DIR's file as writer WRITER.
	helpers["add-rows"] = func(args []string) error {
		n, _ := strconv.Atoi(args[2])
		for i := range n {
			if err := addRow(args[0], fmt.Sprintf("writer %s row %d", args[1], i), 20*time.Second); err != nil {
				return err
			}
		}
		return nil
	}
}

// Two keysync processes adding rows to one file at once lose none.
func TestTwoProcessesLoseNoRows(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	mustWrite(t, p, "", 0o600)
	const n = 15
	var cmds []*exec.Cmd
	for w := range 2 {
		cmd := helper(t, "add-rows", dir, strconv.Itoa(w), strconv.Itoa(n))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer: %v", err)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		have[l] = true
	}
	for w := range 2 {
		for i := range n {
			if row := fmt.Sprintf("writer %d row %d", w, i); !have[row] {
				t.Errorf("row %q lost", row)
			}
		}
	}
}
