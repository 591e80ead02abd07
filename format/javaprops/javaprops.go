// Package javaprops reads and edits Java properties files line by line
// (doc/formats.md §8), the way java.util.Properties reads and writes them,
// keeping every line it is not asked to change byte for byte.
//
// Parse splits a file into chunks: an entry (one logical line, continuation
// lines included) or any other line (comment, blank). Get and Entries give
// the entries as Properties.load would see them; Set and Delete change
// entries; WriteTo writes the file back with every untouched chunk as it
// was read. Keys and values are Go strings: the file's ISO-8859-1 bytes and
// \uXXXX escapes decoded, UTF-16 surrogate pairs joined (a lone surrogate
// becomes U+FFFD).
package javaprops

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/keysync/keysync/internal/excerpt"
)

// Entry is one key=value line of a file as Properties.load reads it.
type Entry struct {
	Key, Value string
	Line       int // the file's line (1-based) where the entry starts; 0 for one Set added
}

// File is a properties file kept as chunks of its lines. Get, Set and
// Delete take constant time (amortized), so that building a large file
// key by key stays linear.
type File struct {
	chunks []chunk
	keys   map[string][]int // the chunks of each key's entries, in file order
	eol    string           // the line end of new lines: the file's first one, else "\n"
}

// chunk is an entry or another line, with the bytes that hold it. A
// deleted entry stays as a chunk with no bytes, so that indexes hold.
type chunk struct {
	raw   []byte // exact bytes, line ends included
	entry bool
	Entry
}

// Parse reads data as Properties.load does. The only error is a malformed
// \uXXXX escape, which Java refuses too; it names the line. Parse(nil) is
// an empty file, to Set entries into.
func Parse(data []byte) (*File, error) {
	f := &File{eol: "\n", keys: map[string][]int{}}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			f.eol = "\r"
			if i+1 < len(data) && data[i+1] == '\n' {
				f.eol = "\r\n"
			}
		}
	}
	var (
		logical   []byte // the entry so far, continuation backslashes removed
		start     int    // offset where the pending chunk's bytes begin
		startLine int
		pending   bool // lines ending in a continuation are waiting
	)
	line := 0
	for off := 0; off < len(data); {
		// One natural line: content, then its terminator.
		end := off
		for end < len(data) && data[end] != '\n' && data[end] != '\r' {
			end++
		}
		next := end
		if next < len(data) {
			if data[next] == '\r' && next+1 < len(data) && data[next+1] == '\n' {
				next += 2
			} else {
				next++
			}
		}
		line++
		if !pending {
			start = off
		}
		content := bytes.TrimLeft(data[off:end], " \t\f")
		off = next
		if len(logical) == 0 {
			// Not a continuation: a blank or comment line is no entry
			// (Java drops an entry that came to nothing, "\" alone,
			// and the line after it is read afresh).
			if len(content) == 0 || content[0] == '#' || content[0] == '!' {
				f.chunks = append(f.chunks, chunk{raw: data[start:next]})
				pending = false
				continue
			}
			startLine = line
		}
		if trailingBackslashes(content)%2 == 1 {
			logical = append(logical, content[:len(content)-1]...)
			if next < len(data) {
				pending = true
				continue // the entry goes on in the next line
			}
		} else {
			logical = append(logical, content...)
		}
		c := chunk{raw: data[start:next]}
		// An entry that comes to nothing is none, but for Java's reader
		// at the end of the file: a line ending in "\" right before it,
		// or before a lone CR or LF there, gives the empty key.
		if len(logical) > 0 || (next == len(data) && next-end < 2 && trailingBackslashes(content)%2 == 1) {
			var err error
			if c.Entry, err = splitEntry(logical, startLine); err != nil {
				return nil, err
			}
			c.entry = true
			f.keys[c.Key] = append(f.keys[c.Key], len(f.chunks))
		}
		f.chunks = append(f.chunks, c)
		logical, pending = logical[:0], false
	}
	return f, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func trailingBackslashes(b []byte) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n
}

// splitEntry splits a logical line into key and value as Properties.load0
// does: the key ends at the first unescaped '=', ':' or white space; white
// space and one '=' or ':' separate it from the value.
func splitEntry(l []byte, line int) (Entry, error) {
	keyLen, valueStart := 0, len(l)
	hasSep, backslash := false, false
	for ; keyLen < len(l); keyLen++ {
		c := l[keyLen]
		if (c == '=' || c == ':') && !backslash {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if isSpace(c) && !backslash {
			valueStart = keyLen + 1
			break
		}
		backslash = c == '\\' && !backslash
	}
	for ; valueStart < len(l); valueStart++ {
		c := l[valueStart]
		if !isSpace(c) {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
	}
	key, err := unescape(l[:keyLen])
	if err != nil {
		return Entry{}, fmt.Errorf("line %d: key: %w", line, err)
	}
	value, err := unescape(l[valueStart:])
	if err != nil {
		return Entry{}, fmt.Errorf("line %d: value of %s: %w", line, excerpt.Quote(key), err)
	}
	return Entry{Key: key, Value: value, Line: line}, nil
}

// unescape decodes escapes as Properties.loadConvert does: \uXXXX, \t \n
// \r \f, and any other \c as c.
func unescape(b []byte) (string, error) {
	if bytes.IndexByte(b, '\\') < 0 && isASCII(b) {
		return string(b), nil
	}
	u := make([]uint16, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			u = append(u, uint16(c))
			continue
		}
		i++
		switch c = b[i]; c {
		case 'u':
			if i+4 >= len(b) {
				return "", fmt.Errorf("malformed \\uxxxx escape")
			}
			var v uint16
			for _, h := range b[i+1 : i+5] {
				d, ok := hexDigit(h)
				if !ok {
					return "", fmt.Errorf("malformed \\uxxxx escape")
				}
				v = v<<4 | uint16(d)
			}
			u = append(u, v)
			i += 4
		case 't':
			u = append(u, '\t')
		case 'n':
			u = append(u, '\n')
		case 'r':
			u = append(u, '\r')
		case 'f':
			u = append(u, '\f')
		default:
			u = append(u, uint16(c))
		}
	}
	return string(utf16.Decode(u)), nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Entries returns every entry in file order, a key set twice included.
func (f *File) Entries() []Entry {
	var es []Entry
	for _, c := range f.chunks {
		if c.entry {
			es = append(es, c.Entry)
		}
	}
	return es
}

// Get returns the value of key as Properties.load leaves it: the last
// entry's.
func (f *File) Get(key string) (string, bool) {
	idx := f.keys[key]
	if len(idx) == 0 {
		return "", false
	}
	return f.chunks[idx[len(idx)-1]].Value, true
}

// Set makes key hold value. The last entry of key is rewritten in place
// (as "key=value" with Properties.store's escapes, keeping its line end)
// and any earlier one removed; a new key is appended at the end.
func (f *File) Set(key, value string) {
	text := EscapeKey(key) + "=" + EscapeValue(value)
	idx := f.keys[key]
	if len(idx) == 0 {
		f.endLastLine()
		f.keys[key] = []int{len(f.chunks)}
		f.chunks = append(f.chunks, chunk{raw: []byte(text + f.eol), entry: true, Entry: Entry{Key: key, Value: value}})
		return
	}
	last := idx[len(idx)-1]
	for _, i := range idx[:len(idx)-1] {
		f.chunks[i] = chunk{}
	}
	f.keys[key] = []int{last}
	c := &f.chunks[last]
	c.raw = append([]byte(text), lineEnd(c.raw)...)
	c.Value = value
}

// endLastLine ends the file's last line, so that a line can follow it.
func (f *File) endLastLine() {
	n := len(f.chunks) - 1
	for n >= 0 && len(f.chunks[n].raw) == 0 {
		n--
	}
	if n < 0 {
		return
	}
	c := &f.chunks[n]
	end := lineEnd(c.raw)
	if c.entry && trailingBackslashes(c.raw[:len(c.raw)-len(end)])%2 == 1 {
		// Its "\" ends the entry only at the end of the file: before a
		// new line it would join that line to it.
		c.raw, end = []byte(EscapeKey(c.Key)+"="+EscapeValue(c.Value)), ""
	}
	if end == "" {
		c.raw = append(append([]byte(nil), c.raw...), f.eol...)
	}
}

// Delete removes every entry of key and reports whether there was one.
func (f *File) Delete(key string) bool {
	idx := f.keys[key]
	for _, i := range idx {
		f.chunks[i] = chunk{}
	}
	delete(f.keys, key)
	return len(idx) > 0
}

func endsLine(b []byte) bool {
	return len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r')
}

// lineEnd returns the line end that b ends with, or "".
func lineEnd(b []byte) string {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		return "\r\n"
	case endsLine(b):
		return string(b[len(b)-1:])
	}
	return ""
}

// WriteTo writes the file: untouched chunks as read, changed and new
// entries as Properties.store writes them.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, c := range f.chunks {
		m, err := w.Write(c.raw)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Bytes returns what WriteTo writes.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	f.WriteTo(&b)
	return b.Bytes()
}

// EscapeKey escapes a key as Properties.store does: like EscapeValue, and
// every space too.
func EscapeKey(s string) string { return escape(s, true) }

// EscapeValue escapes a value as Properties.store does: '\', tab, LF, CR,
// form feed, '=', ':', '#', '!' and a leading space get a backslash;
// characters outside 0x20…0x7E become \uXXXX (upper-case hex, UTF-16).
func EscapeValue(s string) string { return escape(s, false) }

func escape(s string, escapeSpace bool) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	first := true
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ':
			if first || escapeSpace {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '=' || r == ':' || r == '#' || r == '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			for _, u := range utf16.Encode([]rune{r}) {
				b.WriteString(`\u`)
				b.WriteByte(hex[u>>12&15])
				b.WriteByte(hex[u>>8&15])
				b.WriteByte(hex[u>>4&15])
				b.WriteByte(hex[u&15])
			}
		default:
			b.WriteRune(r)
		}
		first = false
	}
	return b.String()
}
