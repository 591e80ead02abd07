package dir

import (
	"context"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
)

// BenchmarkSend measures one Send of a 4 KiB message (lock, write, two
// fsyncs, rename): the floor under every message a device sends.
func BenchmarkSend(b *testing.B) {
	d := open(b, b.TempDir(), nil)
	data := make([]byte, 4<<10)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := d.Send(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendParallel measures Sends from several clients of one folder
// at once, each with its own lock file handle, as separate devices are.
func BenchmarkSendParallel(b *testing.B) {
	p := b.TempDir()
	data := make([]byte, 4<<10)
	b.SetBytes(int64(len(data)))
	b.RunParallel(func(pb *testing.PB) {
		d := open(b, p, nil)
		for pb.Next() {
			if err := d.Send(context.Background(), data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReceive measures reading 1000 4 KiB messages that are
// already in the folder, from the beginning, in Receive's batches; it
// reports the time per message too.
func BenchmarkReceive(b *testing.B) {
	p := b.TempDir()
	d := open(b, p, nil)
	data := make([]byte, 4<<10)
	const n = 1000
	for range n {
		if err := d.Send(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n * int64(len(data)))
	for b.Loop() {
		after := channel.Beginning
		for got := 0; got < n; {
			msgs, err := d.Receive(context.Background(), after)
			if err != nil {
				b.Fatal(err)
			}
			got += len(msgs)
			after = msgs[len(msgs)-1].Pos
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}

// BenchmarkDelivered measures messages delivered per second from 8
// clients sending at once to one more reading them all
// (channeltest.BenchmarkDelivered).
func BenchmarkDelivered(b *testing.B) {
	p := b.TempDir()
	var senders []channel.Channel
	for range 8 {
		senders = append(senders, open(b, p, nil))
	}
	channeltest.BenchmarkDelivered(b, senders, open(b, p, nil))
}

// BenchmarkDelivery measures the time from one client's Send to another
// client's waiting Receive returning the message (notification, not
// polling, on a local folder).
func BenchmarkDelivery(b *testing.B) {
	p := b.TempDir()
	r := open(b, p, nil)
	r.poll = 1 << 40 // notifications only
	channeltest.BenchmarkLatency(b, open(b, p, nil), r)
}
