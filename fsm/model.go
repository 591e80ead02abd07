// Package fsm holds the KeySync state machine of protocol.md §8 (with the
// deviations D1 and D2 of §17) as data, and an interpreter that runs it.
//
// The model is the text file keysync.fsm, embedded and parsed once at init.
// A [Machine] interprets one fsm of the model against a [Device], which
// answers conditions, runs actions and sends messages. [Core] is the
// reusable device half: the state variables and I/O buffer of §5 and the
// pure conditions and actions of §6 and §7, with key handling behind
// [KeyStore].
package fsm

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/keysync/keysync/wire"
)

//go:embed keysync.fsm
var modelText string

// Source is the text of the embedded model, keysync.fsm.
var Source = modelText

// Model is the parsed embedded model. Parsing happens at init; a broken
// embedded model panics there, which the package tests catch.
var Model = mustParse(modelText)

func mustParse(src string) *Protocol {
	p, err := Parse(src)
	if err != nil {
		panic("fsm: embedded keysync.fsm: " + err.Error())
	}
	return p
}

// End is the pseudo state that stops a machine (protocol.md §3.4).
const End = "End"

// Init is the event delivered on every state entry (protocol.md §3.3).
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
// context and rate limit (protocol.md §9).
type Message struct {
	Name      string
	Kind      wire.Kind
	Broadcast bool
	Security  Security
	RateLimit int // seconds; 0 means none
}

// Security is a security context of protocol.md §10.3.
type Security string

// The security contexts of protocol.md §10.3.
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

// Conditions lists the condition names of protocol.md §6 that a model may use.
var Conditions = []string{
	"deviceGrouped", "weAreOfferer", "sameChallenge", "sameResponse",
	"sameNegotiation", "sameNegotiationAndPartner", "fromGroupMember",
}

// Actions lists the action names of protocol.md §7 that a model may use.
var Actions = []string{
	"newChallengeAndNegotiationBase", "useOwnChallenge", "useOwnResponse",
	"openNegotiation", "storeNegotiation", "tellWeAreGrouped", "tellWeAreNotGrouped",
	"useThisKey", "storeThisKey", "trustThisKey", "untrustThisKey",
	"prepareOwnKeys", "backupOwnKeys", "prepareOwnKeysFromBackup", "saveGroupKeys",
	"ownKeysAreDefaultKeys", "receivedKeysAreDefaultKeys",
	"showSoleHandshake", "showJoinGroupHandshake", "showGroupedHandshake",
	"showDeviceAdded", "showGroupCreated", "showDeviceAccepted",
	"showBeingSole", "showBeingInGroup",
	"disable", "resetOwnGroupedKeys", "resetOwnKeysUngrouped",
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
// must not stay in it forever (protocol.md §4).
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

// ---- parser ----

type token struct {
	text string
	line int
}

func tokenize(src string) []token {
	var toks []token
	for i, line := range strings.Split(src, "\n") {
		if j := strings.Index(line, "//"); j >= 0 {
			line = line[:j]
		}
		line = strings.ReplaceAll(line, "{", " { ")
		line = strings.ReplaceAll(line, "}", " } ")
		for _, f := range strings.Fields(line) {
			toks = append(toks, token{f, i + 1})
		}
		toks = append(toks, token{"\n", i + 1})
	}
	return toks
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{"", -1}
}

func (p *parser) next() token { t := p.peek(); p.pos++; return t }

func (p *parser) skipNewlines() {
	for p.peek().text == "\n" {
		p.pos++
	}
}

// line returns the words up to the end of the line or an opening brace,
// and whether a brace opened a block.
func (p *parser) line() ([]string, bool, int) {
	var words []string
	ln := p.peek().line
	for {
		t := p.next()
		switch t.text {
		case "", "\n":
			return words, false, ln
		case "{":
			return words, true, ln
		}
		words = append(words, t.text)
	}
}

func errAt(line int, format string, a ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, a...))
}

func atoi(line int, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errAt(line, "bad number %q", s)
	}
	return n, nil
}

// options parses key=value words.
func options(line int, words []string, allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || v == "" {
			return nil, errAt(line, "expected key=value, got %q", w)
		}
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return nil, errAt(line, "unknown option %q", k)
		}
		m[k] = v
	}
	return m, nil
}

// Parse parses a model in the keysync.fsm language and checks that every
// name it uses is known: states, messages (with wire's kinds), events,
// conditions and actions.
func Parse(src string) (*Protocol, error) {
	p := &parser{toks: tokenize(src)}
	proto := &Protocol{}
	for {
		p.skipNewlines()
		if p.peek().text == "" {
			break
		}
		words, block, ln := p.line()
		switch {
		case len(words) == 3 && words[0] == "protocol" && !block:
			id, err := atoi(ln, words[2])
			if err != nil {
				return nil, err
			}
			proto.Name, proto.ID = words[1], id
		case len(words) == 3 && words[0] == "external" && !block:
			id, err := atoi(ln, words[2])
			if err != nil {
				return nil, err
			}
			if id < 128 {
				return nil, errAt(ln, "external %s: id %d < 128", words[1], id)
			}
			proto.Externals = append(proto.Externals, External{words[1], id})
		case len(words) >= 3 && words[0] == "fsm" && block:
			f, err := p.fsm(words, ln)
			if err != nil {
				return nil, err
			}
			proto.FSMs = append(proto.FSMs, f)
		default:
			return nil, errAt(ln, "unexpected %q", strings.Join(words, " "))
		}
	}
	if proto.Name == "" {
		return nil, fmt.Errorf("no protocol line")
	}
	for _, f := range proto.FSMs {
		if err := proto.check(f); err != nil {
			return nil, fmt.Errorf("fsm %s: %w", f.Name, err)
		}
	}
	return proto, nil
}

func (p *parser) fsm(words []string, ln int) (*FSM, error) {
	id, err := atoi(ln, words[2])
	if err != nil {
		return nil, err
	}
	opts, err := options(ln, words[3:], "threshold")
	if err != nil {
		return nil, err
	}
	f := &FSM{Name: words[1], ID: id}
	if v, ok := opts["threshold"]; ok {
		if f.Threshold, err = atoi(ln, v); err != nil {
			return nil, err
		}
	}
	for {
		p.skipNewlines()
		if p.peek().text == "}" {
			p.next()
			return f, nil
		}
		words, block, ln := p.line()
		switch {
		case len(words) == 0:
			return nil, errAt(ln, "unexpected end of fsm %s", f.Name)
		case words[0] == "version" && len(words) == 3 && !block:
			maj, err1 := atoi(ln, words[1])
			mnr, err2 := atoi(ln, words[2])
			if err1 != nil || err2 != nil || maj > 255 || mnr > 255 {
				return nil, errAt(ln, "bad version")
			}
			f.Version = wire.Version{Major: uint8(maj), Minor: uint8(mnr)}
		case words[0] == "message" && len(words) >= 3 && !block:
			m, err := message(words, ln)
			if err != nil {
				return nil, err
			}
			f.Messages = append(f.Messages, m)
		case words[0] == "state" && len(words) >= 2 && block:
			s, err := p.state(words, ln, f.Threshold)
			if err != nil {
				return nil, err
			}
			f.States = append(f.States, s)
		default:
			return nil, errAt(ln, "unexpected %q in fsm %s", strings.Join(words, " "), f.Name)
		}
	}
}

func message(words []string, ln int) (*Message, error) {
	id, err := atoi(ln, words[2])
	if err != nil {
		return nil, err
	}
	k, ok := wire.KindByName(words[1])
	if !ok || int(k) != id {
		return nil, errAt(ln, "message %s %d is not a wire kind", words[1], id)
	}
	opts, err := options(ln, words[3:], "type", "security", "ratelimit")
	if err != nil {
		return nil, err
	}
	m := &Message{Name: words[1], Kind: k, Security: defaultSecurity}
	switch opts["type"] {
	case "", "anycast":
	case "broadcast":
		m.Broadcast = true
	default:
		return nil, errAt(ln, "bad type %q", opts["type"])
	}
	if v, ok := opts["security"]; ok {
		switch s := Security(v); s {
		case Unencrypted, Untrusted, Trusted, AttachOwnKeysForNewMember, AttachOwnKeysForGroup, IgnoreSecurity:
			m.Security = s
		default:
			return nil, errAt(ln, "bad security %q", v)
		}
	}
	if v, ok := opts["ratelimit"]; ok {
		if m.RateLimit, err = atoi(ln, v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (p *parser) state(words []string, ln, threshold int) (*State, error) {
	opts, err := options(ln, words[2:], "timeout")
	if err != nil {
		return nil, err
	}
	s := &State{Name: words[1], Timeout: threshold}
	switch v := opts["timeout"]; v {
	case "":
	case "off":
		s.Timeout = 0
	default:
		if s.Timeout, err = atoi(ln, v); err != nil {
			return nil, err
		}
	}
	for {
		p.skipNewlines()
		if p.peek().text == "}" {
			p.next()
			return s, nil
		}
		words, block, ln := p.line()
		if len(words) != 2 || words[0] != "on" || !block {
			return nil, errAt(ln, "expected 'on EVENT {' in state %s", s.Name)
		}
		body, err := p.block()
		if err != nil {
			return nil, err
		}
		s.Handlers = append(s.Handlers, NewHandler(words[1], body))
	}
}

// block parses statements up to the closing brace.
func (p *parser) block() ([]Stmt, error) {
	var body []Stmt
	for {
		p.skipNewlines()
		t := p.peek()
		if t.text == "" {
			return nil, errAt(t.line, "missing }")
		}
		if t.text == "}" {
			p.next()
			return body, nil
		}
		words, block, ln := p.line()
		switch {
		case len(words) == 2 && words[0] == "if" && block:
			then, err := p.block()
			if err != nil {
				return nil, err
			}
			st := &If{Cond: words[1], Then: then}
			// optional "else {" directly after the closing brace
			if p.peek().text == "else" {
				p.next()
				if p.next().text != "{" {
					return nil, errAt(ln, "expected { after else")
				}
				if st.Else, err = p.block(); err != nil {
					return nil, err
				}
			}
			body = append(body, Stmt{If: st})
		case len(words) == 2 && !block && words[0] == "do":
			body = append(body, Stmt{Do: words[1]})
		case len(words) == 2 && !block && words[0] == "send":
			body = append(body, Stmt{Send: words[1]})
		case len(words) == 2 && !block && words[0] == "go":
			body = append(body, Stmt{Go: words[1]})
		default:
			return nil, errAt(ln, "bad statement %q", strings.Join(words, " "))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (proto *Protocol) check(f *FSM) error {
	if len(f.States) == 0 || f.States[0].Name != "InitState" {
		return fmt.Errorf("the first state must be InitState")
	}
	seen := map[string]bool{}
	for _, s := range f.States {
		if seen[s.Name] || s.Name == End {
			return fmt.Errorf("state %s declared twice or reserved", s.Name)
		}
		seen[s.Name] = true
	}
	for _, s := range f.States {
		events := map[string]bool{}
		for _, h := range s.Handlers {
			if events[h.Event] {
				return fmt.Errorf("state %s: two handlers for %s", s.Name, h.Event)
			}
			events[h.Event] = true
			_, ext := proto.External(h.Event)
			if h.Event != Init && !ext && f.Message(h.Event) == nil {
				return fmt.Errorf("state %s: unknown event %s", s.Name, h.Event)
			}
			if err := checkBody(f, h.Body, seen); err != nil {
				return fmt.Errorf("state %s on %s: %w", s.Name, h.Event, err)
			}
		}
	}
	return nil
}

func checkBody(f *FSM, body []Stmt, states map[string]bool) error {
	for i, st := range body {
		switch {
		case st.If != nil:
			if !contains(Conditions, st.If.Cond) {
				return fmt.Errorf("unknown condition %s", st.If.Cond)
			}
			if err := checkBody(f, st.If.Then, states); err != nil {
				return err
			}
			if err := checkBody(f, st.If.Else, states); err != nil {
				return err
			}
		case st.Do != "":
			if !contains(Actions, st.Do) {
				return fmt.Errorf("unknown action %s", st.Do)
			}
		case st.Send != "":
			if f.Message(st.Send) == nil {
				return fmt.Errorf("unknown message %s", st.Send)
			}
		case st.Go != "":
			if st.Go != End && !states[st.Go] {
				return fmt.Errorf("unknown state %s", st.Go)
			}
			if i != len(body)-1 {
				return fmt.Errorf("statements after go %s are unreachable", st.Go)
			}
		}
	}
	return nil
}
