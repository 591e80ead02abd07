package channel

import (
	"context"
	"sync"
)

// Lazy returns a Channel that calls open on first use, and on every use
// after until open succeeds, returning open's error from the Send or
// Receive that waited for it. A device can so start while its server is
// out of reach: open fails with an error wrapping ErrUnavailable, the
// caller tries again with backoff as for any ErrUnavailable, and the
// channel is there once the server is. Calls that come while open runs
// wait for that one attempt and share its outcome; they stop waiting when
// their context is done or the channel is closed.
func Lazy(open func() (Channel, error)) Channel {
	return &lazy{open: open, closing: make(chan struct{})}
}

type lazy struct {
	open    func() (Channel, error)
	closing chan struct{} // closed by Close

	mu      sync.Mutex
	ch      Channel
	closed  bool
	pending *attempt // the open that runs now, if any
}

// attempt is one call of open; err is set before done is closed.
type attempt struct {
	done chan struct{}
	err  error
}

// get returns the open channel, opening it if it is not.
func (l *lazy) get(ctx context.Context) (Channel, error) {
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return nil, ErrClosed
	case l.ch != nil:
		ch := l.ch
		l.mu.Unlock()
		return ch, nil
	}
	a := l.pending
	if a == nil {
		a = &attempt{done: make(chan struct{})}
		l.pending = a
		go l.run(a)
	}
	l.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.closing:
		return nil, ErrClosed
	}
	if a.err != nil {
		return nil, a.err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	return l.ch, nil
}

// run makes attempt a: it calls open and keeps the channel, or closes it
// at once when l was closed meanwhile.
func (l *lazy) run(a *attempt) {
	ch, err := l.open()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	switch {
	case err != nil:
		a.err = err
	case l.closed:
		ch.Close()
		a.err = ErrClosed
	default:
		l.ch = ch
	}
	close(a.done)
}

// Send implements Channel.
func (l *lazy) Send(ctx context.Context, data []byte) error {
	ch, err := l.get(ctx)
	if err != nil {
		return err
	}
	return ch.Send(ctx, data)
}

// Receive implements Channel.
func (l *lazy) Receive(ctx context.Context, after Position) ([]Message, error) {
	ch, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return ch.Receive(ctx, after)
}

// Close implements Channel. Calls waiting for open return ErrClosed, and a
// channel that open makes meanwhile is closed as soon as it is made.
func (l *lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.closing)
	if l.ch == nil {
		return nil
	}
	return l.ch.Close()
}
