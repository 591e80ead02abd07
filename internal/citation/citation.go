// Package citation checks the repository's citations of keysync's reference
// in doc/ and rewrites older citation forms into the canonical one.
//
// The canonical form names the file from the repository root and then a
// section or a deviation: "doc/protocol.md §10.3", "doc/protocol.md §10.3–10.4",
// "doc/protocol.md D8", "doc/formats.md §6.2". A bare "§7" refers to the
// document of the last citation before it in the same comment block
// (consecutive comment lines, or a Markdown paragraph). doc/README.md
// describes the convention; doc/*.md give every section an anchor
// <a id="s10.3"></a> and every deviation <a id="d8"></a>.
//
// The test of this package checks the repository; the command
// internal/citation/rewrite rewrites it.
package citation

import (
	"regexp"
	"strings"
)

// docDir is the folder, relative to the repository root, that holds the
// reference.
const docDir = "doc"

// exts are the extensions of the files whose citations are checked and
// rewritten.
var exts = map[string]bool{".go": true, ".md": true, ".fsm": true, ".txt": true}

// A citation is one reference to a document of doc/, as found in a file.
type citation struct {
	Line int    // 1-based line of the file
	Text string // the citation as written, such as "protocol.md §10.3" or "§7"
	Doc  string // the cited document's file name, such as "protocol.md"; empty if none is named before a bare §
	// Refs are the anchors the citation needs: "s10.3" for §10.3, "d8" for
	// D8, both ends of a range; none for a plain mention of the file.
	Refs []string
}

const (
	secNum = `\d+(?:\.\d+)*`
	// section matches "§10.3", "§ 10.3" and the ranges "§10.3–10.4",
	// "§10.3-10.4"; group 1 and 2 are the ends.
	section = `§\s?(` + secNum + `)(?:\s?[–-]\s?(` + secNum + `)\b)?`
)

var (
	// named matches a file name that may be a document of doc/, with the
	// path forms used for it: "doc/", "docs/", "../shared/docs/",
	// "../../docs/" or none. Group 1 is the path, 2 the file name, and 3, 4
	// the section range or 5 the deviation that follows, if any.
	named = regexp.MustCompile(`((?:\.\./)*(?:shared/)?docs?/)?\b([a-z][a-z0-9_-]*\.md)\b(?:\s?` + section + `|\s(D\d+)\b)?`)
	// bare matches a section citation without a file name.
	bare = regexp.MustCompile(section)
	// bareDeviation matches a deviation without a file name, "D8".
	bareDeviation = regexp.MustCompile(`\bD(\d+)\b`)
	// reference names the documents of doc/ that the old, unqualified
	// forms cite by file name alone.
	reference = map[string]bool{"protocol.md": true, "formats.md": true, "vectors.md": true}
)

// syntax tells how a file's lines group into blocks for bare citations.
type syntax int

const (
	paragraphs   syntax = iota // Markdown: blocks are runs of non-blank lines
	slashComment               // Go and .fsm: blocks are runs of // comment lines
	hashComment                // testscript .txt: blocks are runs of # comment lines
)

// syntaxOf returns the syntax of the file at name.
func syntaxOf(name string) syntax {
	switch {
	case strings.HasSuffix(name, ".go"), strings.HasSuffix(name, ".fsm"):
		return slashComment
	case strings.HasSuffix(name, ".txt"):
		return hashComment
	}
	return paragraphs
}

// blocks returns, for each line, the index of the block it belongs to.
// Lines that are not comments in a source file are blocks of their own.
func blocks(lines []string, s syntax) []int {
	ids := make([]int, len(lines))
	id, open := 0, false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		var member bool
		switch s {
		case paragraphs:
			member = t != ""
		case slashComment:
			member = strings.HasPrefix(t, "//")
		case hashComment:
			member = strings.HasPrefix(t, "#")
		}
		if !member || !open {
			id++
		}
		open = member
		ids[i] = id
	}
	return ids
}

// isReference reports whether a file name matched by named counts as a
// citation of doc/: one of the reference documents, or any .md file that
// is followed by a section or deviation, or that carries a doc/ path.
func isReference(m []string) bool {
	return reference[m[2]] || m[3] != "" || m[5] != "" || m[1] != ""
}

// Find returns the citations in src, the contents of the file at the
// slash-separated path name relative to the repository root. A bare §
// means the document of the last citation with a section or deviation
// before it in its block, or the document named at the end of the line
// before it. Failing that, in a file of doc/ it means that file, and
// elsewhere the document of the last such citation in the file. A bare D8
// is a citation only where it means doc/protocol.md by the first two
// rules.
func find(name string, src []byte) []citation {
	var out []citation
	for _, h := range scan(name, src) {
		out = append(out, h.citation)
	}
	return out
}

// A hit is a citation with its place on its line.
type hit struct {
	citation
	line       int  // 0-based line index
	start, end int  // byte offsets of the citation in its line
	nameStart  int  // for a named citation, the offset of the file name (after its path)
	named      bool // the citation names its document
	path       string
	blockNamed bool // a bare citation whose block named its document before it
	deviation  bool // a bare deviation, "D8"
}

// scan returns the citations of src in file order.
func scan(name string, src []byte) []hit {
	lines := strings.Split(string(src), "\n")
	block := blocks(lines, syntaxOf(name))
	inDoc := strings.HasPrefix(name, docDir+"/")
	self := ""
	if inDoc {
		self = name[len(docDir)+1:]
	}
	var out []hit
	lastInFile, lastBlock, lastInBlock := "", -1, ""
	wrapped := "" // a document named at the very end of the previous line
	for i, l := range lines {
		if block[i] != lastBlock {
			lastBlock, lastInBlock = block[i], ""
		}
		covered := make([]bool, len(l))
		var hits []hit
		for _, ix := range named.FindAllStringSubmatchIndex(l, -1) {
			m := submatches(l, ix)
			if !isReference(m) {
				continue
			}
			// A name after a path that is not a doc path, as in
			// "wire/vectors.md", is some other file; a link target is
			// checked as a link.
			if ix[2] < 0 && ix[0] > 0 && l[ix[0]-1] == '/' || strings.HasSuffix(l[:ix[0]], "](") {
				continue
			}
			for j := ix[0]; j < ix[1]; j++ {
				covered[j] = true
			}
			hits = append(hits, hit{
				citation: citation{Line: i + 1, Text: l[ix[0]:ix[1]], Doc: m[2], Refs: refs(m[3], m[4], m[5])},
				line:     i, start: ix[0], end: ix[1], nameStart: ix[4], named: true, path: m[1],
			})
		}
		for _, ix := range bare.FindAllStringSubmatchIndex(l, -1) {
			if covered[ix[0]] {
				continue
			}
			if ix[0] > 0 && l[ix[0]-1] == '[' && strings.HasPrefix(l[ix[1]:], "](") {
				continue // the label of a Markdown link, whose target is checked
			}
			m := submatches(l, ix)
			hits = append(hits, hit{
				citation: citation{Line: i + 1, Text: l[ix[0]:ix[1]], Refs: refs(m[1], m[2], "")},
				line:     i, start: ix[0], end: ix[1],
			})
		}
		for _, ix := range bareDeviation.FindAllStringSubmatchIndex(l, -1) {
			if !covered[ix[0]] {
				hits = append(hits, hit{
					citation: citation{Line: i + 1, Text: l[ix[0]:ix[1]], Refs: refs("", "", l[ix[0]:ix[1]])},
					line:     i, start: ix[0], end: ix[1], deviation: true,
				})
			}
		}
		sortHits(hits, func(h hit) int { return h.start })
		next := ""
		for k, h := range hits {
			switch {
			case h.deviation:
				// Only protocol.md has deviations; a D8 elsewhere is
				// something else, and one that names no document is left
				// alone.
				h.Doc, h.blockNamed = lastInBlock, true
				if h.Doc == "" && inDoc {
					h.Doc = self
				}
				if h.Doc != "protocol.md" {
					continue
				}
			case h.named:
				if len(h.Refs) > 0 {
					lastInFile, lastInBlock = h.Doc, h.Doc
				}
				if k == len(hits)-1 && strings.TrimSpace(l[h.end:]) == "" {
					next = h.Doc
				}
			case k == 0 && wrapped != "" && strings.Trim(l[:h.start], " \t/#") == "":
				// "see protocol.md" at the end of one line and "§5" at the
				// start of the next is one citation.
				h.Doc, h.blockNamed = wrapped, true
				lastInFile, lastInBlock = h.Doc, h.Doc
			case lastInBlock != "":
				h.Doc, h.blockNamed = lastInBlock, true
			case inDoc:
				h.Doc, h.blockNamed = self, true
			default:
				// The rewrite names the document here, so the rest of the
				// block may go without.
				h.Doc, lastInBlock = lastInFile, lastInFile
			}
			out = append(out, h)
		}
		wrapped = next
	}
	return out
}

// submatches returns the submatches of l at the index pairs ix, with ""
// for a group that did not take part.
func submatches(l string, ix []int) []string {
	m := make([]string, len(ix)/2)
	for k := range m {
		if ix[2*k] >= 0 {
			m[k] = l[ix[2*k]:ix[2*k+1]]
		}
	}
	return m
}

// refs returns the anchors of a section range from–to or of a deviation.
func refs(from, to, deviation string) []string {
	var r []string
	if from != "" {
		r = append(r, "s"+from)
	}
	if to != "" {
		r = append(r, "s"+to)
	}
	if deviation != "" {
		r = append(r, "d"+deviation[1:])
	}
	return r
}

// sortHits orders hits by position; a line has few, so insertion sort.
func sortHits[T any](h []T, at func(T) int) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && at(h[j]) < at(h[j-1]); j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}
