package imap

import (
	"context"
	"testing"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/internal/dovecottest"
)

// BenchmarkSend measures one APPEND of a 4 KiB message to Dovecot on
// loopback.
func BenchmarkSend(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	c := open(b, mailbox(b, s, "imap+insecure"), testOptions(s))
	data := benchData(4 << 10)
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
	data := benchData(4 << 10)
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

// BenchmarkDelivery measures the time from one client's Send to another
// client's waiting Receive returning the message, with IDLE, and
// reports messages delivered per second one at a time.
func BenchmarkDelivery(b *testing.B) {
	s := dovecottest.Start(b, dovecottest.Options{})
	u := mailbox(b, s, "imap+insecure")
	snd, rcv := open(b, u, testOptions(s)), open(b, u, testOptions(s))
	data := benchData(1 << 10)
	after := channel.Beginning
	ctx := context.Background()
	for b.Loop() {
		done := make(chan channel.Position)
		go func() {
			msgs, err := rcv.Receive(ctx, after)
			if err != nil {
				b.Error(err)
				close(done)
				return
			}
			done <- msgs[0].Pos
		}()
		if err := snd.Send(ctx, data); err != nil {
			b.Fatal(err)
		}
		after = <-done
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// benchData is an n-byte message of CRLF lines.
func benchData(n int) []byte {
	data := []byte("Subject: bench\r\n\r\n")
	for len(data) < n-2 {
		data = append(data, 'x')
		if len(data)%76 == 0 {
			data = append(data, "\r\n"...)
		}
	}
	return append(data[:n-2], "\r\n"...)
}
