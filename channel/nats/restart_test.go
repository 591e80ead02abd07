package nats

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/natstest"
)

// TestServerRestart stops the server between messages and mid-Send: the
// clients reconnect, the stream and its positions survive on disk, a
// Send made while the server is down is placed once when it is back,
// and nothing is delivered twice.
func TestServerRestart(t *testing.T) {
	s := natstest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u := natstest.URL(s.Addr(), newSubject())
	a, b := open(t, u), open(t, u)
	for i := range 3 {
		if err := a.Send(ctx, channeltest.Message("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	first := channeltest.ReadN(ctx, t, b, channel.Beginning, 3)

	s.Stop()
	sent := make(chan error, 1)
	go func() { sent <- a.Send(ctx, channeltest.Message("a", 3)) }()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-sent:
		t.Fatalf("Send with the server down returned %v before it was back", err)
	default:
	}
	s.Start()
	if err := <-sent; err != nil {
		t.Fatalf("Send over the restart: %v", err)
	}
	if err := a.Send(ctx, channeltest.Message("a", 4)); err != nil {
		t.Fatal(err)
	}
	rest := channeltest.ReadN(ctx, t, b, first[2].Pos, 2)
	all := append(first, rest...)
	if err := channeltest.SenderOrder(all, true); err != nil {
		t.Fatal(err)
	}
	quietFor(t, b, rest[1].Pos)

	// A new client, and the old positions: the same order.
	c := open(t, u)
	if err := channeltest.Equal(channeltest.ReadN(ctx, t, c, first[0].Pos, 4), all[1:]); err != nil {
		t.Errorf("a new client after the restart: %v", err)
	}
}

// quietFor checks that c has nothing after after for a while.
func quietFor(t *testing.T, c channel.Channel, after channel.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if msgs, err := c.Receive(ctx, after); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("after the last message: %d messages, %v; want to wait", len(msgs), err)
	}
}

// TestStreamMadeAnew: positions of a stream that was deleted and made
// anew are unknown; from the Beginning the new stream reads.
func TestStreamMadeAnew(t *testing.T) {
	s := natstest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := natstest.URL(s.Addr(), newSubject())
	a := open(t, u)
	a.recheck = 200 * time.Millisecond
	if err := a.Send(ctx, channeltest.Message("old", 0)); err != nil {
		t.Fatal(err)
	}
	old := channeltest.ReadN(ctx, t, a, channel.Beginning, 1)[0].Pos
	if err := a.js.DeleteStream(ctx, a.stream); err != nil {
		t.Fatal(err)
	}
	// Sending makes the stream anew.
	if err := a.Send(ctx, channeltest.Message("new", 0)); err != nil {
		t.Fatalf("Send after the stream was deleted: %v", err)
	}
	b := open(t, u)
	for _, c := range []*Channel{a, b} {
		if _, err := c.Receive(ctx, old); !errors.Is(err, channel.ErrUnknownPosition) {
			t.Errorf("Receive after a position of the old stream: %v, want ErrUnknownPosition", err)
		}
		got := channeltest.ReadN(ctx, t, c, channel.Beginning, 1)
		if !bytes.Equal(got[0].Data, channeltest.Message("new", 0)) || got[0].Pos == old {
			t.Errorf("from the beginning of the new stream: %q at %q", got[0].Data, got[0].Pos)
		}
	}
}

// TestPositions: positions of another kind, or past the stream's end,
// are unknown.
func TestPositions(t *testing.T) {
	s := natstest.Start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := open(t, natstest.URL(s.Addr(), newSubject()))
	if err := a.Send(ctx, channeltest.Message("p", 0)); err != nil {
		t.Fatal(err)
	}
	p := channeltest.ReadN(ctx, t, a, channel.Beginning, 1)[0].Pos
	inc, _, _ := a.parsePosition(p)
	for _, bad := range []channel.Position{"x", "12", "abc:1", "1:x", "-1:1", "1:0", position(inc, 2), position(inc+1, 1), "00000000000000000001", "ID:1"} {
		if _, err := a.Receive(ctx, bad); !errors.Is(err, channel.ErrUnknownPosition) {
			t.Errorf("Receive after %q: %v, want ErrUnknownPosition", bad, err)
		}
	}
}

// TestOpenUnreachable: no server answering is ErrUnavailable.
func TestOpenUnreachable(t *testing.T) {
	s := natstest.Start(t, nil)
	addr := s.Addr()
	s.Stop()
	_, err := Open(natstest.URL(addr, "keysync.none"), Options{Log: quiet})
	if !errors.Is(err, channel.ErrUnavailable) {
		t.Errorf("Open with no server: %v, want ErrUnavailable", err)
	}
}
