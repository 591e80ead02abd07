package citation

import (
	"regexp"
	"strings"
)

// retired are references to files that are not in the repository, each
// with the citation of doc/ that replaces it. The asn1 README became
// doc/protocol.md §16.
var retired = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b(protocol\.md §16) and the asn1 README\b`), "$1"},
	{regexp.MustCompile(`(^|[^/\w.])(?:(?:\.\./)*(?:shared/)?docs/)?asn1/README\.md\b`), "${1}doc/protocol.md §16"},
	{regexp.MustCompile(`\bthe asn1 README\b`), "doc/protocol.md §16"},
}

// retiredLines returns the lines of src that refer to a file the repository
// does not have, such as asn1/README.md; Rewrite replaces them.
func retiredLines(src []byte) []int {
	var lines []int
	for i, l := range strings.Split(string(src), "\n") {
		for _, r := range retired {
			if r.re.MatchString(l) {
				lines = append(lines, i+1)
				break
			}
		}
	}
	return lines
}

// Rewrite returns src, the contents of the file at the slash-separated path
// name relative to the repository root, with its citations in the
// canonical form: a named document gets the path doc/ (replacing docs/,
// ../shared/docs/ and the like), a bare § in a block that names no
// document before it gets the document the file named last, and a
// reference to a file the repository does not have becomes its
// replacement (retired). Files in doc/ link to each other relatively and
// are returned unchanged, and so is a bare § that no document precedes.
// Rewrite(Rewrite(src)) equals Rewrite(src).
func Rewrite(name string, src []byte) []byte {
	if strings.HasPrefix(name, docDir+"/") {
		return src
	}
	for _, r := range retired {
		src = r.re.ReplaceAll(src, []byte(r.with))
	}
	hits := scan(name, src)
	if len(hits) == 0 {
		return src
	}
	lines := strings.Split(string(src), "\n")
	// Edit each line from its last citation to its first, so that the
	// offsets of the earlier ones stay valid.
	for k := len(hits) - 1; k >= 0; k-- {
		h := hits[k]
		l := lines[h.line]
		switch {
		case h.named && h.path != docDir+"/":
			lines[h.line] = l[:h.start] + docDir + "/" + l[h.nameStart:]
		case !h.named && !h.blockNamed && h.Doc != "":
			lines[h.line] = l[:h.start] + docDir + "/" + h.Doc + " " + l[h.start:]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}
