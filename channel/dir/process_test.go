//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package dir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
)

// The test binary, re-run with childEnv set, is a child process that
// sends on a folder channel: "send PATH NAME N TOTAL" sends N messages
// as NAME, then reads TOTAL messages and prints the SHA-256 of its view
// of the order; "flood PATH SIZE" sends SIZE-byte messages until killed.
const childEnv = "KEYSYNC_DIR_TEST_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		if err := child(strings.Fields(args)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("bad arguments %q", args)
	}
	d, err := Open(args[1], Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	switch args[0] {
	case "send":
		n, _ := strconv.Atoi(args[3])
		total, _ := strconv.Atoi(args[4])
		for i := range n {
			if err := d.Send(ctx, channeltest.Message(args[2], i)); err != nil {
				return err
			}
		}
		var view []channel.Message
		after := channel.Beginning
		for len(view) < total {
			msgs, err := d.Receive(ctx, after)
			if err != nil {
				return err
			}
			view = append(view, msgs...)
			after = msgs[len(msgs)-1].Pos
		}
		fmt.Printf("%x\n", digest(view))
	case "flood":
		size, _ := strconv.Atoi(args[2])
		for i := 0; ; i++ {
			if err := d.Send(ctx, floodMessage(i, size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// floodMessage is message i of a flood: size bytes that say i.
func floodMessage(i, size int) []byte {
	head := fmt.Appendf(nil, "flood %d\n", i)
	return append(head, bytes.Repeat([]byte{byte(i)}, size-len(head))...)
}

// digest is the SHA-256 of a view of the order: each position and data.
func digest(view []channel.Message) []byte {
	h := sha256.New()
	for _, m := range view {
		fmt.Fprintf(h, "%s %d\n", m.Pos, len(m.Data))
		h.Write(m.Data)
	}
	return h.Sum(nil)
}

func childCmd(t *testing.T, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, " "))
	return cmd
}

// TestProcesses: separate processes and this one's goroutines send at
// once; every process sees one order, and the same one as this process.
func TestProcesses(t *testing.T) {
	p := t.TempDir()
	const procs, each, local = 4, 30, 30
	total := procs*each + local
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := range procs {
		cmd := childCmd(t, "send", p, fmt.Sprintf("proc%d", i), strconv.Itoa(each), strconv.Itoa(total))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	d := open(t, p, nil)
	ctx := ctxT(t)
	for i := range local {
		if err := d.Send(ctx, channeltest.Message("parent", i)); err != nil {
			t.Fatal(err)
		}
	}
	view := readAll(t, d, channel.Beginning, total)
	want := fmt.Sprintf("%x\n", digest(view))
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		if outs[i].String() != want {
			t.Errorf("child %d saw order %s, this process %s", i, outs[i], want)
		}
	}
	// Each sender's messages are there once, in the order it sent them.
	if err := channeltest.SenderOrder(view, true); err != nil {
		t.Error(err)
	}
	quiet(t, d, view[len(view)-1].Pos)
}

func quiet(t *testing.T, d *Dir, after channel.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if msgs, err := d.Receive(ctx, after); err != context.DeadlineExceeded {
		t.Errorf("after the last message: %d messages, %v", len(msgs), err)
	}
}

// TestKill kills senders with SIGKILL at random moments of their sends:
// no half message is ever visible, the lock is free again, and the next
// Send comes right after the last whole message.
func TestKill(t *testing.T) {
	p := t.TempDir()
	var log syncBuffer
	d := open(t, p, &log)
	ctx := ctxT(t)
	const size = 200 << 10
	after := channel.Beginning
	seen := 0
	const rounds = 6
	midWrite := 0
	for round := range rounds {
		cmd := childCmd(t, "flood", p, strconv.Itoa(size))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once it is sending, kill it wherever it is.
		readAll(t, d, after, 1)
		time.Sleep(time.Duration(round) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if _, err := os.Stat(filepath.Join(p, tmpName)); err == nil {
			midWrite++
		}
		// The lock is free: this Send does not wait for the dead process.
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		marker := fmt.Appendf(nil, "after kill %d", round)
		if err := d.Send(short, marker); err != nil {
			t.Fatalf("round %d: Send after the kill: %v", round, err)
		}
		cancel()
		// Everything up to the marker is whole flood messages.
		for {
			msgs := readAll(t, d, after, 1)
			m := msgs[0]
			after = m.Pos
			if bytes.Equal(m.Data, marker) {
				break
			}
			var i int
			if _, err := fmt.Sscanf(string(m.Data), "flood %d\n", &i); err != nil || !bytes.Equal(m.Data, floodMessage(i, size)) {
				t.Fatalf("round %d: a message that is not a whole flood message (%d bytes)", round, len(m.Data))
			}
			seen++
		}
	}
	if seen == 0 {
		t.Error("the killed senders sent nothing: the test tested no kill mid-stream")
	}
	if strings.Contains(log.String(), "skipping") {
		t.Errorf("files were skipped:\n%s", log.String())
	}
	t.Logf("%d whole messages from %d killed senders, %d killed while writing a message", seen, rounds, midWrite)
}
