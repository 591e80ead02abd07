package imap

import (
	"context"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/dovecottest"
)

// BenchmarkSend measures one APPEND of a 4 KiB message to Dovecot on
// loopback.
func BenchmarkSend(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	c := open(b, mailbox(b, s, "imap+insecure"), testOptions(s))
	data := channeltest.Text(4 << 10)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := c.Send(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceive measures reading 500 4 KiB messages that are in the
// mailbox already, from the beginning, in Receive's batches; it reports
// messages per second.
func BenchmarkReceive(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	u := mailbox(b, s, "imap+insecure")
	c := open(b, u, testOptions(s))
	data := channeltest.Text(4 << 10)
	const n = 500
	for range n {
		if err := c.Send(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n * int64(len(data)))
	for b.Loop() {
		after := channel.Beginning
		for got := 0; got < n; {
			msgs, err := c.Receive(context.Background(), after)
			if err != nil {
				b.Fatal(err)
			}
			got += len(msgs)
			after = msgs[len(msgs)-1].Pos
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDelivered measures messages delivered per second from 8
// clients sending at once to one more reading them all
// (channeltest.BenchmarkDelivered), with IDLE.
func BenchmarkDelivered(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	u := mailbox(b, s, "imap+insecure")
	var senders []channel.Channel
	for range 8 {
		senders = append(senders, open(b, u, testOptions(s)))
	}
	channeltest.BenchmarkDelivered(b, senders, open(b, u, testOptions(s)))
}

// BenchmarkDelivery measures the time from one client's Send to another
// client's waiting Receive returning the message, with IDLE.
func BenchmarkDelivery(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	u := mailbox(b, s, "imap+insecure")
	channeltest.BenchmarkLatency(b, open(b, u, testOptions(s)), open(b, u, testOptions(s)))
}
