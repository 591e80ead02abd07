package citation

import "strings"

// Rewrite returns src, the contents of the file at the slash-separated path
// name relative to the repository root, with its citations in the
// canonical form: a named document gets the path doc/ (replacing docs/,
// ../shared/docs/ and the like), and a bare § in a block that names no
// document before it gets the document the file named last. Files in doc/
// link to each other relatively and are returned unchanged, and so is a
// bare § that no document precedes. Rewrite(Rewrite(src)) equals
// Rewrite(src).
func Rewrite(name string, src []byte) []byte {
	if strings.HasPrefix(name, DocDir+"/") {
		return src
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
		case h.named && h.path != DocDir+"/":
			lines[h.line] = l[:h.start] + DocDir + "/" + l[h.nameStart:]
		case !h.named && !h.blockNamed && h.Doc != "":
			lines[h.line] = l[:h.start] + DocDir + "/" + h.Doc + " " + l[h.start:]
		}
	}
	return []byte(strings.Join(lines, "\n"))
}
