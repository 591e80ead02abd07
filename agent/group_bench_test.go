package agent

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/imap"
	"github.com/keysync/keysync/channel/nats"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/internal/dovecottest"
	"github.com/keysync/keysync/internal/natstest"
)

// benchChannels are the channels BenchmarkGroup forms groups on. Each
// starts its servers once for its sub-benchmark and returns the maker of
// groups, each on a channel of its own (a folder, a mailbox, a subject).
var benchChannels = []struct {
	name  string
	start func(b *testing.B) func(testing.TB) *group
}{
	{"dir", func(*testing.B) func(testing.TB) *group { return newGroup }},
	{"imap", func(b *testing.B) func(testing.TB) *group {
		s := dovecottest.Start(b, dovecottest.Options{})
		return onChannel(func(name string) (channel.Channel, error) {
			return imap.Open(fmt.Sprintf("imap+insecure://%s@%s/%s", dovecottest.User, s.Addr, name), imap.Options{Password: dovecottest.Password, Log: quiet})
		})
	}},
	{"nats", func(b *testing.B) func(testing.TB) *group {
		return onNATS(natstest.Start(b, nil).Addr())
	}},
	{"nats-cluster3", func(b *testing.B) func(testing.TB) *group {
		return onNATS(natstest.StartCluster(b, 3).Addrs())
	}},
}

var benchChannelNames atomic.Int64

// onChannel returns the maker of groups whose clients open opens on a
// new channel name each (a mailbox, a subject).
func onChannel(open func(name string) (channel.Channel, error)) func(testing.TB) *group {
	return func(tb testing.TB) *group {
		g := newGroup(tb)
		name := fmt.Sprintf("keysync.bench.g%d", benchChannelNames.Add(1))
		g.open = func() (channel.Channel, error) { return open(name) }
		return g
	}
}

// onNATS returns the maker of groups on subjects of the servers addrs.
func onNATS(addrs string) func(testing.TB) *group {
	return onChannel(func(subject string) (channel.Channel, error) {
		return nats.Open(natstest.URL(addrs, subject), nats.Options{Log: quiet})
	})
}

// benchSizes are the group sizes BenchmarkGroup forms: 2, 10 and 50, or
// those of KEYSYNC_BENCH_DEVICES (such as "2,20").
func benchSizes(b *testing.B) []int {
	v := os.Getenv("KEYSYNC_BENCH_DEVICES")
	if v == "" {
		return []int{2, 10, 50}
	}
	var sizes []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 {
			b.Fatalf("KEYSYNC_BENCH_DEVICES=%q: want group sizes of 2 or more, such as 2,10,50", v)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchmarkGroup forms a group on each channel (the folder, a mailbox of
// a real Dovecot, a NATS server and a three-node NATS cluster with
// streams of three replicas, all on loopback), with users who accept at
// once: two devices, then devices joining one by one up to N, all agents
// in this process, each with its own channel client (OpenPGP included).
// The time per op is from start to all N Grouped; it reports the time to
// pair the first two (s-to-pair), the channel's messages per join and
// the process CPU time per message.
func BenchmarkGroup(b *testing.B) {
	for _, c := range benchChannels {
		b.Run("channel="+c.name, func(b *testing.B) {
			newGroup := c.start(b)
			for _, n := range benchSizes(b) {
				b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { benchmarkGroup(b, newGroup, n) })
			}
		})
	}
}

// benchmarkGroup forms groups of n devices made by newGroup.
func benchmarkGroup(b *testing.B, newGroup func(testing.TB) *group, n int) {
	var msgs, joins int
	var used, pair time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		g := newGroup(b)
		b.StartTimer()
		start, c0 := time.Now(), cpu()
		d0, d1 := g.add(&device.PGP{}), g.add(&device.PGP{})
		g.until("two grouped", g.grouped, d0, d1)
		pair += time.Since(start)
		for len(g.devs) < n {
			j := g.add(&device.PGP{})
			g.until(fmt.Sprintf("%d grouped", len(g.devs)), g.grouped, j, d0)
		}
		used += cpu() - c0
		b.StopTimer()
		msgs += g.messages()
		joins += n - 1
		g.close()
		b.StartTimer()
	}
	b.ReportMetric(pair.Seconds()/float64(b.N), "s-to-pair")
	b.ReportMetric(float64(msgs)/float64(joins), "msgs/join")
	b.ReportMetric(float64(used.Microseconds())/float64(msgs), "cpu-µs/msg")
}

// cpu returns the process's CPU time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
