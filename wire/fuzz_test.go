package wire

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addGoldenSeeds(f *testing.F, prefix, ext string) {
	files, _ := filepath.Glob("../testdata/wire/golden/" + prefix + "*" + ext)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// decodeEither decodes in the variant that consumes b, reporting it.
func decodeEither[M any](b []byte, un func(Options, []byte) (M, error)) (M, Options, error) {
	o := Options{}
	m, err := un(o, b)
	if err != nil {
		o.LegacyIdentity = true
		m, err = un(o, b)
	}
	return m, o, err
}

// FuzzUnmarshalSync: decoding never panics, and a decoded value re-encodes
// (UPER and XER) to something that decodes to the same value.
func FuzzUnmarshalSync(f *testing.F) {
	for _, v := range syncVectors {
		f.Add(unhex(v.hex))
	}
	addGoldenSeeds(f, "sync_", ".per")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, o, err := decodeEither(b, Options.UnmarshalSync)
		if err != nil {
			return
		}
		b2, err := o.MarshalSync(m)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		m2, err := o.UnmarshalSync(b2)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %#v → %x → %#v, %v", m, b2, m2, err)
		}
		x, err := o.MarshalSyncXER(m)
		if err != nil {
			t.Fatal(err)
		}
		m3, err := o.UnmarshalSyncXER(x)
		if err != nil || !reflect.DeepEqual(m, m3) {
			t.Fatalf("XER round trip: %s → %#v, %v", x, m3, err)
		}
	})
}

// FuzzUnmarshalDistribution is FuzzUnmarshalSync for Distribution.
func FuzzUnmarshalDistribution(f *testing.F) {
	f.Add(unhex(keyResetVector))
	addGoldenSeeds(f, "dist_", ".per")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, o, err := decodeEither(b, Options.UnmarshalDistribution)
		if err != nil {
			return
		}
		b2, err := o.MarshalDistribution(m)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		m2, err := o.UnmarshalDistribution(b2)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %#v → %x → %#v, %v", m, b2, m2, err)
		}
		x, err := o.MarshalDistributionXER(m)
		if err != nil {
			t.Fatal(err)
		}
		m3, err := o.UnmarshalDistributionXER(x)
		if err != nil || !reflect.DeepEqual(m, m3) {
			t.Fatalf("XER round trip: %s → %#v, %v", x, m3, err)
		}
	})
}

// FuzzUnmarshalXER: parsing XER of either PDU never panics, and a parsed
// value prints and parses back to itself.
func FuzzUnmarshalXER(f *testing.F) {
	addGoldenSeeds(f, "", ".xer")
	f.Add([]byte(`<Sync><keysync><synchronizeGroupKeys/></keysync></Sync>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if strings.Contains(string(b[:min(len(b), 32)]), "<Distribution") {
			m, o, err := decodeEither(b, Options.UnmarshalDistributionXER)
			if err != nil {
				return
			}
			x, err := o.MarshalDistributionXER(m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := o.UnmarshalDistributionXER(x)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("round trip: %#v → %s → %#v, %v", m, x, m2, err)
			}
			return
		}
		m, o, err := decodeEither(b, Options.UnmarshalSyncXER)
		if err != nil {
			return
		}
		x, err := o.MarshalSyncXER(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := o.UnmarshalSyncXER(x)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %#v → %s → %#v, %v", m, x, m2, err)
		}
		if p, err := o.MarshalSync(m); err == nil {
			if m3, err := o.UnmarshalSync(p); err != nil || !reflect.DeepEqual(m, m3) {
				t.Fatalf("UPER round trip: %#v → %x → %#v, %v", m, p, m3, err)
			}
		}
	})
}

// TestRandomRoundTrip covers every alternative, including negative ratings,
// without asn1c: encode, decode, compare, in both variants.
func TestRandomRoundTrip(t *testing.T) {
	f := &randFiller{r: newRand(7), maxList: 4}
	for _, c := range codecs {
		for i := 0; i < c.alts; i++ {
			for range 50 {
				for _, o := range []Options{{}, {LegacyIdentity: true}} {
					m := c.random(f, i)
					b, err := c.per(o, m)
					if err != nil {
						t.Fatal(err)
					}
					if o.LegacyIdentity {
						clearFlags(m)
					}
					got, err := c.unper(b)
					if err != nil || !reflect.DeepEqual(got, m) {
						t.Fatalf("%s: %#v → %x → %#v, %v", c.name(i), m, b, got, err)
					}
					x, _ := c.xer(o, m)
					got, err = c.unxer(x)
					if err != nil || !reflect.DeepEqual(got, m) {
						t.Fatalf("%s: XER %s → %#v, %v", c.name(i), x, got, err)
					}
					// Every strict prefix fails to decode.
					for n := 0; n < len(b); n += 1 + n/4 {
						if _, err := c.unper(b[:n]); err == nil && n < len(b)-2 {
							// a legacy reading of a current prefix may succeed only
							// when it drops exactly the final flags
							t.Errorf("%s: prefix %d of %d decoded", c.name(i), n, len(b))
						}
					}
				}
			}
		}
	}
}
