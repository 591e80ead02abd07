package channel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
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
