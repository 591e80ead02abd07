package citation

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

var (
	// anchor matches an anchor, <a id="s10.3"></a>; group 1 is the id.
	anchor = regexp.MustCompile(`<a id="([^"]+)"></a>`)
	// numbered matches a numbered heading, "## 10. Security contexts" or
	// "### 10.3 What …" (group 1), or a deviation's, "### D8. The …"
	// (group 2).
	numbered = regexp.MustCompile(`^#+\s+(?:(\d+(?:\.\d+)*)\.?\s|D(\d+)\.)`)
	// listItem matches a numbered list item that starts with an anchor.
	listItem = regexp.MustCompile(`^\s*(\d+)\.\s+<a id="([^"]+)"></a>`)
	// link matches the target of a Markdown link.
	link = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// parseDoc returns the anchors of the document at name and a problem for
// every numbered heading without its anchor, anchor without its heading,
// and anchor given twice.
func parseDoc(name string, src []byte) (map[string]bool, []string) {
	anchors := map[string]bool{}
	var problems []string
	bad := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", name, line+1, fmt.Sprintf(format, args...)))
	}
	lines := strings.Split(string(src), "\n")
	prev := -1 // the last non-blank line before the current one
	for i, l := range lines {
		for _, m := range anchor.FindAllStringSubmatch(l, -1) {
			if anchors[m[1]] {
				bad(i, "anchor %q given twice", m[1])
			}
			anchors[m[1]] = true
		}
		if m := listItem.FindStringSubmatch(l); m != nil {
			if id := m[2]; strings.HasPrefix(id, "s") && id[strings.LastIndex(id, ".")+1:] != m[1] {
				bad(i, "anchor %q starts list item %s", id, m[1])
			}
		}
		if m := numbered.FindStringSubmatch(l); m != nil {
			want := "s" + m[1]
			if m[2] != "" {
				want = "d" + m[2]
			}
			if prev < 0 || strings.TrimSpace(lines[prev]) != `<a id="`+want+`"></a>` {
				bad(i, "heading %q needs the anchor <a id=%q></a> on the line before it", strings.TrimSpace(l), want)
			}
		}
		if t := strings.TrimSpace(l); anchor.MatchString(t) && anchor.FindString(t) == t {
			// An anchor on a line of its own belongs to the next heading.
			next := i + 1
			for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
				next++
			}
			id := anchor.FindStringSubmatch(t)[1]
			if next == len(lines) || !headingFor(lines[next], id) {
				bad(i, "anchor %q is not followed by its numbered heading", id)
			}
		}
		if strings.TrimSpace(l) != "" {
			prev = i
		}
	}
	return anchors, problems
}

// headingFor reports whether l is the numbered heading of anchor id.
func headingFor(l, id string) bool {
	m := numbered.FindStringSubmatch(l)
	switch {
	case m == nil:
		return false
	case m[2] != "":
		return id == "d"+m[2]
	}
	return id == "s"+m[1]
}

// refName turns an anchor back into the form a citation writes.
func refName(ref string) string {
	if strings.HasPrefix(ref, "d") {
		return "D" + ref[1:]
	}
	return "§" + ref[1:]
}

// Check reads the repository whose root is fsys and returns, sorted, one
// problem per citation or Markdown link that does not resolve into doc/
// and per anchor of doc/ that does not match its heading. The error is
// for a repository that cannot be read.
func Check(fsys fs.FS) ([]string, error) {
	docs := map[string]map[string]bool{}
	var problems []string
	names, err := fs.Glob(fsys, docDir+"/*.md")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		src, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		anchors, p := parseDoc(n, src)
		docs[path.Base(n)] = anchors
		problems = append(problems, p...)
	}
	err = Walk(fsys, func(name string, src []byte) error {
		for _, c := range find(name, src) {
			at := fmt.Sprintf("%s:%d: %s", name, c.Line, c.Text)
			if c.Doc == "" {
				problems = append(problems, at+": no document named before it; write doc/<file>.md "+c.Text)
				continue
			}
			anchors, ok := docs[c.Doc]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s/%s does not exist", at, docDir, c.Doc))
				continue
			}
			for _, r := range c.Refs {
				if !anchors[r] {
					problems = append(problems, fmt.Sprintf("%s: %s/%s has no %s", at, docDir, c.Doc, refName(r)))
				}
			}
		}
		if strings.HasSuffix(name, ".md") {
			problems = append(problems, checkLinks(name, src, docs)...)
		}
		return nil
	})
	sort.Strings(problems)
	return problems, err
}

// checkLinks returns a problem for each link of the Markdown file name
// into doc/ whose file or anchor does not exist.
func checkLinks(name string, src []byte, docs map[string]map[string]bool) []string {
	var problems []string
	for i, l := range strings.Split(string(src), "\n") {
		for _, m := range link.FindAllStringSubmatch(l, -1) {
			target := m[1]
			if strings.Contains(target, ":") {
				continue // a URL
			}
			file, frag, _ := strings.Cut(target, "#")
			p := name
			if file != "" {
				p = path.Join(path.Dir(name), file)
			}
			if path.Dir(p) != docDir || !strings.HasSuffix(p, ".md") {
				continue
			}
			anchors, ok := docs[path.Base(p)]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s:%d: link %s: %s does not exist", name, i+1, target, p))
			case frag != "" && !anchors[frag]:
				problems = append(problems, fmt.Sprintf("%s:%d: link %s: %s has no anchor %q", name, i+1, target, p, frag))
			}
		}
	}
	return problems
}

// ownDir is this package's folder. Walk skips it: its sources and tests
// quote citation forms, broken ones included, as examples.
const ownDir = "internal/citation"

// Walk calls f with the slash-separated name and the contents of every
// .go, .md, .fsm and .txt file of fsys outside hidden folders and this
// package's folder, and stops at the first error.
func Walk(fsys fs.FS, f func(name string, src []byte) error) error {
	return fs.WalkDir(fsys, ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if name != "." && strings.HasPrefix(e.Name(), ".") || name == ownDir {
				return fs.SkipDir
			}
			return nil
		}
		if !exts[path.Ext(name)] {
			return nil
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		return f(name, src)
	})
}
