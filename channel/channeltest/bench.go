package channeltest

import (
	"context"
	"sync"
	"testing"

	"github.com/keysync/keysync/channel"
)

// Text returns a message of n bytes (n ≥ 32) of mail text with CRLF line
// ends, the form the device sends.
func Text(n int) []byte {
	data := []byte("Subject: bench\r\n\r\n")
	for len(data) < n-2 {
		data = append(data, 'x')
		if len(data)%76 == 0 {
			data = append(data, "\r\n"...)
		}
	}
	return append(data[:n-2], "\r\n"...)
}

// BenchmarkDelivered measures messages delivered per second: each of
// senders sends 25 messages of 1 KiB at once while receiver, another
// client of the same channel, reads them all; it reports msgs/s, the
// messages the receiver got per second.
func BenchmarkDelivered(b *testing.B, senders []channel.Channel, receiver channel.Channel) {
	data := Text(1 << 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	after := channel.Beginning
	n := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for _, c := range senders {
			wg.Go(func() {
				for range 25 {
					if err := c.Send(ctx, data); err != nil {
						b.Error(err)
						cancel() // the receiver waits for messages that will not come
						return
					}
				}
			})
		}
		for got := 0; got < len(senders)*25; {
			msgs, err := receiver.Receive(ctx, after)
			if err != nil {
				wg.Wait()
				b.Fatal(err)
			}
			got += len(msgs)
			after = msgs[len(msgs)-1].Pos
		}
		n += len(senders) * 25
		wg.Wait()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkLatency measures the time from sender's Send of a 1 KiB
// message to the return of receiver's Receive, waiting for it in
// another client of the same channel.
func BenchmarkLatency(b *testing.B, sender, receiver channel.Channel) {
	data := Text(1 << 10)
	after := channel.Beginning
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends a Receive left waiting by a failed Send
	for b.Loop() {
		done := make(chan channel.Position, 1)
		go func() {
			msgs, err := receiver.Receive(ctx, after)
			if err != nil {
				b.Error(err)
				close(done)
				return
			}
			done <- msgs[0].Pos
		}()
		if err := sender.Send(ctx, data); err != nil {
			b.Fatal(err)
		}
		p, ok := <-done
		if !ok {
			b.FailNow()
		}
		after = p
	}
}
