package app

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/keysync/keysync/format/libotr"
)

// TestEverySampleFileParsesWithoutPanic feeds every file of the libotr
// apps' samples (Adium's whole settings tree included) to every parser of
// this package and of libotr. Errors are fine; panics are not.
func TestEverySampleFileParsesWithoutPanic(t *testing.T) {
	n := 0
	for _, app := range []string{"pidgin", "adium", "irssi", "xchat", "kopete", "SAMENESS"} {
		err := filepath.WalkDir(filepath.Join(fixtures, app), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			libotr.ReadPrivKeys(bytes.NewReader(data), path)
			libotr.ReadFingerprints(bytes.NewReader(data), path)
			libotr.ReadInstanceTags(bytes.NewReader(data), path)
			readPurpleAccounts(bytes.NewReader(data))
			parseAdiumAccounts(data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 30 {
		t.Fatalf("walked only %d sample files", n)
	}
}
