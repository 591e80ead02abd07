package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

const beaconXER = `<Sync><keysync><beacon><challenge>00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF</challenge><version/></beacon></keysync></Sync>`

// TestWireEncodeRefusesTerminal: `keysync wire encode` writes binary UPER
// to a file but not to a terminal (here the master side of a new pseudo
// terminal), unless --hex.
func TestWireEncodeRefusesTerminal(t *testing.T) {
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo terminal: %v", err)
	}
	defer tty.Close()
	if !isTerminal(tty) {
		t.Fatal("the pseudo terminal is not taken for a terminal")
	}
	encode := func(out *os.File, args ...string) error {
		cmd := newWireCmd()
		cmd.SetArgs(append([]string{"encode"}, args...))
		cmd.SetIn(strings.NewReader(beaconXER))
		cmd.SetOut(out)
		cmd.SetErr(out)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.Execute()
	}
	err = encode(tty)
	if err == nil || !strings.Contains(err.Error(), "refusing to write binary to a terminal") || !strings.Contains(err.Error(), "--hex") {
		t.Fatalf("encode to a terminal: %v", err)
	}
	if err := encode(tty, "--hex"); err != nil {
		t.Fatalf("encode --hex to a terminal: %v", err)
	}
	f, err := os.Create(t.TempDir() + "/beacon.uper")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("a file is taken for a terminal")
	}
	if err := encode(f); err != nil {
		t.Fatalf("encode to a file: %v", err)
	}
	got, _ := os.ReadFile(f.Name())
	if want := []byte{0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}; !bytes.Equal(got, want) {
		t.Fatalf("wrote %x, want %x", got, want)
	}
}

// failingReader fails the test that reads it.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("stdin was read")
	return 0, io.EOF
}

// An unknown --pdu is a usage error with a suggestion, given before stdin
// is read.
func TestWireUnknownPDU(t *testing.T) {
	for _, sub := range []string{"decode", "encode"} {
		root := newRootCmd()
		root.SetIn(failingReader{t})
		root.SetOut(io.Discard)
		var stderr bytes.Buffer
		status := execute(root, []string{"wire", sub, "--hex", "--pdu", "sycn"}, &stderr)
		if status != exitUsage || !strings.Contains(stderr.String(), `unknown --pdu "sycn"; did you mean "sync"?`) {
			t.Errorf("wire %s --pdu sycn: status %d, stderr %q", sub, status, stderr.String())
		}
	}
}
