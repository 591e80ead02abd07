package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/keysync/keysync"
)

// fullReport is a Report with its contacts held, in the field order of
// WriteJSON, for encoding/json to encode.
type fullReport struct {
	Sources   []string         `json:"sources"`
	Accounts  []fullAccount    `json:"accounts"`
	Conflicts []ConflictReport `json:"conflicts"`
	Notices   []NoticeReport   `json:"notices"`
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
		full := fullReport{Sources: r.Sources, Conflicts: r.Conflicts, Notices: r.Notices, Accounts: []fullAccount{}}
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
	want := "{\n  \"sources\": [],\n  \"accounts\": [],\n  \"conflicts\": [],\n  \"notices\": []\n}\n"
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
