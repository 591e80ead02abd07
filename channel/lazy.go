package channel

import (
	"context"
	"sync"
)

// Lazy returns a Channel that calls open on first use, and on every use
// after until open succeeds, returning open's error from the Send or
// Receive that called it. A device can so start while its server is out
// of reach: open fails with an error wrapping ErrUnavailable, the caller
// tries again with backoff as for any ErrUnavailable, and the channel is
// there once the server is. Calls wait while another call opens.
func Lazy(open func() (Channel, error)) Channel { return &lazy{open: open} }

type lazy struct {
	open    func() (Channel, error)
	opening sync.Mutex // held while open runs

	mu     sync.Mutex
	ch     Channel
	closed bool
}

// get returns the open channel, opening it if it is not.
func (l *lazy) get() (Channel, error) {
	if ch, err := l.current(); ch != nil || err != nil {
		return ch, err
	}
	l.opening.Lock()
	defer l.opening.Unlock()
	if ch, err := l.current(); ch != nil || err != nil {
		return ch, err
	}
	ch, err := l.open()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed { // closed while open ran
		ch.Close()
		return nil, ErrClosed
	}
	l.ch = ch
	return ch, nil
}

// current returns the channel if it is open, ErrClosed if l is closed,
// and neither if it is still to be opened.
func (l *lazy) current() (Channel, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	return l.ch, nil
}

// Send implements Channel.
func (l *lazy) Send(ctx context.Context, data []byte) error {
	ch, err := l.get()
	if err != nil {
		return err
	}
	return ch.Send(ctx, data)
}

// Receive implements Channel.
func (l *lazy) Receive(ctx context.Context, after Position) ([]Message, error) {
	ch, err := l.get()
	if err != nil {
		return nil, err
	}
	return ch.Receive(ctx, after)
}

// Close implements Channel. A channel that open is making meanwhile is
// closed as soon as it is made.
func (l *lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.ch == nil {
		return nil
	}
	return l.ch.Close()
}
