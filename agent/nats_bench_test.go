package agent

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/nats"
	"github.com/keysync/keysync/internal/natstest"
)

var natsSubjects atomic.Int64

// natsGroup returns the maker of groups on new subjects of the servers
// addrs.
func natsGroup(addrs string) func(testing.TB) *group {
	return func(tb testing.TB) *group {
		g := newGroup(tb)
		u := natstest.URL(addrs, fmt.Sprintf("keysync.bench.s%d", natsSubjects.Add(1)))
		g.open = func() (channel.Channel, error) { return nats.Open(u, nats.Options{Log: quiet}) }
		g.count = func() int {
			c, err := nats.Open(u, nats.Options{Log: quiet})
			if err != nil {
				tb.Fatal(err)
			}
			defer c.Close()
			n := 0
			for after := channel.Beginning; ; {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				msgs, err := c.Receive(ctx, after)
				cancel()
				if err != nil {
					return n
				}
				n += len(msgs)
				after = msgs[len(msgs)-1].Pos
			}
		}
		return g
	}
}

// BenchmarkGroupNATS is BenchmarkGroup on a NATS server and on a
// three-node cluster (streams of three replicas).
func BenchmarkGroupNATS(b *testing.B) {
	b.Run("server", func(b *testing.B) { benchmarkGroup(b, natsGroup(natstest.Start(b, nil).Addr())) })
	b.Run("cluster3", func(b *testing.B) { benchmarkGroup(b, natsGroup(natstest.StartCluster(b, 3).Addrs())) })
}
