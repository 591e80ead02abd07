package trustsync

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/app"
)

func TestEncodeDecode(t *testing.T) {
	u := &Update{From: "DEV", Seq: 3, Fprs: []FprRow{{Account: "irc:me@example.org", Contact: "bob", Fpr: strings.Repeat("ab", 20), Trust: "smp"}},
		Resolve: []Resolution{{"irc:me@example.org", strings.Repeat("cd", 20)}}}
	p, err := Encode(u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "DEV" || got.Seq != 3 || len(got.Fprs) != 1 || got.Fprs[0] != u.Fprs[0] || got.Resolve[0] != u.Resolve[0] {
		t.Fatalf("decoded %+v", got)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestDecodeRefuses(t *testing.T) {
	fpr := strings.Repeat("ab", 20)
	for _, c := range []struct{ name, json, want string }{
		{"version", `{"v":2}`, "version 2"},
		{"unknown field", `{"v":1,"x":1}`, "unknown field"},
		{"bad fingerprint", `{"v":1,"fprs":[{"account":"irc:a","contact":"b","fpr":"AB","trust":""}]}`, "fprs[0]"},
		{"no account", `{"v":1,"fprs":[{"account":"a","contact":"b","fpr":"` + fpr + `","trust":""}]}`, "fprs[0]"},
		{"chunk index", `{"v":1,"chunk":{"for":"D","attempt":0,"index":2,"count":2,"data":""}}`, "chunk"},
		{"key values", `{"v":1,"keys":[{"account":"irc:a","fpr":"` + fpr + `","p":"","q":"","g":"","y":"","x":""}]}`, "keys[0]"},
	} {
		_, err := Decode(gz(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	if _, err := Decode([]byte("not gzip")); err == nil {
		t.Error("a payload that is no gzip was accepted")
	}
}

// bigReplica returns a replica of n fingerprint rows over 100 accounts.
func bigReplica(n int) *Replica {
	r := NewReplica()
	for i := range n {
		r.Fprs[FprID{fmt.Sprintf("xmpp:me%d@example.org", i%100), fmt.Sprintf("contact%d@example.net", i),
			fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15)}] = []string{"", "verified", "smp"}[i%3]
	}
	return r
}

func TestSnapshotChunksStayUnderTheLimit(t *testing.T) {
	r := bigReplica(100_000)
	chunks, err := Snapshot(r, &Request{Device: "JOINER"})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("100k rows in %d chunk", len(chunks))
	}
	var all bytes.Buffer
	for i, c := range chunks {
		if len(c) > ChunkSize+1024 {
			t.Errorf("chunk %d: %d bytes", i, len(c))
		}
		u, err := Decode(c)
		if err != nil {
			t.Fatal(err)
		}
		if u.Chunk.Index != i || u.Chunk.Count != len(chunks) {
			t.Fatalf("chunk %d is %d of %d", i, u.Chunk.Index, u.Chunk.Count)
		}
		all.Write(u.Chunk.Data)
	}
	u, err := Decode(all.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := NewReplica()
	got.apply(u)
	if !got.Equal(r) {
		t.Fatal("the chunks do not make the replica again")
	}
}

func TestJoinerGetsTheReplica(t *testing.T) {
	a, b := irssiDir(t), irssiDir(t)
	setTrust(t, a, "goldy", "smp")
	g := newGroup(t, 6, []app.Location{location(t, "irssi", a)}, []app.Location{location(t, "irssi", b)})
	g.settle(t)
	// Rows the group holds beyond the apps' (from a device gone since).
	big := bigReplica(3000)
	for _, d := range g.devs {
		if err := d.db.Update(func(tx *bolt.Tx) error {
			b, err := root(tx)
			if err != nil {
				return err
			}
			return write(b, big.update())
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A third device joins with an empty xchat folder.
	c := t.TempDir()
	g.members = append(g.members, "DEV02")
	d := newFakeDev(t, g.net, "DEV02", &g.members)
	d.pos = len(g.net.log) // it could not read what came before
	g.devs = append(g.devs, d)
	g.syncers = append(g.syncers, &Syncer{Dev: d, Apps: []app.Location{location(t, "xchat", c)}})
	g.settle(t)
	if !d.replica().Equal(g.devs[0].replica()) {
		t.Fatal("the joiner's replica differs")
	}
	if n, _, _ := d.replica().Rows(); n != 3004 {
		t.Fatalf("the joiner holds %d rows, want 3004", n)
	}
	if tr, _ := trustOf(t, location(t, "xchat", c), "goldy"); tr != "smp" {
		ents, _ := os.ReadFile(filepath.Join(c, "otr.fp"))
		t.Fatalf("the joiner's app: goldy %q; status %+v; files %s", tr, d.status(), ents)
	}
}

// TestVectors checks doc/vectors.md §9: each payload decodes, and encodes
// back to the same JSON text.
func TestVectors(t *testing.T) {
	// The name is spelled in two pieces: the citation rewriter would take
	// the path for a citation.
	doc, err := os.ReadFile(filepath.Join("..", "doc", "vectors"+".md"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(doc), "```trustsync-json\n")
	if len(parts) != 5 {
		t.Fatalf("doc/vectors.md has %d trustsync vectors, want 4", len(parts)-1)
	}
	for i, p := range parts[1:] {
		vec, _, _ := strings.Cut(p, "```")
		u, err := Decode(gz(vec))
		if err != nil {
			t.Fatalf("vector %d: %v", i+1, err)
		}
		enc, err := Encode(u)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(enc))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		got.ReadFrom(zr)
		if got.String() != vec {
			t.Errorf("vector %d encodes to\n%s\nwant\n%s", i+1, got.String(), vec)
		}
		if u.Chunk != nil {
			inner, err := Decode(u.Chunk.Data)
			if err != nil || !inner.empty() {
				t.Errorf("vector %d: chunk data %v %+v", i+1, err, inner)
			}
		}
	}
}

func TestLargeUpdatesAreSplit(t *testing.T) {
	r := bigReplica(100_000)
	u := r.update()
	parts := split(u)
	if len(parts) < 2 {
		t.Fatalf("100k rows in %d update", len(parts))
	}
	n := 0
	for i, p := range parts {
		enc, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > ChunkSize {
			t.Errorf("part %d: %d bytes", i, len(enc))
		}
		n += len(p.Fprs)
	}
	if n != 100_000 {
		t.Fatalf("the parts carry %d rows", n)
	}
}
