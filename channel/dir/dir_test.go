package dir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
)

// open opens a folder channel on path for a test, logging into buf if
// it is not nil, and closes it at the test's end.
func open(t testing.TB, path string, buf *syncBuffer) *Dir {
	t.Helper()
	o := Options{Poll: 20 * time.Millisecond}
	if buf != nil {
		o.Log = slog.New(slog.NewTextHandler(buf, nil))
	} else {
		o.Log = slog.New(slog.DiscardHandler)
	}
	d, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readAll receives from after until it has n messages.
func readAll(t testing.TB, c channel.Channel, after channel.Position, n int) []channel.Message {
	t.Helper()
	ctx := ctxT(t)
	var out []channel.Message
	for len(out) < n {
		msgs, err := c.Receive(ctx, after)
		if err != nil {
			t.Fatalf("Receive after %q (have %d of %d): %v", after, len(out), n, err)
		}
		out = append(out, msgs...)
		after = msgs[len(msgs)-1].Pos
	}
	return out
}

func TestSendReceive(t *testing.T) {
	p := t.TempDir()
	p = filepath.Join(p, "new")
	a, b := open(t, p, nil), open(t, p, nil)
	ctx := ctxT(t)
	for i := range 3 {
		if err := a.Send(ctx, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Dir{a, b} {
		got := readAll(t, c, channel.Beginning, 3)
		for i, m := range got {
			if string(m.Data) != fmt.Sprintf("m%d", i) {
				t.Errorf("message %d: %q", i, m.Data)
			}
		}
		if got[0].Pos == got[1].Pos {
			t.Errorf("two messages at %q", got[0].Pos)
		}
	}
	// Resume after the second: only the third.
	first := readAll(t, b, channel.Beginning, 2)
	got := readAll(t, b, first[1].Pos, 1)
	if len(got) != 1 || string(got[0].Data) != "m2" {
		t.Errorf("after %q: %v", first[1].Pos, got)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}
}

func TestReceiveWaits(t *testing.T) {
	p := t.TempDir()
	a, b := open(t, p, nil), open(t, p, nil)
	done := make(chan []channel.Message)
	go func() {
		msgs, err := b.Receive(ctxT(t), channel.Beginning)
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	time.Sleep(50 * time.Millisecond)
	if err := a.Send(ctxT(t), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	msgs := <-done
	if len(msgs) != 1 || string(msgs[0].Data) != "hello" {
		t.Errorf("got %v", msgs)
	}
	// A done context ends the wait with its error.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := b.Receive(ctx, msgs[0].Pos); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive with a done context: %v", err)
	}
	// Close ends the wait with ErrClosed.
	errc := make(chan error)
	go func() {
		_, err := b.Receive(context.Background(), msgs[0].Pos)
		errc <- err
	}()
	time.Sleep(30 * time.Millisecond)
	b.Close()
	if err := <-errc; !errors.Is(err, channel.ErrClosed) {
		t.Errorf("Receive over Close: %v", err)
	}
	if err := b.Send(context.Background(), nil); !errors.Is(err, channel.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	d := open(t, t.TempDir(), nil)
	if err := d.Send(ctxT(t), make([]byte, channel.MaxSize+1)); !errors.Is(err, channel.ErrTooLarge) {
		t.Errorf("Send of MaxSize+1: %v", err)
	}
	if err := d.Send(ctxT(t), make([]byte, channel.MaxSize)); err != nil {
		t.Errorf("Send of MaxSize: %v", err)
	}
	got := readAll(t, d, channel.Beginning, 1)
	if len(got[0].Data) != channel.MaxSize {
		t.Errorf("got %d bytes", len(got[0].Data))
	}
}

func TestUnknownPosition(t *testing.T) {
	p := t.TempDir()
	d := open(t, p, nil)
	if err := d.Send(ctxT(t), []byte("x")); err != nil {
		t.Fatal(err)
	}
	pos := readAll(t, d, channel.Beginning, 1)[0].Pos
	d.Close()
	// The folder made anew: the old position is unknown there.
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	e := open(t, p, nil)
	for _, bad := range []channel.Position{pos, "x", "x:1", channel.Position(e.id + ":"), channel.Position(e.id + ":01"), channel.Position(e.id + ":0"), channel.Position(e.id + ":-1")} {
		if _, err := e.Receive(ctxT(t), bad); !errors.Is(err, channel.ErrUnknownPosition) {
			t.Errorf("Receive after %q: %v", bad, err)
		}
	}
}

func TestSkipsForeignAndCorrupt(t *testing.T) {
	p := t.TempDir()
	var log syncBuffer
	d := open(t, p, &log)
	ctx := ctxT(t)
	for _, m := range []string{"one", "two", "three", "four"} {
		if err := d.Send(ctx, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(p, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// 2: flipped bit; 3: truncated; a foreign file; a gap at 5 and 6.
	b, _ := os.ReadFile(filepath.Join(p, seqName(2)))
	b[len(b)-1] ^= 1
	write(seqName(2), b)
	b, _ = os.ReadFile(filepath.Join(p, seqName(3)))
	write(seqName(3), b[:len(b)-1])
	write("README", []byte("not a message"))
	write(seqName(7), encode([]byte("seven")))
	write(headName, []byte("7\n"))
	got := readAll(t, d, channel.Beginning, 3)
	var data []string
	for _, m := range got {
		data = append(data, string(m.Data))
	}
	if strings.Join(data, " ") != "one four seven" {
		t.Errorf("got %q", data)
	}
	for _, want := range []string{"checksum mismatch", "header says 5 bytes of data, the file has 4", "not a message name"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	// The next Send comes after the highest number, not into the gap.
	if err := d.Send(ctx, []byte("eight")); err != nil {
		t.Fatal(err)
	}
	if m := readAll(t, d, got[2].Pos, 1); string(m[0].Data) != "eight" || m[0].Pos != d.position(8) {
		t.Errorf("after seven: %q at %q", m[0].Data, m[0].Pos)
	}
}
