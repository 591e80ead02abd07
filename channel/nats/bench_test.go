package nats

import (
	"context"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/natstest"
)

// servers runs the benchmark b on one server and on a three-node
// cluster (streams of three replicas), each as a sub-benchmark.
func servers(b *testing.B, f func(b *testing.B, addrs string)) {
	b.Run("server", func(b *testing.B) { f(b, natstest.Start(b, nil).Addr()) })
	b.Run("cluster3", func(b *testing.B) { f(b, natstest.StartCluster(b, 3).Addrs()) })
}

// BenchmarkSend measures one Send of a 4 KiB message: the publish and
// the stream's acknowledgement (on a cluster, after a quorum stored it).
func BenchmarkSend(b *testing.B) {
	servers(b, func(b *testing.B, addrs string) {
		c := open(b, natstest.URL(addrs, newSubject()))
		data := make([]byte, 4<<10)
		ctx := context.Background()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := c.Send(ctx, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDelivered measures messages delivered per second from 8
// clients sending at once to one more reading them all
// (channeltest.BenchmarkDelivered).
func BenchmarkDelivered(b *testing.B) {
	servers(b, func(b *testing.B, addrs string) {
		u := natstest.URL(addrs, newSubject())
		var senders []channel.Channel
		for range 8 {
			senders = append(senders, open(b, u))
		}
		channeltest.BenchmarkDelivered(b, senders, open(b, u))
	})
}

// BenchmarkDelivery measures the time from one client's Send to another
// client's waiting Receive returning the message.
func BenchmarkDelivery(b *testing.B) {
	servers(b, func(b *testing.B, addrs string) {
		u := natstest.URL(addrs, newSubject())
		channeltest.BenchmarkLatency(b, open(b, u), open(b, u))
	})
}
