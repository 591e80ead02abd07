package libotr

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// InstagHeader is the comment line libotr writes first in an instance tags
// file, without its line feed.
const InstagHeader = "# WARNING! You shouldn't copy this file to another computer. It is unnecessary and can cause problems."

// minInstanceTag is the smallest tag libotr accepts (OTRL_MIN_VALID_INSTAG);
// smaller values are meta tags.
const minInstanceTag = 0x100

// InstanceTag is one line of the instance tags file.
type InstanceTag struct {
	Account, Protocol string
	Tag               uint32
	Line              int // line in the file, for messages
}

// ReadInstanceTags parses a libotr instance tags file: lines
// "account\tprotocol\t%08x". Blank lines and comment lines (starting with
// '#' and without a tab, such as InstagHeader) are skipped; any other line
// libotr would skip, such as a tag that is not 8 hex digits or is below
// minInstanceTag, is an error "FILE:LINE: message".
func ReadInstanceTags(r io.Reader, file string) ([]InstanceTag, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var tags []InstanceTag
	line := 0
	for len(data) > 0 {
		line++
		b := data
		hasLF := false
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			b, data, hasLF = data[:i], data[i+1:], true
		} else {
			data = nil
		}
		errf := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
		}
		if len(b) > MaxLineLen {
			return nil, errf("line longer than %d bytes (libotr would split it)", MaxLineLen)
		}
		if len(b) == 0 || (len(b) == 1 && b[0] == '\r') {
			continue
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return nil, errf("NUL byte in line")
		}
		t1 := bytes.IndexByte(b, '\t')
		if t1 < 0 && b[0] == '#' {
			continue
		}
		if t1 < 0 {
			return nil, errf("want tab-separated account, protocol, tag; have no tab")
		}
		rest := b[t1+1:]
		t2 := bytes.IndexByte(rest, '\t')
		if t2 < 0 {
			return nil, errf("want tab-separated account, protocol, tag; have 1 tab")
		}
		val := rest[t2+1:]
		if j := bytes.IndexByte(val, '\r'); j >= 0 {
			if j != len(val)-1 {
				return nil, errf("carriage return inside the line")
			}
			val = val[:j]
		} else if !hasLF {
			return nil, errf("last line has no line end (libotr ignores it)")
		}
		if len(val) != 8 {
			return nil, errf("instance tag has %d characters, want 8 hex digits", len(val))
		}
		var tag uint32
		for _, c := range val {
			v := hexTable[c]
			if v > 15 {
				return nil, errf("instance tag is not 8 hex digits")
			}
			tag = tag<<4 | uint32(v)
		}
		if tag < minInstanceTag {
			return nil, errf("instance tag %08x is below %#x (libotr ignores it)", tag, minInstanceTag)
		}
		tags = append(tags, InstanceTag{Account: string(b[:t1]), Protocol: string(rest[:t2]), Tag: tag, Line: line})
	}
	return tags, nil
}

// WriteInstanceTags writes InstagHeader, then one line per tag in the given
// order, "account\tprotocol\t%08x", as libotr does.
func WriteInstanceTags(w io.Writer, tags []InstanceTag) error {
	buf := []byte(InstagHeader + "\n")
	for i, t := range tags {
		if strings.ContainsAny(t.Account, "\t\n\x00") || strings.ContainsAny(t.Protocol, "\t\n\x00") {
			return fmt.Errorf("instance tag %d: account or protocol contains a tab, line feed or NUL", i+1)
		}
		if t.Tag < minInstanceTag {
			return fmt.Errorf("instance tag %d: tag %08x is below %#x, which libotr ignores", i+1, t.Tag, minInstanceTag)
		}
		start := len(buf)
		buf = fmt.Appendf(buf, "%s\t%s\t%08x", t.Account, t.Protocol, t.Tag)
		if len(buf)-start > MaxLineLen {
			return fmt.Errorf("instance tag %d: line longer than %d bytes, which libotr cannot read", i+1, MaxLineLen)
		}
		buf = append(buf, '\n')
	}
	_, err := w.Write(buf)
	return err
}
