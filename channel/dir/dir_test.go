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

// TestGapFromLowerPosition: after one reader found nothing past a gap at
// the tail, another reader behind a gap further back still finds what
// comes after its gap.
func TestGapFromLowerPosition(t *testing.T) {
	p := t.TempDir()
	d := open(t, p, nil)
	ctx := ctxT(t)
	for i := range 6 {
		if err := d.Send(ctx, fmt.Appendf(nil, "m%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for _, seq := range []uint64{2, 6} {
		if err := os.Remove(filepath.Join(p, seqName(seq))); err != nil {
			t.Fatal(err)
		}
	}
	// After 5 nothing is left (6 is gone): the reader waits.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if msgs, err := d.Receive(short, d.position(5)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after 5: %d messages, %v", len(msgs), err)
	}
	// After 1, 2 is gone, 3 comes next.
	got := readAll(t, d, d.position(1), 1)
	if string(got[0].Data) != "m3" || got[0].Pos != d.position(3) {
		t.Errorf("after 1: %q at %q", got[0].Data, got[0].Pos)
	}
}

// TestUnavailable: with its folder gone, Send and Receive fail with
// errors that say to retry, and work again once the folder is back.
func TestUnavailable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ch")
	d := open(t, p, nil)
	ctx := ctxT(t)
	if err := d.Send(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	pos := readAll(t, d, channel.Beginning, 1)[0].Pos
	if err := os.Rename(p, p+".away"); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, []byte("two")); !errors.Is(err, channel.ErrUnavailable) {
		t.Errorf("Send without the folder: %v", err)
	}
	if _, err := d.Receive(ctx, pos); !errors.Is(err, channel.ErrUnavailable) {
		t.Errorf("Receive without the folder: %v", err)
	}
	if err := os.Rename(p+".away", p); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, d, pos, 1); string(got[0].Data) != "two" {
		t.Errorf("after the folder came back: %q", got[0].Data)
	}
}

// FuzzDecode: any file content is a message that encodes back to it, or
// a reason to skip it; never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(encode([]byte("hello")))
	f.Add([]byte(magic + "\x00\x00\x00\x01\x00\x00\x00\x00x"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		data, reason := decode(b)
		if reason == "" && !bytes.Equal(encode(data), b) {
			t.Fatalf("decoded %q from %q, which encodes otherwise", data, b)
		}
	})
}

// FuzzPosition: a position parses only in its one canonical form.
func FuzzPosition(f *testing.F) {
	f.Add("0123456789abcdef:1")
	f.Add("0123456789abcdef:01")
	f.Add("")
	d := &Dir{id: "0123456789abcdef"}
	f.Fuzz(func(t *testing.T, p string) {
		seq, err := d.parsePosition(channel.Position(p))
		if err == nil && p != "" && d.position(seq) != channel.Position(p) {
			t.Fatalf("%q parsed as %d, which is %q", p, seq, d.position(seq))
		}
		if err != nil && !errors.Is(err, channel.ErrUnknownPosition) {
			t.Fatalf("%q: %v", p, err)
		}
	})
}

// TestOpenRace: clients opening a new folder at once agree on its id.
func TestOpenRace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			d, err := Open(p, Options{Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = d.id
			d.Close()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || len(id) != 16 {
			t.Fatalf("ids %q", ids)
		}
	}
}

// TestHead: a missing, stale or garbled .head (a sender died before
// writing it, someone removed it) never makes Send reuse a number.
func TestHead(t *testing.T) {
	p := t.TempDir()
	d := open(t, p, nil)
	ctx := ctxT(t)
	send := func(want uint64) {
		t.Helper()
		if err := d.Send(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(p, seqName(want))); err != nil {
			t.Fatalf("message %d: %v", want, err)
		}
		if h, ok := d.readHead(); !ok || h != want {
			t.Fatalf(".head %d, %v; want %d", h, ok, want)
		}
	}
	send(1)
	send(2)
	send(3)
	head := filepath.Join(p, headName)
	os.Remove(head)
	send(4)
	os.WriteFile(head, []byte("2\n"), 0o600)
	send(5)
	os.WriteFile(head, []byte("garbage"), 0o600)
	send(6)
	if got := readAll(t, d, channel.Beginning, 6); got[5].Pos != d.position(6) {
		t.Errorf("last at %q", got[5].Pos)
	}
}

// TestNotified: a waiting Receive is woken by the file system's
// notification of another client's Send, not by polling.
func TestNotified(t *testing.T) {
	p := t.TempDir()
	s := open(t, p, nil)
	r, err := Open(p, Options{Poll: time.Hour, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.watchKey == "" {
		t.Skipf("no file notifications here: %v", notify.err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := r.Receive(ctxT(t), channel.Beginning)
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Send(ctxT(t), []byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification woke the Receive in 10 s")
	}
}
