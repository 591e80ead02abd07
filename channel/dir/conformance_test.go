package dir

import (
	"log/slog"
	"testing"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T) func() (channel.Channel, error) {
		p := t.TempDir()
		return func() (channel.Channel, error) {
			return Open(p, Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
		}
	}, channeltest.Options{})
}
