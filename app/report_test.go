package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

// fullReport is a Report with its contacts held, in the field order of
// WriteJSON, for encoding/json to encode.
type fullReport struct {
	Sources     []string         `json:"sources"`
	Accounts    []fullAccount    `json:"accounts"`
	OpenPGPKeys []OpenPGPReport  `json:"openpgp_keys"`
	Conflicts   []ConflictReport `json:"conflicts"`
	Notices     []NoticeReport   `json:"notices"`
}

type fullAccount struct {
	AccountReport
	Contacts []ContactReport `json:"contacts"`
}

// TestReportWriteJSON checks that the streamed JSON is byte for byte what
// encoding/json makes of the whole report, names that need escaping
// included.
func TestReportWriteJSON(t *testing.T) {
	odd := t.TempDir()
	rows := "a<b>&c\tme@example.org/\tprpl-jabber\t" + "00112233445566778899aabbccddeeff00112233\t\"quoted\" \u2028\n" +
		"bad\xffutf8\tme@example.org/\tprpl-jabber\t" + "00112233445566778899aabbccddeeff00112234\t\n" +
		"x@y\tnick@irc.example.net\tprpl-irc\t" + "00112233445566778899aabbccddeeff00112235\tverified\n"
	if err := os.WriteFile(filepath.Join(odd, "otr.fingerprints"), []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"pidgin:" + fixtures + "/pidgin"},
		{"pidgin:" + fixtures + "/pidgin", "adium:" + fixtures + "/adium", "kopete:" + fixtures + "/kopete"},
		{"pidgin:" + odd},
	} {
		locs, err := ParseLocations(args)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Show(locs, nil)
		if err != nil {
			t.Fatal(err)
		}
		full := fullReport{Sources: r.Sources, OpenPGPKeys: r.OpenPGPKeys, Conflicts: r.Conflicts, Notices: r.Notices, Accounts: []fullAccount{}}
		for i, a := range r.Accounts {
			fa := fullAccount{a, []ContactReport{}}
			r.EachContact(i, func(c ContactReport) error {
				fa.Contacts = append(fa.Contacts, c)
				return nil
			})
			full.Accounts = append(full.Accounts, fa)
		}
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(full); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%v: WriteJSON gave\n%s\nwant\n%s", args, got.Bytes(), want.Bytes())
		}
	}
}

// TestReportEmpty checks the JSON of a report without accounts.
func TestReportEmpty(t *testing.T) {
	var got bytes.Buffer
	if err := NewReport(nil, &keysync.Model{}, nil, nil).WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"sources\": [],\n  \"accounts\": [],\n  \"openpgp_keys\": [],\n  \"conflicts\": [],\n  \"notices\": []\n}\n"
	if got.String() != want {
		t.Errorf("got %q, want %q", got.String(), want)
	}
}

// TestUnresolvedExitCode checks the error a conversion with unresolved
// conflicts returns: exit status 3 for the command line.
func TestUnresolvedExitCode(t *testing.T) {
	err := (&Conversion{Unresolved: 2}).Err()
	if ue, ok := err.(*UnresolvedError); !ok || ue.Conflicts != 2 {
		t.Fatalf("Err() = %#v, want *UnresolvedError{2}", err)
	}
	if e, ok := err.(interface{ ExitCode() int }); !ok || e.ExitCode() != 3 {
		t.Fatalf("Err() = %v has no exit code 3", err)
	}
	if err := (&Conversion{}).Err(); err != nil {
		t.Fatalf("no conflicts: Err() = %v", err)
	}
}

// TestReportGroupsContacts checks that a contact's fingerprints are listed
// together, in row order, under its account, contacts in order of first
// appearance, however the rows are interleaved.
func TestReportGroupsContacts(t *testing.T) {
	me := &keysync.Origin{Source: "s", Local: keysync.Account{Protocol: "xmpp", Address: "me@x"}}
	other := &keysync.Origin{Source: "t", Local: keysync.Account{Protocol: "irc", Address: "nick@irc"}}
	var m keysync.Model
	for i, r := range []struct {
		o       *keysync.Origin
		contact string
	}{{me, "a"}, {me, "b"}, {me, "a"}, {me, "a"}, {other, "a"}, {me, "c"}, {me, "b"}, {other, "a"}, {me, "a"}} {
		m.Fingerprints = append(m.Fingerprints, keysync.KnownFingerprint{Origin: r.o, Contact: r.contact,
			Fingerprint: keysync.OTRFingerprint([20]byte{byte(i)}), Trust: keysync.Trust(fmt.Sprint(i))})
	}
	r := NewReport(nil, &m, nil, nil)
	var got []string
	for i, a := range r.Accounts {
		r.EachContact(i, func(c ContactReport) error {
			s := a.Account + " " + c.Contact + ":"
			for _, f := range c.Fingerprints {
				s += " " + f.Trust
			}
			got = append(got, s)
			return nil
		})
	}
	want := []string{"xmpp:me@x a: 0 2 3 8", "xmpp:me@x b: 1 6", "xmpp:me@x c: 5", "irc:nick@irc a: 4 7"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// heapAfterGC returns the bytes of live heap objects.
func heapAfterGC() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// midWriter measures the live heap once, when half of the output is
// written.
type midWriter struct {
	n, half int64
	heap    int64
}

func (w *midWriter) Write(p []byte) (int, error) {
	if w.n < w.half && w.n+int64(len(p)) >= w.half {
		w.heap = heapAfterGC()
	}
	w.n += int64(len(p))
	return len(p), nil
}

// TestReportStreams checks that a report costs a few bytes a row beyond the
// model, and writing its JSON no more: contacts are made one at a time
// while they are written. (Holding every contact's report alone takes
// 190 bytes a row, and encoding/json holds the whole JSON as well.)
func TestReportStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200,000 rows")
	}
	const n = 200_000
	dir := t.TempDir()
	writeFingerprints(t, dir, n)
	locs, err := ParseLocations([]string{"pidgin:" + dir})
	if err != nil {
		t.Fatal(err)
	}
	sources, notices, err := ReadAll(locs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	merged, conflicts := keysync.Merge(sources, "")
	model := heapAfterGC()
	r := NewReport(locs, merged, conflicts, notices)
	report := heapAfterGC()
	var size countWriter
	size.w = io.Discard
	if err := r.WriteJSON(&size); err != nil {
		t.Fatal(err)
	}
	w := &midWriter{half: size.n / 2}
	if err := r.WriteJSON(w); err != nil {
		t.Fatal(err)
	}
	perRow := func(h int64) int64 { return (h - model) / n }
	if perRow(report) > 64 || perRow(w.heap) > 64 {
		t.Errorf("beyond the model: report %d bytes a row, while writing %d bytes a row; want at most 64",
			perRow(report), perRow(w.heap))
	}
	runtime.KeepAlive(r)
	runtime.KeepAlive(merged)
}
