package plistcheck

import (
	"os"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/keysync/keysync/internal/plistcheck/bplisttest"
)

// FuzzCheck checks that Check never panics and that howett.net/plist can
// unmarshal whatever Check accepts without panicking. Seeds reach every
// limit.
func FuzzCheck(f *testing.F) {
	xml, err := os.ReadFile("../../testdata/fixtures/adium/Accounts.plist")
	if err != nil {
		f.Fatal(err)
	}
	var doc any
	if _, err := plist.Unmarshal(xml, &doc); err != nil {
		f.Fatal(err)
	}
	bin, err := plist.Marshal(doc, plist.BinaryFormat)
	if err != nil {
		f.Fatal(err)
	}
	deep := make([][]byte, MaxDepth+1)
	for i := range MaxDepth {
		deep[i] = bplisttest.Array(i + 1)
	}
	deep[MaxDepth] = bplisttest.Array()
	var shared [][]byte
	for i := range 20 {
		shared = append(shared, bplisttest.Array(i+1, i+1))
	}
	shared = append(shared, []byte{0x51, 'x'})
	for _, b := range [][]byte{
		xml, bin, bplisttest.Build(deep, 0), bplisttest.Build(deep[1:], 0), bplisttest.Build(shared, 0),
		bplisttest.Build([][]byte{bplisttest.Array(1), bplisttest.Array(0)}, 0),
		bplisttest.Build([][]byte{{0x6F, 0x13, 0x80, 0, 0, 0, 0, 0, 0, 0}}, 0),
		bplisttest.Build([][]byte{{0xDF, 0x10, 0x01, 0, 0, 0, 1, 0, 0, 0, 1}, {0x51, 'k'}}, 0),
		[]byte("<plist>" + strings.Repeat("<array>", MaxDepth-1) + strings.Repeat("</array>", MaxDepth-1) + "</plist>"),
		[]byte("<plist>" + strings.Repeat("<array>", MaxDepth)),
		[]byte(`{ a = ( "(", ")" ); }`),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := Check(data); err != nil {
			if len(err.Error()) > 1<<10 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		var v any
		_, _ = plist.Unmarshal(data, &v) // only a panic matters here
	})
}
