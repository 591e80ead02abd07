package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestGolden checks both codecs against pairs of files produced by asn1c
// 0.9.28's converter (testdata/wire/golden/*.per → -oxer → *.xer) from the
// doc/vectors.md payloads: UPER → XER must print asn1c's text byte for byte,
// and XER → UPER must give asn1c's bytes.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("../testdata/wire/golden/*.per")
	if len(files) < 25 {
		t.Fatalf("only %d golden files", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".per")
		t.Run(name, func(t *testing.T) {
			per, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			xer, err := os.ReadFile(strings.TrimSuffix(f, ".per") + ".xer")
			if err != nil {
				t.Fatal(err)
			}
			var gotXER, gotPER []byte
			if strings.HasPrefix(name, "dist_") {
				m, _, err := UnmarshalDistribution(per)
				if err != nil {
					t.Fatal(err)
				}
				gotXER, err = MarshalDistributionXER(m)
				if err != nil {
					t.Fatal(err)
				}
				m2, _, err := UnmarshalDistributionXER(xer)
				if err != nil {
					t.Fatal(err)
				}
				gotPER, err = MarshalDistribution(m2)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				m, _, err := UnmarshalSync(per)
				if err != nil {
					t.Fatal(err)
				}
				gotXER, err = MarshalSyncXER(m)
				if err != nil {
					t.Fatal(err)
				}
				m2, _, err := UnmarshalSyncXER(xer)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(m, m2) {
					t.Fatalf("XER value %#v, UPER value %#v", m2, m)
				}
				gotPER, err = MarshalSync(m2)
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(gotXER, xer) {
				t.Errorf("XER:\n%s\nwant:\n%s", gotXER, xer)
			}
			if !bytes.Equal(gotPER, per) {
				t.Errorf("UPER %x, want %x", gotPER, per)
			}
		})
	}
}

func TestXERVariations(t *testing.T) {
	want := &GroupKeysUpdate{[]Identity{{Address: "a<&>\"'\x00\t", Fpr: vK, UserID: "", Username: "é", CommType: 7, Lang: "en", Flags: 1}}}
	for _, in := range []string{
		// compact, entities, empty-element tags, a space before '>'.
		`<Sync><keysync><groupKeysUpdate><ownIdentities><Identity><address>a&lt;&amp;&gt;&quot;&apos;<nul/>	</address><fpr>` + vK + `</fpr><user-id/><username>&#xE9;</username><comm-type> 7 </comm-type><lang>en</lang><flags>1</flags></Identity></ownIdentities></groupKeysUpdate></keysync></Sync>`,
		"\n<Sync >\r\n\t<keysync>\n<groupKeysUpdate><ownIdentities>\n<Identity><address>a&#60;&#38;>\"'<nul/>\t</address>\n<fpr>\n" + vK + "\n</fpr><user-id></user-id><username>é</username><comm-type>7</comm-type><lang>en</lang><flags>1</flags></Identity></ownIdentities></groupKeysUpdate>\n</keysync></Sync >\n\n",
	} {
		m, _, err := UnmarshalSyncXER([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("%q: got %#v", in, m)
		}
	}
	// DEFAULT members may be omitted; legacy identities have no <flags>.
	m, _, err := UnmarshalSyncXER([]byte(`<Sync><keysync><beacon><challenge>00112233445566778899aabbccddeeff</challenge><version><minor>0</minor></version></beacon></keysync></Sync>`))
	if err != nil || !reflect.DeepEqual(m, &Beacon{vC, Version{1, 0}}) {
		t.Fatalf("Beacon: %#v, %v", m, err)
	}
	m, _, err = UnmarshalSyncXER([]byte(`<Sync><keysync><synchronizeGroupKeys/></keysync></Sync>`))
	if err != nil || !reflect.DeepEqual(m, &SynchronizeGroupKeys{}) {
		t.Fatalf("SynchronizeGroupKeys: %#v, %v", m, err)
	}
	for _, bad := range []string{
		``,
		`<Sync>`,
		`<Sync><keysync><beacon/></keysync></Sync>`,
		`<Sync><keysync><rollback><negotiation>00</negotiation></rollback></keysync></Sync>`,
		`<Sync><keysync><groupHandshake><negotiation>A0A1A2A3A4A5A6A7A8A9AAABACADAEAF</negotiation><key>0123456789abcdef</key></groupHandshake></keysync></Sync>`,
		`<Sync><keysync><receiverRating><rating><great/></rating></receiverRating></keysync></Sync>`,
		`<Sync><keysync><synchronizeGroupKeys/></keysync></Sync>x`,
		`<Sync><keysync><nothing/></keysync></Sync>`,
		`<Distribution><keyreset><commands/></keyreset></Distribution>`,
	} {
		if m, _, err := UnmarshalSyncXER([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %#v", bad, m)
		}
	}
}
