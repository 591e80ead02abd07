// Package agent runs a device as a process: it feeds the device what the
// channel delivers, sends what the device's outbox holds, fires its timers,
// and answers the control socket through which the CLI asks for the status
// and hands in the user's answers.
//
// The socket, SocketFile in the device's home, is made mode 0600 inside
// the 0700 home; on Linux every connection's peer credentials are checked
// (SO_PEERCRED) and a peer of another user is refused.
package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustwords"
)

// Agent runs one device on one channel.
type Agent struct {
	Dev  *device.Device
	Ch   channel.Channel
	Home string       // the device's home, where the socket is made
	Log  func(string) // nil: none
	// Ops are further control-socket operations (trustsync's), by name;
	// each runs with the request's Args.
	Ops map[string]func(args []string) error
	// TimerPoll, when set, is the longest the loop sleeps before it asks
	// the device's timers again. The loop's wait is real time; a test
	// that moves the device's Clock (device.Options.Clock) ahead sets it
	// short so that the moved timers fire. Zero: wake when the next timer
	// is due by the wall clock.
	TimerPoll time.Duration

	sendMu sync.Mutex
	kick   chan struct{}
}

func (a *Agent) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log(fmt.Sprintf(format, args...))
	}
}

// Run starts the device and runs it until ctx is done or the channel
// fails for good.
func (a *Agent) Run(ctx context.Context) error {
	a.kick = make(chan struct{}, 1)
	ln, err := Listen(a.Home)
	if err != nil {
		return err
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.serve(ctx, ln)

	if err := a.Dev.Start(); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- a.receive(ctx) }()
	for {
		if err := a.flush(ctx); err != nil {
			return err
		}
		wait := time.Hour
		if t, ok := a.Dev.Next(); ok {
			wait = max(time.Until(t), 0)
		}
		if a.TimerPoll > 0 {
			wait = min(wait, a.TimerPoll)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case err := <-errc:
			timer.Stop()
			return err
		case <-a.kick:
		case <-a.Dev.Changed():
		case <-timer.C:
			if err := a.Dev.Tick(); err != nil { // does nothing when nothing is due
				return err
			}
		}
		timer.Stop()
	}
}

// wake makes the loop look at the outbox and timers again.
func (a *Agent) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// receive hands every message after the device's position to the device.
// When the channel's history was made anew (a mailbox with a new
// UIDVALIDITY, a folder or stream made again), the device's position is
// not in it: receive reads the new history from its beginning, and the
// device drops the messages it has handled before.
func (a *Agent) receive(ctx context.Context) error {
	var b backoff
	fromStart := false
	for {
		after := channel.Position(a.Dev.Position())
		if fromStart {
			after = channel.Beginning
		}
		msgs, err := a.Ch.Receive(ctx, after)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, channel.ErrUnavailable):
			a.logf("channel unavailable, trying again in %v: %v", b.next(), err)
			b.wait(ctx)
			continue
		case errors.Is(err, channel.ErrUnknownPosition) && !fromStart:
			a.logf("the channel's history was made anew (%v): reading it from the beginning", err)
			fromStart = true
			continue
		case err != nil:
			return fmt.Errorf("channel: %w", err)
		}
		b, fromStart = backoff{}, false
		for _, m := range msgs {
			if err := a.Dev.Receive(string(m.Pos), m.Data); err != nil {
				return err
			}
		}
		a.wake()
	}
}

// flush sends the outbox, oldest first.
func (a *Agent) flush(ctx context.Context) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	for _, p := range a.Dev.Outbox() {
		for b := (backoff{}); ; b.wait(ctx) {
			err := a.Ch.Send(ctx, p.Data)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, channel.ErrUnavailable) {
				return fmt.Errorf("sending %s: %w", p.What, err)
			}
			a.logf("channel unavailable, trying %s again in %v: %v", p.What, b.next(), err)
		}
		if err := a.Dev.Sent(p.ID); err != nil {
			return err
		}
	}
	return nil
}

// backoff is the wait between tries of a channel call that failed with
// ErrUnavailable: 100 ms, doubling up to 10 s.
type backoff struct{ last time.Duration }

// next returns the wait that wait will wait.
func (b *backoff) next() time.Duration {
	if b.last == 0 {
		return 100 * time.Millisecond
	}
	return min(2*b.last, 10*time.Second)
}

// wait waits the next wait, or until ctx is done.
func (b *backoff) wait(ctx context.Context) {
	b.last = b.next()
	t := time.NewTimer(b.last)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Describe fills in the trustwords of a pending handshake in language
// lang ("" is English), short and full.
func Describe(s device.Status, lang string) (device.Status, error) {
	if s.Handshake == nil {
		return s, nil
	}
	h := *s.Handshake
	if lang == "" {
		lang = trustwords.DefaultLanguage
	}
	short, err := trustwords.Words(h.Own, h.Partner, lang, false)
	if err != nil {
		return s, err
	}
	full, err := trustwords.Words(h.Own, h.Partner, lang, true)
	if err != nil {
		return s, err
	}
	h.Lang, h.Trustwords, h.TrustwordsFull = strings.ToLower(lang), strings.Join(short, " "), strings.Join(full, " ")
	s.Handshake = &h
	return s, nil
}
