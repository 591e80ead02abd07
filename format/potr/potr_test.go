package potr

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

const sample = "../../testdata/fixtures/gajim/guardianproject.info.key3"

func readSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSample checks the Gajim sample against doc/formats.md §11.1: 446
// bytes, MPIs of 128/20/128/128/20 bytes, a valid key with fingerprint
// 203ed8dc….
func TestSample(t *testing.T) {
	data := readSample(t)
	if len(data) != 446 {
		t.Fatalf("sample has %d bytes, want 446", len(data))
	}
	k, err := ParsePrivKey(data, sample)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Fingerprint().String(); got != "203ed8dc97d55d979de3ed7620dd4fae14be9e46" {
		t.Errorf("fingerprint %s", got)
	}
	if err := k.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for i, want := range []int{128, 20, 128, 128, 20} {
		v := []*big.Int{k.P, k.Q, k.G, k.Y, k.X}[i]
		if len(v.Bytes()) != want {
			t.Errorf("MPI %s has %d bytes, want %d", mpiNames[i], len(v.Bytes()), want)
		}
	}
	out, err := AppendPrivKey(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Error("sample not written back byte for byte")
	}
	// Without the bytes read, the writer produces potr's minimal form,
	// which the sample is in.
	k.Native = nil
	out, err = AppendPrivKey(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Error("minimal encoding differs from potr's sample")
	}
}

// mpi is one MPI as potr packs it, with lead extra zero bytes.
func mpi(v int64, lead int) []byte {
	b := append(make([]byte, lead), big.NewInt(v).Bytes()...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func file(parts ...[]byte) []byte {
	return append([]byte{0, 0}, bytes.Join(parts, nil)...)
}

// TestStoredFormKept: leading zeros and trailing bytes, which potr
// accepts, survive a round trip; changed values are written minimal.
func TestStoredFormKept(t *testing.T) {
	data := append(file(mpi(23, 2), mpi(11, 0), mpi(4, 1), mpi(13, 0), mpi(3, 0)), "trailing"...)
	k, err := ParsePrivKey(data, "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{23, 11, 4, 13, 3}
	for i, v := range []*big.Int{k.P, k.Q, k.G, k.Y, k.X} {
		if v.Int64() != want[i] {
			t.Errorf("%s = %v, want %d", mpiNames[i], v, want[i])
		}
	}
	out, _ := AppendPrivKey(nil, k)
	if !bytes.Equal(out, data) {
		t.Errorf("round trip\n got %x\nwant %x", out, data)
	}
	k.X = big.NewInt(5)
	out, _ = AppendPrivKey([]byte("pre"), k)
	if wantOut := append([]byte("pre"), file(mpi(23, 0), mpi(11, 0), mpi(4, 0), mpi(13, 0), mpi(5, 0))...); !bytes.Equal(out, wantOut) {
		t.Errorf("changed key\n got %x\nwant %x", out, wantOut)
	}
	// A key read by another format (another Native) is written minimal.
	k.Native = "something else"
	out, _ = AppendPrivKey(nil, k)
	if len(out) != 2+5*5 {
		t.Errorf("foreign Native: %d bytes, want %d", len(out), 2+5*5)
	}
	// Zero is the empty MPI, as potr's long_to_bytes(0) gives.
	k.X = new(big.Int)
	out, _ = AppendPrivKey(nil, k)
	if !bytes.HasSuffix(out, []byte{0, 0, 0, 0}) || len(out) != 2+4*5+4 {
		t.Errorf("zero x: %x", out)
	}
}

func TestParseErrors(t *testing.T) {
	good := file(mpi(23, 0), mpi(11, 0), mpi(4, 0), mpi(13, 0), mpi(3, 0))
	huge := binary.BigEndian.AppendUint32([]byte{0, 0}, 0xffffffff)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "k.key3: 0 bytes: too short"},
		{"type", append([]byte{0, 1}, good[2:]...), "k.key3: byte 0: key type 0x0001, want 0x0000 (DSA)"},
		{"pickle", []byte("\x80\x02}q\x00."), "key type 0x8002"},
		{"no length", good[:2+5+2], "k.key3: byte 7: MPI q: file ends before its 4-byte length"},
		{"short MPI", good[:len(good)-1], "k.key3: byte 22: MPI x: length 1 exceeds the 0 bytes left"},
		{"huge length", huge, "k.key3: byte 2: MPI p: length 4294967295 exceeds the 0 bytes left"},
	} {
		_, err := ParsePrivKey(c.data, "k.key3")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	_, err := ReadPrivKey(bytes.NewReader(make([]byte, MaxFileSize+1)), "big.key3")
	if err == nil || !strings.Contains(err.Error(), "big.key3: larger than 65536 bytes") {
		t.Errorf("large file: %v", err)
	}
	if _, err := ReadPrivKey(bytes.NewReader(good), "k.key3"); err != nil {
		t.Errorf("ReadPrivKey: %v", err)
	}
}

func TestAppendErrors(t *testing.T) {
	k := &keysync.DSAKey{P: big.NewInt(23), Q: big.NewInt(11), G: big.NewInt(4), Y: big.NewInt(13)}
	if _, err := AppendPrivKey(nil, k); err == nil || err.Error() != "MPI x: missing" {
		t.Errorf("missing x: %v", err)
	}
	k.X = big.NewInt(-1)
	if _, err := AppendPrivKey(nil, k); err == nil || err.Error() != "MPI x: negative" {
		t.Errorf("negative x: %v", err)
	}
	if _, err := AppendPrivKey(nil, nil); err == nil {
		t.Error("nil key accepted")
	}
}

// FuzzParsePrivKey checks that parsing never panics, that errors stay
// short, and that what is read is written back byte for byte and reads
// back to the same key.
func FuzzParsePrivKey(f *testing.F) {
	f.Add(readSample(f))
	f.Add(file(mpi(23, 2), mpi(11, 0), mpi(4, 1), mpi(13, 0), mpi(3, 0)))
	f.Add(binary.BigEndian.AppendUint32([]byte{0, 0}, 0xffffffff))
	f.Add(append(file(mpi(1, MaxFileSize/2)), 1, 2, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ReadPrivKey(bytes.NewReader(data), "f")
		if err != nil {
			if len(err.Error()) > 200 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		out, err := AppendPrivKey(nil, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatal("not written back byte for byte")
		}
		k.Native = nil
		min, err := AppendPrivKey(nil, k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePrivKey(min, "f")
		if err != nil || !k2.Equal(k) {
			t.Fatalf("minimal form reads back as %v, %v", k2, err)
		}
	})
}
