// Package plistcheck bounds the work of reading a property list before a
// parser sees it. howett.net/plist recurses once per nesting level (a
// 7 MB file of nested arrays overflows the stack) and checks each binary
// container against all its ancestors (time quadratic in the depth), and
// its unmarshalling expands an object shared by several containers once per
// reference. Check walks the data without recursion and refuses anything
// deeper, larger or more expanded than the limits below, which are far
// above what any Adium Accounts.plist holds (a few kilobytes, nesting 4).
//
// Only the two forms Adium writes are accepted: XML and binary
// ("bplist"). The old text (OpenStep) form is refused.
package plistcheck

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keysync/keysync/internal/excerpt"
)

// Limits on what Check accepts.
const (
	MaxSize   = 4 << 20 // bytes in the file
	MaxDepth  = 64      // nesting of XML elements or binary containers
	MaxValues = 1 << 18 // XML elements, or binary objects counted once per reference
)

// Error is a property list refused by Check, at a position in the data.
type Error struct {
	Pos string // "line 12" (XML), "byte offset 80 (object 3)" (binary)
	Msg string
}

func (e *Error) Error() string { return e.Pos + ": " + e.Msg }

// ReadFile is os.ReadFile reading at most MaxSize+1 bytes: enough for
// Check to refuse a larger file, without holding all of it.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// Check returns an *Error unless data is an XML or binary property list
// within MaxSize, MaxDepth and MaxValues. For the binary form it also
// checks every offset, count and object reference it follows against the
// data, so that a parser indexing by them stays inside it.
func Check(data []byte) error {
	if len(data) > MaxSize {
		return &Error{Pos: fmt.Sprintf("byte offset %d", MaxSize), Msg: fmt.Sprintf("larger than %d bytes (%d MiB)", MaxSize, MaxSize>>20)}
	}
	if bytes.HasPrefix(data, []byte("bplist")) {
		return checkBinary(data)
	}
	return checkXML(data)
}

// plistElements are the elements howett.net/plist's XML parser knows; a
// document starting with any other makes it try the text form.
var plistElements = map[string]bool{
	"plist": true, "dict": true, "array": true, "key": true, "string": true, "integer": true,
	"real": true, "true": true, "false": true, "date": true, "data": true,
}

func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, values := 0, 0
	errAt := func(format string, args ...any) error {
		line, _ := d.InputPos()
		return &Error{Pos: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf(format, args...)}
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if values == 0 {
				return &Error{Pos: "line 1", Msg: "not an XML or binary property list (no element)"}
			}
			return nil // the decoder reports unclosed elements as a syntax error
		}
		if err != nil {
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			if values == 0 {
				return errAt("not an XML or binary property list (%s)", excerpt.Cut(msg, 80))
			}
			return errAt("malformed XML: %s", excerpt.Cut(msg, 80))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if values == 0 && !plistElements[t.Name.Local] {
				return errAt("not an XML or binary property list (root element %s)", excerpt.Quote(t.Name.Local))
			}
			depth++
			values++
			if depth > MaxDepth {
				return errAt("elements nested deeper than %d", MaxDepth)
			}
			if values > MaxValues {
				return errAt("more than %d elements", MaxValues)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// Binary property list markers (high nibble of an object's first byte).
const (
	markData   = 0x4
	markASCII  = 0x5
	markUTF16  = 0x6
	markArray  = 0xA
	markDict   = 0xD
	headerSize = 8
	trailerLen = 32
)

// bplist holds the trailer fields of a binary property list.
type bplist struct {
	data       []byte
	offsetSize int    // bytes per entry of the offset table
	refSize    int    // bytes per object reference
	numObjects uint64 // entries in the offset table
	tableStart uint64 // byte offset of the offset table; objects lie before it
}

// beUint reads an n-byte big-endian unsigned integer at off; the caller has
// checked that the bytes are there.
func beUint(b []byte, off uint64, n int) uint64 {
	var v uint64
	for _, c := range b[off : off+uint64(n)] {
		v = v<<8 | uint64(c)
	}
	return v
}

func checkBinary(data []byte) error {
	if len(data) < headerSize+trailerLen {
		return &Error{Pos: "byte offset 0", Msg: fmt.Sprintf("binary property list shorter than %d bytes", headerSize+trailerLen)}
	}
	trailer := uint64(len(data) - trailerLen)
	t := data[trailer:]
	p := bplist{
		data:       data,
		offsetSize: int(t[6]),
		refSize:    int(t[7]),
		numObjects: binary.BigEndian.Uint64(t[8:]),
		tableStart: binary.BigEndian.Uint64(t[24:]),
	}
	top := binary.BigEndian.Uint64(t[16:])
	bad := func(format string, args ...any) error {
		return &Error{Pos: fmt.Sprintf("byte offset %d (trailer)", trailer), Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case p.offsetSize < 1 || p.offsetSize > 8:
		return bad("offset size %d, want 1 to 8", p.offsetSize)
	case p.refSize < 1 || p.refSize > 8:
		return bad("object reference size %d, want 1 to 8", p.refSize)
	case p.tableStart < headerSize || p.tableStart > trailer:
		return bad("offset table at byte %d, outside the data", p.tableStart)
	case p.numObjects > (trailer-p.tableStart)/uint64(p.offsetSize):
		return bad("%d objects do not fit in the offset table", p.numObjects)
	case p.numObjects > MaxValues: // a parser allocates a slot for each
		return bad("%d objects, more than %d", p.numObjects, MaxValues)
	case top >= p.numObjects:
		return bad("top object %d of %d objects", top, p.numObjects)
	}
	return p.walk(top)
}

// container is an array or dictionary being walked: its object number and
// the byte offsets of its next and end object reference.
type container struct {
	obj       uint64
	next, end uint64
}

// walk visits the object tree from top as an unmarshaller expands it, with
// an explicit stack.
func (p *bplist) walk(top uint64) error {
	var stack []container
	values := 0
	visit := func(obj uint64) error {
		values++
		off := beUint(p.data, p.tableStart+obj*uint64(p.offsetSize), p.offsetSize)
		bad := func(format string, args ...any) error {
			return &Error{Pos: fmt.Sprintf("byte offset %d (object %d)", off, obj), Msg: fmt.Sprintf(format, args...)}
		}
		if values > MaxValues {
			return bad("more than %d objects, counting each reference", MaxValues)
		}
		if off < headerSize || off >= p.tableStart {
			return bad("object outside the object area")
		}
		mark := p.data[off] >> 4
		var unit uint64 // bytes per counted item
		switch mark {
		case markData, markASCII:
			unit = 1
		case markUTF16:
			unit = 2
		case markArray:
			unit = uint64(p.refSize)
		case markDict:
			unit = 2 * uint64(p.refSize)
		default:
			return nil // a fixed-size scalar; the trailer follows it
		}
		count, start, err := p.count(off)
		if err != nil {
			return bad("%v", err)
		}
		if count > (p.tableStart-start)/unit {
			return bad("count %d runs past the object area", count)
		}
		if mark != markArray && mark != markDict {
			return nil
		}
		for _, c := range stack {
			if c.obj == obj {
				return bad("container holds itself")
			}
		}
		if len(stack) == MaxDepth {
			return bad("containers nested deeper than %d", MaxDepth)
		}
		stack = append(stack, container{obj: obj, next: start, end: start + count*unit})
		return nil
	}
	if err := visit(top); err != nil {
		return err
	}
	for len(stack) > 0 {
		c := &stack[len(stack)-1]
		if c.next == c.end {
			stack = stack[:len(stack)-1]
			continue
		}
		ref := beUint(p.data, c.next, p.refSize)
		c.next += uint64(p.refSize)
		if ref >= p.numObjects {
			return &Error{Pos: fmt.Sprintf("byte offset %d (object %d)", c.next-uint64(p.refSize), c.obj),
				Msg: fmt.Sprintf("reference to object %d of %d", ref, p.numObjects)}
		}
		if err := visit(ref); err != nil {
			return err
		}
	}
	return nil
}

// count reads the item count of the object at off: the low nibble of its
// marker, or, when that is 0xF, the integer object that follows. It
// returns the count and the offset of the first item.
func (p *bplist) count(off uint64) (count, start uint64, err error) {
	if n := p.data[off] & 0xF; n != 0xF {
		return uint64(n), off + 1, nil
	}
	if off+2 > p.tableStart {
		return 0, 0, errors.New("count runs past the object area")
	}
	intMark := p.data[off+1]
	size := uint64(1) << (intMark & 0xF)
	if intMark>>4 != 1 || size > 8 {
		return 0, 0, fmt.Errorf("count is not a 1 to 8 byte integer (marker %#02x)", intMark)
	}
	if off+2+size > p.tableStart {
		return 0, 0, errors.New("count runs past the object area")
	}
	return beUint(p.data, off+2, int(size)), off + 2 + size, nil
}
