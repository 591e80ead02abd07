package app

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/plistcheck"
	"github.com/keysync/keysync/internal/plistcheck/bplisttest"
)

// nestedBinaryPlist returns a binary plist of n arrays, each holding the next.
func nestedBinaryPlist(n int) []byte {
	objs := make([][]byte, n+1)
	for i := range n {
		objs[i] = bplisttest.Array(i + 1)
	}
	objs[n] = bplisttest.Array()
	return bplisttest.Build(objs, 0)
}

func adiumDir(t *testing.T, plist []byte) (dir, path string) {
	dir = t.TempDir()
	path = filepath.Join(dir, "Accounts.plist")
	if err := os.WriteFile(path, plist, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// The 7 MB file of nested arrays overflowed the stack (exit 2).
func TestAdiumNestedXMLPlistIsRefused(t *testing.T) {
	deep := []byte(`<plist version="1.0">` + strings.Repeat("<array>", 7<<20/7))
	for _, data := range [][]byte{deep, deep[:plistcheck.MaxSize/2]} {
		dir, path := adiumDir(t, data)
		_, err := adiumMapper(dir)
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
			t.Fatalf("%d bytes: err = %v, want one naming %s", len(data), err, path)
		}
		if !strings.Contains(err.Error(), "larger than") && !strings.Contains(err.Error(), "line 1: elements nested deeper than") {
			t.Errorf("%d bytes: err = %v, want the size or the depth with the line", len(data), err)
		}
	}
}

// 400k nested binary arrays took 28 s. They are more objects than
// plistcheck takes; 200k are within that, and too deep.
func TestAdiumNestedBinaryPlistIsRefused(t *testing.T) {
	for levels, want := range map[int]string{400000: "objects, more than", 200000: "nested deeper than"} {
		dir, path := adiumDir(t, nestedBinaryPlist(levels))
		_, err := adiumMapper(dir)
		if err == nil || !strings.HasPrefix(err.Error(), path+": byte offset ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%d levels: err = %v, want %q with file and byte offset", levels, err, want)
		}
	}
}

// Counts that overflow when added or multiplied made the parser panic.
func TestAdiumBinaryPlistHugeCountIsRefused(t *testing.T) {
	for _, obj := range [][]byte{
		{0x6F, 0x13, 0x80, 0, 0, 0, 0, 0, 0, 0},                      // UTF-16 string of 2^63 units: 0 bytes after overflow
		{0x5F, 0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, // ASCII string ending before it starts
		{0xAF, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 0},                      // array of 2^62 4-byte references
	} {
		data := bplisttest.Build([][]byte{obj}, 0)
		if _, err := parseAdiumAccounts(data); err == nil {
			t.Errorf("% x: accepted", obj)
		}
	}
}

// A binary plist whose containers share their children expands
// exponentially when unmarshalled into the ObjectID field.
func TestAdiumSharedBinaryPlistIsRefused(t *testing.T) {
	// Object 0: {"Accounts": [ {"ObjectID": deep, "UID": "u", "Type": "t"} ]}.
	const levels = 40
	key := func(s string) []byte { return append([]byte{0x50 | byte(len(s))}, s...) }
	objs := [][]byte{
		nil, key("Accounts"), bplisttest.Array(3), nil, key("ObjectID"), key("UID"), key("Type"),
	}
	objs[0] = append([]byte{0xD1}, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 2)...)
	d := []byte{0xD3}
	for _, r := range []int{4, 5, 6, 7, 5, 6} {
		d = binary.BigEndian.AppendUint32(d, uint32(r))
	}
	objs[3] = d
	for range levels {
		objs = append(objs, bplisttest.Array(len(objs)+1, len(objs)+1))
	}
	objs = append(objs, key("x"))
	_, err := parseAdiumAccounts(bplisttest.Build(objs, 0))
	if err == nil || !strings.Contains(err.Error(), "counting each reference") {
		t.Fatalf("err = %v, want the reference count", err)
	}
}
