package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync/internal/peer"
)

// The interop tests run keysync's codec against the C that Debian's asn1c
// 0.9.28 generates from testdata/wire/asn1 (and from the legacy variant
// of the schema), through one batch driver process per direction:
// testdata/wire/asn1c-driver.c.

// asn1cDriver builds (or finds in its cache) the batch driver for the
// current (legacy false) or legacy schema and returns its path.
func asn1cDriver(t testing.TB, legacy bool) string {
	t.Helper()
	peer.Need(t, "asn1c")
	peer.Need(t, "gcc")
	files := map[string][]byte{}
	schemas, _ := filepath.Glob("../testdata/wire/asn1/*.asn1")
	if len(schemas) != 6 {
		t.Fatalf("found %d schema files, want 6", len(schemas))
	}
	for _, f := range append(schemas, "../testdata/wire/asn1c-driver.c") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(f)] = b
	}
	if legacy {
		// doc/protocol.md §16: the older Identity is pep.asn1 without flags.
		old := "    lang        ISO639-1,\n    flags       INTEGER (0..65535)\n"
		pep := string(files["pep.asn1"])
		if !strings.Contains(pep, old) {
			t.Fatal("pep.asn1: Identity.flags not found")
		}
		files["pep.asn1"] = []byte(strings.Replace(pep, old, "    lang        ISO639-1\n", 1))
	}
	h := sha256.New()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(files[n]))
		h.Write(files[n])
	}
	dir := filepath.Join(os.TempDir(), "keysync-asn1c-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "asn1c-driver")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "keysync-asn1c-build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	var args []string
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(tmp, n), files[n], 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".asn1") {
			args = append(args, n)
		}
	}
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run("asn1c", append([]string{"-gen-PER", "-fcompound-names", "-pdu=auto"}, args...)...)
	srcs, _ := filepath.Glob(filepath.Join(tmp, "*.c"))
	gcc := []string{"-O2", "-w", "-I.", "-o", "asn1c-driver"}
	for _, s := range srcs {
		if b := filepath.Base(s); b != "converter-sample.c" && b != "pdu_collection.c" {
			gcc = append(gcc, b)
		}
	}
	run("gcc", gcc...)
	os.MkdirAll(dir, 0o755)
	if err := os.Rename(filepath.Join(tmp, "asn1c-driver"), bin); err != nil {
		if _, err2 := os.Stat(bin); err2 != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// records frames byte strings as the driver reads them.
func records(recs [][]byte) []byte {
	var b []byte
	for _, r := range recs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(r)))
		b = append(b, r...)
	}
	return b
}

// parseRecords splits the driver's output; a failed record is nil.
func parseRecords(t *testing.T, b []byte) [][]byte {
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatal("driver output: truncated record")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if n == 0xFFFFFFFF {
			recs = append(recs, nil)
			continue
		}
		if int(n) > len(b) {
			t.Fatal("driver output: truncated record")
		}
		recs = append(recs, b[:n:n])
		b = b[n:]
	}
	return recs
}

func runDriver(t testing.TB, bin, pdu, mode string, in []byte) []byte {
	cmd := exec.Command(bin, pdu, mode)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("asn1c driver %s %s: %v\n%s", pdu, mode, err, stderr.Bytes())
	}
	return out
}

// codec abstracts the two PDUs for the interop test.
type codec struct {
	pdu    string
	alts   int
	random func(f *randFiller, i int) walker
	name   func(i int) string
	per    func(o Options, w walker) ([]byte, error)
	xer    func(o Options, w walker) ([]byte, error)
	unper  func(b []byte) (walker, error)
	// unperIn decodes in one variant only.
	unperIn func(o Options, b []byte) (walker, error)
	unxer   func(b []byte) (walker, error)
}

var codecs = []codec{
	{
		pdu: "sync", alts: len(syncAlts),
		random:  func(f *randFiller, i int) walker { return f.randSync(i) },
		name:    func(i int) string { return syncAlts[i].name },
		per:     func(o Options, w walker) ([]byte, error) { return o.MarshalSync(w.(SyncMessage)) },
		xer:     func(o Options, w walker) ([]byte, error) { return o.MarshalSyncXER(w.(SyncMessage)) },
		unper:   func(b []byte) (walker, error) { m, _, err := UnmarshalSync(b); return m, err },
		unperIn: func(o Options, b []byte) (walker, error) { return o.UnmarshalSync(b) },
		unxer:   func(b []byte) (walker, error) { m, _, err := UnmarshalSyncXER(b); return m, err },
	},
	{
		pdu: "distribution", alts: len(distAlts),
		random:  func(f *randFiller, i int) walker { return f.randDistribution(i) },
		name:    func(i int) string { return distAlts[i].name },
		per:     func(o Options, w walker) ([]byte, error) { return o.MarshalDistribution(w.(DistributionMessage)) },
		xer:     func(o Options, w walker) ([]byte, error) { return o.MarshalDistributionXER(w.(DistributionMessage)) },
		unper:   func(b []byte) (walker, error) { m, _, err := UnmarshalDistribution(b); return m, err },
		unperIn: func(o Options, b []byte) (walker, error) { return o.UnmarshalDistribution(b) },
		unxer:   func(b []byte) (walker, error) { m, _, err := UnmarshalDistributionXER(b); return m, err },
	},
}

// TestAsn1cInterop checks random messages of every kind, in both Identity
// variants, in both directions:
//
//   - asn1c encodes (our XER → asn1c's XER decoder → asn1c's UPER encoder):
//     the bytes must equal ours, and we decode them to the original value;
//   - asn1c decodes our UPER: its XER must equal ours byte for byte, and its
//     re-encoding must equal our bytes.
func TestAsn1cInterop(t *testing.T) {
	perKind := 1000
	if testing.Short() {
		perKind = 50
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KEYSYNC_INTEROP_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (KEYSYNC_INTEROP_SEED reproduces)", seed)
	for _, legacy := range []bool{false, true} {
		bin := asn1cDriver(t, legacy)
		opts := Options{LegacyIdentity: legacy}
		for _, c := range codecs {
			t.Run(fmt.Sprintf("%s/legacy=%v", c.pdu, legacy), func(t *testing.T) {
				f := &randFiller{r: rand.New(rand.NewPCG(seed, 1)), nonNegativeRatings: true, maxList: 6}
				var msgs []walker
				var pers, xers [][]byte
				for i := 0; i < c.alts; i++ {
					for range perKind {
						m := c.random(f, i)
						p, err := c.per(opts, m)
						if err != nil {
							t.Fatalf("%s: %v", c.name(i), err)
						}
						if len(p) > 16383 { // an open type this long needs fragmentation
							continue
						}
						x, err := c.xer(opts, m)
						if err != nil {
							t.Fatalf("%s: %v", c.name(i), err)
						}
						if legacy {
							clearFlags(m)
						}
						msgs, pers, xers = append(msgs, m), append(pers, p), append(xers, x)
					}
				}
				// asn1c encodes.
				enc := parseRecords(t, runDriver(t, bin, c.pdu, "enc", records(xers)))
				// asn1c decodes.
				dec := parseRecords(t, runDriver(t, bin, c.pdu, "dec", records(pers)))
				if len(enc) != len(msgs) || len(dec) != 2*len(msgs) {
					t.Fatalf("driver returned %d and %d records for %d messages", len(enc), len(dec), len(msgs))
				}
				failures, ambiguous := 0, 0
				for i, m := range msgs {
					fail := func(format string, args ...any) {
						t.Helper()
						t.Errorf("message %d (%T): %s\nXER:\n%s", i, m, fmt.Sprintf(format, args...), xers[i])
						failures++
					}
					switch {
					case enc[i] == nil:
						fail("asn1c could not encode our XER")
					case !bytes.Equal(enc[i], pers[i]):
						fail("asn1c UPER %x\n     ours %x", enc[i], pers[i])
					default:
						got, err := c.unper(enc[i])
						if legacy && err == nil && !reflect.DeepEqual(got, m) {
							// The variants are ambiguous for some payloads: these
							// legacy bytes also decode fully as the current variant,
							// which UnmarshalSync tries first (doc/protocol.md §16).
							ambiguous++
							got, err = c.unperIn(opts, enc[i])
						}
						if err != nil {
							fail("decoding asn1c's UPER: %v", err)
						} else if !reflect.DeepEqual(got, m) {
							fail("decoded %#v", got)
						} else if again, _ := c.per(opts, got); !bytes.Equal(again, enc[i]) {
							fail("re-encoded %x", again)
						}
					}
					switch x, p := dec[2*i], dec[2*i+1]; {
					case x == nil:
						fail("asn1c could not decode our UPER %x", pers[i])
					case !bytes.Equal(x, xers[i]):
						fail("asn1c XER:\n%s", x)
					case !bytes.Equal(p, pers[i]):
						fail("asn1c re-encoded %x", p)
					default:
						got, err := c.unxer(x)
						if err != nil || !reflect.DeepEqual(got, m) {
							fail("parsing asn1c's XER: %v", err)
						}
					}
					if failures > 5 {
						t.FailNow()
					}
				}
				t.Logf("%d messages, %d kinds; %d legacy payloads also valid in the current variant", len(msgs), c.alts, ambiguous)
			})
		}
	}
}
