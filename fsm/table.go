package fsm

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Row is one path through a handler: the guards decided along it, the
// steps run and the resulting state.
type Row struct {
	State, Event string
	Conditions   []string // "name" or "!name", in nesting order
	Steps        []string // "do ACTION" or "send MESSAGE", in order
	Next         string   // target state, End, or "" for staying
}

// String formats r as a tab-separated line of `keysync protocol table`:
// STATE EVENT CONDITIONS STEPS NEXT, with "-" for no steps and staying.
func (r Row) String() string {
	steps, next := strings.Join(r.Steps, ","), r.Next
	if steps == "" {
		steps = "-"
	}
	if next == "" {
		next = "-"
	}
	return strings.Join([]string{r.State, r.Event, strings.Join(r.Conditions, ","), steps, next}, "\t")
}

// Rows enumerates every path through every handler of f, states and
// handlers in model order. Every if yields both branches, also an empty
// one; a go ends its path.
func (f *FSM) Rows() []Row {
	var rows []Row
	for _, s := range f.States {
		for _, h := range s.Handlers {
			for _, p := range paths(h.Body, path{}) {
				rows = append(rows, Row{State: s.Name, Event: h.Event, Conditions: p.conds, Steps: p.steps, Next: p.next})
			}
		}
	}
	return rows
}

type path struct {
	conds, steps []string
	next         string
	done         bool // a go ended the path
}

func (p path) with(cond, step string) path {
	q := path{conds: append([]string(nil), p.conds...), steps: append([]string(nil), p.steps...), next: p.next, done: p.done}
	if cond != "" {
		q.conds = append(q.conds, cond)
	}
	if step != "" {
		q.steps = append(q.steps, step)
	}
	return q
}

// paths returns the paths through body starting from prefix.
func paths(body []Stmt, prefix path) []path {
	cur := []path{prefix}
	for _, st := range body {
		var next []path
		for _, p := range cur {
			if p.done {
				next = append(next, p)
				continue
			}
			switch {
			case st.If != nil:
				next = append(next, paths(st.If.Then, p.with(st.If.Cond, ""))...)
				next = append(next, paths(st.If.Else, p.with("!"+st.If.Cond, ""))...)
			case st.Do != "":
				next = append(next, p.with("", "do "+st.Do))
			case st.Send != "":
				next = append(next, p.with("", "send "+st.Send))
			case st.Go != "":
				q := p.with("", "")
				q.next, q.done = st.Go, true
				next = append(next, q)
			}
		}
		cur = next
	}
	return cur
}

// WriteTable writes f.Rows, one tab-separated line each.
func (f *FSM) WriteTable(w io.Writer) error {
	for _, r := range f.Rows() {
		if _, err := fmt.Fprintln(w, r.String()); err != nil {
			return err
		}
	}
	return nil
}

// WriteDot writes the state graph of f in Graphviz DOT: one node per state
// (transitional states with their timeout), one edge per state pair,
// labelled with the events that lead along it; staying rows are omitted.
// Timeouts appear as dashed edges to InitState.
func (f *FSM) WriteDot(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n\trankdir=TB;\n\tnode [shape=box, style=rounded];\n", f.Name)
	usesEnd := false
	for _, s := range f.States {
		label := s.Name
		if s.Timeout > 0 {
			label += fmt.Sprintf("\\n(timeout %d s)", s.Timeout)
		}
		fmt.Fprintf(&b, "\t%s [label=%s];\n", dotQuote(s.Name), dotQuote(label))
	}
	type edge struct{ from, to string }
	var order []edge
	labels := map[edge][]string{}
	for _, r := range f.Rows() {
		if r.Next == "" {
			continue
		}
		usesEnd = usesEnd || r.Next == End
		e := edge{r.State, r.Next}
		if _, ok := labels[e]; !ok {
			order = append(order, e)
		}
		if !slices.Contains(labels[e], r.Event) {
			labels[e] = append(labels[e], r.Event)
		}
	}
	if usesEnd {
		fmt.Fprintf(&b, "\t%s [shape=doublecircle, style=solid];\n", dotQuote(End))
	}
	for _, e := range order {
		fmt.Fprintf(&b, "\t%s -> %s [label=%s];\n", dotQuote(e.from), dotQuote(e.to), dotQuote(strings.Join(labels[e], "\\n")))
	}
	for _, s := range f.States {
		if s.Timeout > 0 {
			fmt.Fprintf(&b, "\t%s -> %s [label=\"timeout\", style=dashed];\n", dotQuote(s.Name), dotQuote(f.States[0].Name))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote quotes s as a DOT string; a backslash stays an escape, so "\\n"
// in s is a line break in the label.
func dotQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
