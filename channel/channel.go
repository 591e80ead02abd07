// Package channel is the interface between a device and the medium its
// sync messages travel on: an ordered broadcast of opaque messages.
//
// Every message sent on a channel by any device is received by every
// device on it, the sender too, in one total order that is the same for
// all of them. Each sender's messages come in the order its Sends
// returned, on every channel except mail delivered over SMTP, which comes
// in the order the mail servers deliver it. Each received message carries a Position; a device stores
// the position of the last message it handled and, after a restart or a
// time offline, asks for the messages after it, so that it handles none
// twice and misses none that the channel still holds.
//
// The implementations are chosen by the command line: channel/dir (a
// folder shared by the processes of one machine, "dir:PATH"),
// channel/imap (a mailbox, in its UID order within one UIDVALIDITY) and
// channel/nats (a JetStream subject, in the stream's sequence). Each
// encodes its own place in its own order as a Position string.
package channel

import (
	"context"
	"errors"
)

// MaxSize is the largest message, in bytes, that every channel carries.
// Send refuses a larger one with an error wrapping ErrTooLarge. It leaves
// room under the limits of the media behind the channels (NATS's default
// payload limit is 1 MiB, mail servers take far more) for their headers.
const MaxSize = 512 << 10

// Position is a place in a channel's order: the place of one message,
// encoded by the channel that delivered it. It is opaque: compare two
// positions only for equality, store it as the string it is, and pass it
// back to Receive of the same channel. Beginning ("") is before the first
// message.
type Position string

// Beginning is the position before every message of a channel.
const Beginning Position = ""

// Message is one message as a channel delivers it.
type Message struct {
	// Pos is the message's place in the channel's order. Receive(ctx, Pos)
	// returns the messages after this one.
	Pos Position
	// Data is the message as it was sent, byte for byte.
	Data []byte
}

// Channel is an ordered broadcast of opaque messages. Its methods may be
// called from several goroutines at once. Data is opaque to the channel,
// but a medium may carry only some forms of it: the device sends RFC 5322
// messages with CRLF line ends, which every channel carries byte for byte
// (an IMAP channel may refuse anything else, with a permanent error).
// channel/channeltest is the behaviour every implementation passes.
type Channel interface {
	// Send broadcasts data (at most MaxSize bytes) to every device on the
	// channel, this one included. When Send returns nil the message has
	// its place in the order and every Receive will deliver it there.
	// When Send returns an error the message may or may not have been
	// placed (a connection lost after the server stored it), and sending
	// it again may place it twice: a receiver must accept duplicates of
	// a message whose Send failed.
	Send(ctx context.Context, data []byte) error

	// Receive returns the messages after position after, in the channel's
	// order, at least one and at most a batch the channel chooses (call it
	// again with the last one's Pos for more). It blocks until there is
	// such a message, ctx is done (then it returns ctx's error) or the
	// channel is closed (ErrClosed). Messages that the channel no longer
	// holds (expired, expunged, removed) are passed over without notice.
	// A position this channel cannot place (it belongs to a history that
	// was reset: a folder made anew, a changed UIDVALIDITY, a stream made
	// anew) gives an error wrapping ErrUnknownPosition.
	Receive(ctx context.Context, after Position) ([]Message, error)

	// Close releases the channel's resources. Calls blocked in Receive
	// return ErrClosed; later calls of Send and Receive fail with it.
	Close() error
}

// Errors that Send and Receive wrap, to be told apart with errors.Is.
// Any other error is permanent for the call that returned it (bad input,
// a medium that refuses the message); retrying the same call fails again.
var (
	// ErrTooLarge: Send got more than MaxSize bytes. Not worth retrying.
	ErrTooLarge = errors.New("channel: message too large")

	// ErrUnknownPosition: Receive got a position that is not in this
	// channel's current history (or is not a position of this kind of
	// channel at all). The caller may start again from Beginning, and
	// must then expect messages it has already handled.
	ErrUnknownPosition = errors.New("channel: unknown position")

	// ErrUnavailable: the medium is out of reach for now (a connection
	// lost, a server restarting, a lock not given in time). Retry the
	// same call later, with backoff; nothing about the channel's order
	// has changed.
	ErrUnavailable = errors.New("channel: unavailable")

	// ErrClosed: the channel was closed.
	ErrClosed = errors.New("channel: closed")
)
