package channel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
)

func TestLazyOpensWhenReachable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ch")
	tries := 0
	ch := channel.Lazy(func() (channel.Channel, error) {
		tries++
		if tries < 3 {
			return nil, fmt.Errorf("server down (%w)", channel.ErrUnavailable)
		}
		return dir.Open(p, dir.Options{Log: slog.New(slog.DiscardHandler)})
	})
	defer ch.Close()
	ctx := context.Background()
	for i := range 2 {
		if err := ch.Send(ctx, []byte("x")); !errors.Is(err, channel.ErrUnavailable) {
			t.Fatalf("send %d before the server: %v", i, err)
		}
	}
	if err := ch.Send(ctx, []byte("hello\r\n")); err != nil {
		t.Fatal(err)
	}
	msgs, err := ch.Receive(ctx, channel.Beginning)
	if err != nil || len(msgs) != 1 || string(msgs[0].Data) != "hello\r\n" {
		t.Fatalf("receive: %v %q", err, msgs)
	}
	if tries != 3 {
		t.Fatalf("open called %d times, want 3", tries)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, []byte("x")); !errors.Is(err, channel.ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestLazyPassesPermanentErrors(t *testing.T) {
	refused := errors.New("login refused")
	ch := channel.Lazy(func() (channel.Channel, error) { return nil, refused })
	if _, err := ch.Receive(context.Background(), channel.Beginning); !errors.Is(err, refused) || errors.Is(err, channel.ErrUnavailable) {
		t.Fatalf("receive: %v", err)
	}
	ch.Close()
	if _, err := ch.Receive(context.Background(), channel.Beginning); !errors.Is(err, channel.ErrClosed) {
		t.Fatalf("receive after close: %v", err)
	}
}

// recorder is a channel that counts its Close calls.
type recorder struct {
	channel.Channel
	closed chan struct{}
}

func (r recorder) Close() error { close(r.closed); return nil }

// Callers that come while open runs share that one attempt; a caller's
// context and Close end its wait; a channel made after Close is closed.
func TestLazyWaitsAreInterruptible(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	made := recorder{closed: make(chan struct{})}
	ch := channel.Lazy(func() (channel.Channel, error) {
		calls.Add(1)
		<-release
		return made, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { errs <- ch.Send(ctx, []byte("x")) }()
	go func() { _, err := ch.Receive(context.Background(), channel.Beginning); errs <- err }()
	go func() { _, err := ch.Receive(context.Background(), channel.Beginning); errs <- err }()
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v", err)
	}
	ch.Close()
	for range 2 {
		if err := <-errs; !errors.Is(err, channel.ErrClosed) {
			t.Fatalf("a wait through Close: %v", err)
		}
	}
	close(release)
	<-made.closed // the channel open made after Close is closed
	if n := calls.Load(); n != 1 {
		t.Fatalf("open ran %d times for callers that came together, want 1", n)
	}
}
