// Command rewrite puts the citations of keysync's reference into their
// canonical form, doc/protocol.md §10.3, in every .go, .md, .fsm and .txt
// file under a folder outside its doc/:
//
//	go run ./internal/citation/rewrite [-check] [folder]
//
// The folder is the repository root, "." by default. It prints the names
// of the files it changes. With -check it changes nothing, prints the
// files it would change and exits with status 1 if there are any.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keysync/keysync/internal/citation"
)

func main() {
	check := flag.Bool("check", false, "print the files that would change, change nothing")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: rewrite [-check] [folder]")
		flag.PrintDefaults()
	}
	flag.Parse()
	root := "."
	switch flag.NArg() {
	case 0:
	case 1:
		root = flag.Arg(0)
	default:
		flag.Usage()
		os.Exit(2)
	}
	changed, err := run(root, *check)
	for _, n := range changed {
		fmt.Println(n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
	if *check && len(changed) > 0 {
		os.Exit(1)
	}
}

// run rewrites the files under root and returns the names of those that
// changed, or with check would change.
func run(root string, check bool) ([]string, error) {
	var changed []string
	err := citation.Walk(os.DirFS(root), func(name string, src []byte) error {
		out := citation.Rewrite(name, src)
		if bytes.Equal(out, src) {
			return nil
		}
		changed = append(changed, name)
		if check {
			return nil
		}
		file := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Stat(file)
		if err != nil {
			return err
		}
		return os.WriteFile(file, out, info.Mode().Perm())
	})
	return changed, err
}
