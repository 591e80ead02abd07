package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/natstest"
)

// open opens a client of u, closed by t.Cleanup.
func open(t testing.TB, u string) *Channel {
	t.Helper()
	c, err := Open(u, Options{Log: quiet})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// streamLeader returns the name of the server that leads c's stream.
func streamLeader(ctx context.Context, t *testing.T, c *Channel) string {
	t.Helper()
	s, err := c.js.Stream(ctx, c.stream)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if s.CachedInfo().Cluster == nil || s.CachedInfo().Cluster.Leader == "" {
		t.Fatal("the stream has no leader")
	}
	return s.CachedInfo().Cluster.Leader
}

// traffic sends from senders (name "sI") while readers read; after
// stopAt messages it calls mid. It checks that every reader got every
// message once, all in one order, each sender's in the order sent.
func traffic(t *testing.T, ctx context.Context, senders, readers []*Channel, n, stopAt int, mid func()) []channel.Message {
	t.Helper()
	total := len(senders) * n
	var sent atomic.Int64
	var midOnce sync.Once
	var wg sync.WaitGroup
	for si, s := range senders {
		wg.Go(func() {
			name := fmt.Sprintf("s%d", si)
			for i := range n {
				if err := s.Send(ctx, channeltest.Message(name, i)); err != nil {
					t.Errorf("%s: Send %d: %v", name, i, err)
					return
				}
				if sent.Add(1) == int64(stopAt) {
					midOnce.Do(mid)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	views := make([][]channel.Message, len(readers))
	for ri, r := range readers {
		wg.Go(func() {
			var err error
			after := channel.Beginning
			for len(views[ri]) < total {
				var msgs []channel.Message
				msgs, err = r.Receive(ctx, after)
				if err != nil {
					if errorsIsUnavailable(err) {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					t.Errorf("reader %d, after %d messages: %v", ri, len(views[ri]), err)
					return
				}
				views[ri] = append(views[ri], msgs...)
				after = msgs[len(msgs)-1].Pos
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for ri := range views {
		if len(views[ri]) != total {
			t.Fatalf("reader %d got %d messages, want %d", ri, len(views[ri]), total)
		}
		if err := channeltest.SenderOrder(views[ri], true); err != nil {
			t.Fatalf("reader %d: %v", ri, err)
		}
		if err := channeltest.Equal(views[0], views[ri]); err != nil {
			t.Fatalf("readers 0 and %d differ: %v", ri, err)
		}
	}
	return views[0]
}

// TestClusterNodeStopped stops the node that leads the stream while two
// clients send and two read: no message is lost, doubled or reordered.
// The node then comes back, and a client of that node alone reads the
// whole order from it.
func TestClusterNodeStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster")
	}
	cl := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u := natstest.URL(cl.Addrs(), newSubject())
	var cs []*Channel
	for range 4 {
		cs = append(cs, open(t, u))
	}
	leader := streamLeader(ctx, t, cs[0])
	var stopped *natstest.Server
	for _, s := range cl.Nodes {
		if s.Inner().Name() == leader {
			stopped = s
		}
	}
	if stopped == nil {
		t.Fatalf("leader %q is none of the nodes", leader)
	}
	const n = 150
	all := traffic(t, ctx, cs[:2], cs[2:], n, n/2, func() {
		t.Logf("stopping %s, the stream's leader", leader)
		stopped.Stop()
	})
	if l := streamLeader(ctx, t, cs[0]); l == leader {
		t.Errorf("the stopped node %s still leads", l)
	}
	stopped.Start()
	back := open(t, natstest.URL(stopped.Addr(), cs[0].addr.Subject))
	var got []channel.Message
	for deadline := time.Now().Add(time.Minute); len(got) < len(all) && time.Now().Before(deadline); {
		// The node's replica catches up after it rejoins: read what it has.
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		msgs, err := back.Receive(rctx, pos(got))
		rcancel()
		if err != nil {
			continue
		}
		got = append(got, msgs...)
	}
	if err := channeltest.Equal(got, all); err != nil {
		t.Errorf("the node back after its stop: %v", err)
	}
}

func pos(msgs []channel.Message) channel.Position {
	if len(msgs) == 0 {
		return channel.Beginning
	}
	return msgs[len(msgs)-1].Pos
}

func errorsIsUnavailable(err error) bool { return errors.Is(err, channel.ErrUnavailable) }
