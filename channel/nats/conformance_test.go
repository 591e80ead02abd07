package nats

import (
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/natstest"
)

// quiet logs warnings only, which go test shows when a test fails.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

var subjects atomic.Int64

// newSubject returns a subject no other test of this process uses.
func newSubject() string {
	return fmt.Sprintf("keysync.test.s%d", subjects.Add(1))
}

// medium makes a new subject on the servers addrs for each test.
func medium(addrs string) channeltest.Medium {
	return func(t *testing.T) func() (channel.Channel, error) {
		u := natstest.URL(addrs, newSubject())
		return func() (channel.Channel, error) {
			return Open(u, Options{Log: quiet})
		}
	}
}

func TestConformance(t *testing.T) {
	s := natstest.Start(t, nil)
	channeltest.Run(t, medium(s.Addr()), channeltest.Options{})
}

func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster")
	}
	c := natstest.StartCluster(t, 3)
	channeltest.Run(t, medium(c.Addrs()), channeltest.Options{Wait: 2 * time.Minute})
}
