// Package fsm holds the KeySync state machine of doc/protocol.md §8 (with the
// deviations D1 and D2 of §17) as data, and an interpreter that runs it.
//
// The model is the text file keysync.fsm, embedded; Embedded returns it
// parsed. A [Machine] interprets one fsm of the model against a [Device],
// which answers conditions, runs actions and sends messages. [Core] is the
// reusable device half: the state variables and I/O buffer of §5, the
// conditions and actions of §6 and §7, and the security policy of §10.3
// with D6 and D8 ([Recipients], [Accept]), with key handling behind
// [KeyStore]. A device supplies a KeyStore and a [Channel].
package fsm

import (
	_ "embed"
	"sync"

	"github.com/keysync/keysync/wire"
)

//go:embed keysync.fsm
var embedded string

var parseEmbedded = sync.OnceValues(func() (*Protocol, error) { return Parse(embedded) })

// Embedded returns the model keysync runs, keysync.fsm, parsed. Every call
// returns a copy of its own. It panics if the embedded file does not parse,
// which the package's tests catch.
func Embedded() *Protocol {
	p, err := parseEmbedded()
	if err != nil {
		panic("fsm: embedded keysync.fsm: " + err.Error())
	}
	return p.Clone()
}

// End is the pseudo state that stops a machine (doc/protocol.md §3.4).
const End = "End"

// Init is the event delivered on every state entry (doc/protocol.md §3.3).
const Init = "Init"

// Protocol is a parsed model: one protocol family with its fsms.
type Protocol struct {
	Name      string
	ID        int
	Externals []External
	FSMs      []*FSM
}

// External is an event injected by the app or signalled by the device.
type External struct {
	Name string
	ID   int
}

// FSM is one state machine of the protocol, such as KeySync.
type FSM struct {
	Name      string
	ID        int
	Threshold int // default timeout in seconds of states without timeout=
	Version   wire.Version
	Messages  []*Message
	States    []*State
}

// Message declares a message of an fsm with its channel type, security
// context and rate limit (doc/protocol.md §9).
type Message struct {
	Name      string
	Kind      wire.Kind
	Broadcast bool
	Security  Security
	RateLimit int // seconds; 0 means none
}

// Security is a security context of doc/protocol.md §10.3.
type Security string

// The security contexts of doc/protocol.md §10.3.
const (
	Unencrypted               Security = "unencrypted"
	Untrusted                 Security = "untrusted"
	Trusted                   Security = "trusted"
	AttachOwnKeysForNewMember Security = "attach_own_keys_for_new_member"
	AttachOwnKeysForGroup     Security = "attach_own_keys_for_group"
	IgnoreSecurity            Security = "ignore"
)

const defaultSecurity = Trusted

// State is one state with its handlers, in model order.
type State struct {
	Name     string
	Timeout  int // seconds; 0 means none
	Handlers []*Handler
}

// Handler is the code run for one event in one state. Build one with
// NewHandler, which derives TestsNegotiation from the body.
type Handler struct {
	Event string
	Body  []Stmt
	// TestsNegotiation is true when the handler decides sameNegotiation or
	// sameNegotiationAndPartner on some path: the event it handles belongs
	// to the current negotiation, which D6 guards (Accept).
	TestsNegotiation bool
}

// NewHandler returns the handler of event running body.
func NewHandler(event string, body []Stmt) *Handler {
	return &Handler{Event: event, Body: body,
		TestsNegotiation: tests(body, "sameNegotiation") || tests(body, "sameNegotiationAndPartner")}
}

// Stmt is one statement of a handler: exactly one of the fields is set.
type Stmt struct {
	If   *If
	Do   string // action name
	Send string // message name
	Go   string // state name or End
}

// If is a guarded branch; Else may be empty.
type If struct {
	Cond       string
	Then, Else []Stmt
}

// FSM returns the fsm called name, or nil.
func (p *Protocol) FSM(name string) *FSM {
	for _, f := range p.FSMs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// KeySync returns the KeySync fsm of p, or nil.
func (p *Protocol) KeySync() *FSM { return p.FSM("KeySync") }

// External returns the external event called name.
func (p *Protocol) External(name string) (External, bool) {
	for _, e := range p.Externals {
		if e.Name == name {
			return e, true
		}
	}
	return External{}, false
}

// State returns the state called name, or nil.
func (f *FSM) State(name string) *State {
	for _, s := range f.States {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Message returns the declaration of the message called name, or nil.
func (f *FSM) Message(name string) *Message {
	for _, m := range f.Messages {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// MessageOf returns the declaration of the message of kind k, or nil.
func (f *FSM) MessageOf(k wire.Kind) *Message {
	for _, m := range f.Messages {
		if m.Kind == k {
			return m
		}
	}
	return nil
}

// Handler returns the handler of event in s, or nil.
func (s *State) Handler(event string) *Handler {
	if s == nil {
		return nil
	}
	for _, h := range s.Handlers {
		if h.Event == event {
			return h
		}
	}
	return nil
}

// Transitional reports whether s has a timeout, that is, whether a device
// must not stay in it forever (doc/protocol.md §4).
func (s *State) Transitional() bool { return s.Timeout > 0 }

// tests reports whether body decides condition cond on some path.
func tests(body []Stmt, cond string) bool {
	for _, st := range body {
		if st.If != nil && (st.If.Cond == cond || tests(st.If.Then, cond) || tests(st.If.Else, cond)) {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of p, for tests that mutate a model.
func (p *Protocol) Clone() *Protocol {
	q := *p
	q.Externals = append([]External(nil), p.Externals...)
	q.FSMs = nil
	for _, f := range p.FSMs {
		g := *f
		g.Messages = nil
		for _, m := range f.Messages {
			mm := *m
			g.Messages = append(g.Messages, &mm)
		}
		g.States = nil
		for _, s := range f.States {
			t := *s
			t.Handlers = nil
			for _, h := range s.Handlers {
				t.Handlers = append(t.Handlers, NewHandler(h.Event, cloneBody(h.Body)))
			}
			g.States = append(g.States, &t)
		}
		q.FSMs = append(q.FSMs, &g)
	}
	return &q
}

func cloneBody(b []Stmt) []Stmt {
	if b == nil {
		return nil
	}
	out := make([]Stmt, len(b))
	for i, st := range b {
		out[i] = st
		if st.If != nil {
			out[i].If = &If{Cond: st.If.Cond, Then: cloneBody(st.If.Then), Else: cloneBody(st.If.Else)}
		}
	}
	return out
}
