package plistcheck

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/keysync/keysync/internal/plistcheck/bplisttest"
)

func TestAcceptsAdiumFiles(t *testing.T) {
	xml, err := os.ReadFile("../../testdata/fixtures/adium/Accounts.plist")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if _, err := plist.Unmarshal(xml, &doc); err != nil {
		t.Fatal(err)
	}
	bin, err := plist.Marshal(doc, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{xml, bin, []byte("<dict/>"), bplisttest.Build([][]byte{bplisttest.Array(1, 1), {0x51, 'x'}}, 0)} {
		if err := Check(data); err != nil {
			t.Errorf("%.20q: %v", data, err)
		}
	}
}

func TestRefuses(t *testing.T) {
	deepBinary := make([][]byte, MaxDepth+1)
	for i := range MaxDepth {
		deepBinary[i] = bplisttest.Array(i + 1)
	}
	deepBinary[MaxDepth] = bplisttest.Array()
	var shared [][]byte
	for i := range 30 {
		shared = append(shared, bplisttest.Array(i+1, i+1))
	}
	shared = append(shared, []byte{0x08})
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"too large", []byte("<plist>" + strings.Repeat(" ", MaxSize)), "byte offset 4194304: larger than 4194304 bytes"},
		{"deep XML", []byte("<plist>\n" + strings.Repeat("<array>", MaxDepth)), "line 2: elements nested deeper than 64"},
		{"many XML elements", []byte("<array>" + strings.Repeat("<true/>", MaxValues)), "line 1: more than 262144 elements"},
		{"malformed XML", []byte("<plist>\n<dict></array>"), "line 2: malformed XML: element <dict> closed by </array>"},
		{"long XML message", []byte("<plist>\n<dict></" + strings.Repeat("a", 1000) + ">"), "line 2: malformed XML: element <dict> closed by </aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…"},
		{"text form", []byte(`{ Accounts = ( ( ( ) ) ); }`), "line 1: not an XML or binary property list"},
		{"text form behind an element", []byte(`"<a>" = ((((;`), "line 1: not an XML or binary property list (root element \"a\")"},
		{"empty", nil, "line 1: not an XML or binary property list"},
		{"short binary", []byte("bplist00"), "byte offset 0: binary property list shorter than 40 bytes"},
		{"deep binary", bplisttest.Build(deepBinary, 0), "byte offset 328 (object 64): containers nested deeper than 64"},
		{"cycle", bplisttest.Build([][]byte{bplisttest.Array(1), bplisttest.Array(0)}, 0), "byte offset 8 (object 0): container holds itself"},
		{"shared", bplisttest.Build(shared, 0), "counting each reference"},
		{"bad reference", bplisttest.Build([][]byte{bplisttest.Array(7)}, 0), "byte offset 9 (object 0): reference to object 7 of 1"},
		{"UTF-16 count overflows", bplisttest.Build([][]byte{{0x6F, 0x13, 0x80, 0, 0, 0, 0, 0, 0, 0}}, 0), "byte offset 8 (object 0): count 9223372036854775808 runs past the object area"},
		{"count not an integer", bplisttest.Build([][]byte{{0x5F, 0x23, 0, 0, 0, 0, 0, 0, 0, 1}}, 0), "count is not a 1 to 8 byte integer (marker 0x23)"},
		{"count past the end", bplisttest.Build([][]byte{{0x5F}}, 0), "byte offset 8 (object 0): count runs past the object area"},
		{"top out of range", bplisttest.Build([][]byte{bplisttest.Array()}, 1), "(trailer): top object 1 of 1 objects"},
	}
	for _, c := range cases {
		err := Check(c.data)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// A corrupted trailer is refused before any offset is followed.
func TestRefusesBadTrailer(t *testing.T) {
	good := bplisttest.Build([][]byte{bplisttest.Array()}, 0)
	for i, want := range map[int]string{
		6: "offset size 0, want 1 to 8",
		7: "object reference size 0, want 1 to 8",
	} {
		b := append([]byte{}, good...)
		b[len(b)-32+i] = 0
		if err := Check(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("byte %d of the trailer zeroed: %v, want %q", i, err, want)
		}
	}
	b := append([]byte{}, good...)
	binary.BigEndian.PutUint64(b[len(b)-24:], 1<<62)
	if err := Check(b); err == nil || !strings.Contains(err.Error(), "objects do not fit in the offset table") {
		t.Errorf("2^62 objects: %v", err)
	}
	many := make([][]byte, MaxValues+1)
	for i := range many {
		many[i] = []byte{0x08}
	}
	if err := Check(bplisttest.Build(many, 0)); err == nil || !strings.Contains(err.Error(), "262145 objects, more than 262144") {
		t.Errorf("%d objects: %v", len(many), err)
	}
	b = append([]byte{}, good...)
	binary.BigEndian.PutUint64(b[len(b)-8:], 1<<63)
	if err := Check(b); err == nil || !strings.Contains(err.Error(), "offset table at byte 9223372036854775808, outside the data") {
		t.Errorf("table at 2^63: %v", err)
	}
}
