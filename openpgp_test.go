package keysync

import (
	"reflect"
	"testing"
)

func pgpStore(source string, keys ...OpenPGPKey) Source {
	o := &Origin{Source: source, App: "gnupg"}
	for i := range keys {
		keys[i].Origin = o
	}
	return Source{Name: source, Model: &Model{OpenPGPKeys: keys}}
}

var (
	pgpA = OpenPGPFingerprint([20]byte{0xAB, 0xCD, 1})
	pgpB = OpenPGPFingerprint([20]byte{0xAB, 0xCD, 2})
)

func TestOpenPGPFingerprintForms(t *testing.T) {
	f := OpenPGPFingerprint([20]byte{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x70, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d})
	if got, want := f.Human(), "0A1B 2C3D 4E5F 7081 92A3  B4C5 D6E7 F809 1A2B 3C4D"; got != want {
		t.Errorf("Human = %q, want %q", got, want)
	}
	if got, want := f.String(), "0a1b2c3d4e5f708192a3b4c5d6e7f8091a2b3c4d"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if f == OTRFingerprint(f.Sum) {
		t.Error("an OpenPGP fingerprint equals the OTR fingerprint with the same sum")
	}
	if OpenPGP.String() != "openpgp" {
		t.Errorf("OpenPGP.String() = %q", OpenPGP.String())
	}
}

func TestOwnertrustString(t *testing.T) {
	for v, want := range map[Ownertrust]string{
		OwnertrustUnset: "unset", OwnertrustFull: "full", OwnertrustUltimate: "ultimate", OwnertrustNever: "never",
		OwnertrustMarginal | OwnertrustDisabled: "marginal+disabled", 9: "level 9", 0x25: "full+flags 32",
	} {
		if got := v.String(); got != want {
			t.Errorf("Ownertrust(%d) = %q, want %q", uint8(v), got, want)
		}
	}
}

func TestMergeOpenPGPSameKeyIsOne(t *testing.T) {
	a := pgpStore("a", OpenPGPKey{Fingerprint: pgpA, UserIDs: []string{"Alice <a@x>"}, Public: []byte("pub1"), Ownertrust: OwnertrustFull})
	b := pgpStore("b",
		OpenPGPKey{Fingerprint: pgpA, UserIDs: []string{"Alice <a@x>", "Alice <a@y>"}, Public: []byte("pub2"), HasSecret: true, Secret: []byte("sec")},
		OpenPGPKey{Fingerprint: pgpB, Public: []byte("pubB")})
	c := pgpStore("c", OpenPGPKey{Fingerprint: pgpA, Public: []byte("pub1"), Ownertrust: OwnertrustFull})
	m, conflicts := Merge([]Source{a, b, c}, "")
	if len(conflicts) != 0 {
		t.Fatalf("conflicts = %+v, want none", conflicts)
	}
	if len(m.OpenPGPKeys) != 2 {
		t.Fatalf("keys = %d, want 2", len(m.OpenPGPKeys))
	}
	k := m.OpenPGPKeys[0]
	if !reflect.DeepEqual(k.UserIDs, []string{"Alice <a@x>", "Alice <a@y>"}) {
		t.Errorf("user IDs = %q", k.UserIDs)
	}
	if string(k.Public) != "pub1pub2" {
		t.Errorf("public packets = %q, want both stores' once", k.Public)
	}
	if !k.HasSecret || string(k.Secret) != "sec" || k.Ownertrust != OwnertrustFull || k.Origin.Source != "a" {
		t.Errorf("merged key = %+v", k)
	}
	// The sources are left as they were.
	if got := a.Model.OpenPGPKeys[0]; len(got.UserIDs) != 1 || string(got.Public) != "pub1" {
		t.Errorf("Merge changed a source: %+v", got)
	}
}

func TestMergeOwnertrust(t *testing.T) {
	a := pgpStore("a", OpenPGPKey{Fingerprint: pgpA, UserIDs: []string{"Alice <a@x>"}})
	b := pgpStore("b", OpenPGPKey{Fingerprint: pgpA, Ownertrust: OwnertrustMarginal})
	m, conflicts := Merge([]Source{a, b}, "")
	if len(conflicts) != 0 || m.OpenPGPKeys[0].Ownertrust != OwnertrustMarginal || m.OpenPGPKeys[0].Origin.Source != "b" {
		t.Fatalf("a set ownertrust beats the unset one: %+v %+v", m.OpenPGPKeys[0], conflicts)
	}

	c := pgpStore("c", OpenPGPKey{Fingerprint: pgpA, Ownertrust: OwnertrustNever})
	m, conflicts = Merge([]Source{a, b, c}, "")
	want := Conflict{Kind: TrustConflict, Contact: "Alice <a@x>", Fingerprint: pgpA,
		Values: []ConflictValue{{"b", "marginal"}, {"c", "never"}}}
	if len(conflicts) != 1 || !reflect.DeepEqual(conflicts[0], want) {
		t.Fatalf("conflicts = %+v, want %+v", conflicts, want)
	}
	if m.OpenPGPKeys[0].Ownertrust != OwnertrustMarginal {
		t.Errorf("unresolved: ownertrust %v, want the first source's", m.OpenPGPKeys[0].Ownertrust)
	}

	m, conflicts = Merge([]Source{a, b, c}, "c")
	if len(conflicts) != 1 || conflicts[0].Winner != "c" {
		t.Fatalf("conflicts = %+v, want one settled by c", conflicts)
	}
	if k := m.OpenPGPKeys[0]; k.Ownertrust != OwnertrustNever || k.Origin.Source != "c" {
		t.Errorf("settled: ownertrust %v from %s, want never from c", k.Ownertrust, k.Origin.Source)
	}
}

// TestMergeKindsApart shows that an OpenPGP key and an OTR row with the
// same 20 bytes stay apart.
func TestMergeKindsApart(t *testing.T) {
	a := pgpStore("a", OpenPGPKey{Fingerprint: OpenPGPFingerprint(fpA.Sum), Ownertrust: OwnertrustFull})
	a.Model.Fingerprints = []KnownFingerprint{{Contact: "bob", Fingerprint: fpA, Trust: Verified, Origin: &Origin{Source: "a", Local: alice}}}
	b := Source{Name: "b", Model: &Model{Fingerprints: []KnownFingerprint{{Contact: "bob", Fingerprint: fpA, Trust: SMP, Origin: &Origin{Source: "b", Local: alice}}}}}
	m, conflicts := Merge([]Source{a, b}, "")
	if len(conflicts) != 1 || conflicts[0].Fingerprint != fpA || conflicts[0].Fingerprint.Kind != OTRDSA {
		t.Fatalf("conflicts = %+v, want the OTR trust conflict only", conflicts)
	}
	if len(m.OpenPGPKeys) != 1 || len(m.Fingerprints) != 1 {
		t.Fatalf("merged %d OpenPGP keys and %d rows, want 1 and 1", len(m.OpenPGPKeys), len(m.Fingerprints))
	}
}
