package nats

import (
	"context"
	"sync"
	"testing"

	"github.com/keysync/keysync/channel"
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

// BenchmarkDelivered measures messages delivered per second: 8 clients
// send 1 KiB messages at once while one more client receives them all;
// msgs/s counts the messages the receiver got.
func BenchmarkDelivered(b *testing.B) {
	servers(b, func(b *testing.B, addrs string) {
		u := natstest.URL(addrs, newSubject())
		const senders = 8
		var cs []*Channel
		for range senders {
			cs = append(cs, open(b, u))
		}
		r := open(b, u)
		data := make([]byte, 1<<10)
		ctx := context.Background()
		after := channel.Beginning
		n := 0
		for b.Loop() {
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Go(func() {
					for range 25 {
						if err := c.Send(ctx, data); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			for got := 0; got < senders*25; {
				msgs, err := r.Receive(ctx, after)
				if err != nil {
					b.Fatal(err)
				}
				got += len(msgs)
				after = msgs[len(msgs)-1].Pos
			}
			n += senders * 25
			wg.Wait()
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkDelivery measures the time from one client's Send to another
// client's waiting Receive returning the message.
func BenchmarkDelivery(b *testing.B) {
	servers(b, func(b *testing.B, addrs string) {
		u := natstest.URL(addrs, newSubject())
		s, r := open(b, u), open(b, u)
		data := make([]byte, 1<<10)
		after := channel.Beginning
		ctx := context.Background()
		for b.Loop() {
			done := make(chan channel.Position)
			go func() {
				msgs, err := r.Receive(ctx, after)
				if err != nil {
					b.Error(err)
					close(done)
					return
				}
				done <- msgs[0].Pos
			}()
			if err := s.Send(ctx, data); err != nil {
				b.Fatal(err)
			}
			after = <-done
		}
	})
}
