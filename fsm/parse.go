package fsm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/keysync/keysync/wire"
)

// The parser of the keysync.fsm language.

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
			if _, ok := conditions[st.If.Cond]; !ok {
				return fmt.Errorf("unknown condition %s", st.If.Cond)
			}
			if err := checkBody(f, st.If.Then, states); err != nil {
				return err
			}
			if err := checkBody(f, st.If.Else, states); err != nil {
				return err
			}
		case st.Do != "":
			if _, ok := actions[st.Do]; !ok {
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
