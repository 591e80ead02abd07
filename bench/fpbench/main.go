// Command fpbench measures keysync's otr.fingerprints reader and writer for
// bench/fingerprints.sh.
//
//	fpbench gen ROWS FILE   write a generated fingerprints file
//	fpbench run IN OUT      read IN, sort it into libotr's order, write OUT;
//	                        print "read_s sort_s write_s maxrss_kib rows"
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/libotr"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fpbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 3 && args[0] == "gen":
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		return gen(n, args[2])
	case len(args) == 3 && args[0] == "run":
		return readWrite(args[1], args[2])
	}
	return fmt.Errorf("usage: fpbench gen ROWS FILE | fpbench run IN OUT")
}

// gen writes n rows: contacts with two fingerprints each under three local
// accounts, every trust value, in a scrambled order (not libotr's sorted
// order, so that the sort does real work).
func gen(n int, file string) error {
	accounts := []string{"me@example.org/", "me@work.example.com/Laptop", "nick"}
	protocols := []string{"prpl-jabber", "prpl-jabber", "prpl-irc"}
	trusts := []keysync.Trust{"", "verified", "smp", "", "manual", "", "custom trust"}
	rows := make([]libotr.FingerprintRow, n)
	x := uint64(88172645463325252)
	for i := range rows {
		c := (i / 2 * 2654435761) % (n/2 + 1) // scrambled contact number
		r := &rows[i]
		r.Username = fmt.Sprintf("contact%07d@chat.example.net", c)
		a := c % len(accounts)
		r.Account, r.Protocol = accounts[a], protocols[a]
		r.Fingerprint.Kind = keysync.OTRDSA
		for j := range r.Fingerprint.Sum {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			r.Fingerprint.Sum[j] = byte(x)
		}
		r.Trust = trusts[i%len(trusts)]
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := libotr.WriteFingerprints(w, rows); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func readWrite(in, out string) error {
	t0 := time.Now()
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	rows, err := libotr.ReadFingerprints(f, in)
	f.Close()
	if err != nil {
		return err
	}
	t1 := time.Now()
	libotr.SortFingerprints(rows)
	t2 := time.Now()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := libotr.WriteFingerprints(o, rows); err != nil {
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	t3 := time.Now()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	fmt.Printf("%.3f %.3f %.3f %d %d\n", t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds(), ru.Maxrss, len(rows))
	return nil
}
