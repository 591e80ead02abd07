package keysync

import (
	"math/big"
	"reflect"
	"testing"
)

// testKey returns a small but valid-looking key distinct per seed; Merge
// compares keys by value, so validity does not matter here.
func testKey(seed int64) *DSAKey {
	return &DSAKey{P: big.NewInt(1000 + seed), Q: big.NewInt(7), G: big.NewInt(2), Y: big.NewInt(seed), X: big.NewInt(3)}
}

func store(source string, keys map[Account]*DSAKey, fps ...KnownFingerprint) *Model {
	s := &Model{}
	for a, k := range keys {
		la := s.AddAccount(a)
		la.Keys = append(la.Keys, Key{PrivateKey: k, Origin: &Origin{Source: source, Local: a}})
	}
	for i := range fps {
		fps[i].Origin.Source = source
	}
	s.Fingerprints = fps
	return s
}

var (
	alice = Account{Protocol: "xmpp", Address: "alice@example.org"}
	fpA   = OTRFingerprint([20]byte{1})
	fpB   = OTRFingerprint([20]byte{2})
)

func TestMergeSameKeyIsNoConflict(t *testing.T) {
	a := store("a", map[Account]*DSAKey{alice: testKey(1)})
	b := store("b", map[Account]*DSAKey{alice: testKey(1)})
	m, conflicts := Merge([]Source{{"a", a}, {"b", b}}, "")
	if len(conflicts) != 0 {
		t.Fatalf("conflicts = %+v, want none", conflicts)
	}
	if got := len(m.Account(alice).Keys); got != 1 {
		t.Fatalf("keys = %d, want 1", got)
	}
}

func TestMergeKeyConflict(t *testing.T) {
	a := store("a", map[Account]*DSAKey{alice: testKey(1)})
	b := store("b", map[Account]*DSAKey{alice: testKey(2)})
	m, conflicts := Merge([]Source{{"a", a}, {"b", b}}, "")
	if len(conflicts) != 1 || conflicts[0].Kind != KeyConflict || conflicts[0].Winner != "" {
		t.Fatalf("conflicts = %+v, want one unresolved key conflict", conflicts)
	}
	if got := len(m.Account(alice).Keys); got != 2 {
		t.Fatalf("unresolved conflict kept %d keys, want both", got)
	}
	if len(conflicts[0].Values) != 2 || conflicts[0].Values[1].Source != "b" {
		t.Fatalf("values = %+v", conflicts[0].Values)
	}

	m, conflicts = Merge([]Source{{"a", a}, {"b", b}}, "b")
	if len(conflicts) != 1 || conflicts[0].Winner != "b" {
		t.Fatalf("conflicts = %+v, want one won by b", conflicts)
	}
	keys := m.Account(alice).Keys
	if len(keys) != 1 || !keys[0].PrivateKey.Equal(testKey(2)) {
		t.Fatalf("preferred key not kept alone: %+v", keys)
	}
	// Merge is pure: the inputs still hold their own keys.
	if len(a.Account(alice).Keys) != 1 || !a.Account(alice).Keys[0].PrivateKey.Equal(testKey(1)) {
		t.Fatal("Merge modified its input")
	}
}

func TestMergeSeveralKeysInOneSourceAreKept(t *testing.T) {
	s := &Model{}
	la := s.AddAccount(alice)
	o := &Origin{Source: "a", Local: alice}
	la.Keys = []Key{{PrivateKey: testKey(1), Origin: o}, {PrivateKey: testKey(2), Origin: o}}
	m, conflicts := Merge([]Source{{"a", s}, {"b", &Model{}}}, "")
	if len(conflicts) != 0 || len(m.Account(alice).Keys) != 2 {
		t.Fatalf("conflicts %+v, keys %d; want none and 2", conflicts, len(m.Account(alice).Keys))
	}
}

func TestMergeFingerprints(t *testing.T) {
	bob := "bob@example.org"
	a := store("a", nil,
		KnownFingerprint{Origin: &Origin{Local: alice}, Contact: bob, Fingerprint: fpA, Trust: ""},
		KnownFingerprint{Origin: &Origin{Local: alice}, Contact: bob, Fingerprint: fpB, Trust: SMP},
	)
	b := store("b", nil,
		KnownFingerprint{Origin: &Origin{Local: alice}, Contact: bob, Fingerprint: fpA, Trust: Verified},
		KnownFingerprint{Origin: &Origin{Local: alice}, Contact: bob, Fingerprint: fpB, Trust: Manual},
		KnownFingerprint{Origin: &Origin{Local: alice}, Contact: "carol", Fingerprint: fpB, Trust: ""},
	)
	m, conflicts := Merge([]Source{{"a", a}, {"b", b}}, "")
	if len(m.Fingerprints) != 3 {
		t.Fatalf("fingerprints = %d, want 3", len(m.Fingerprints))
	}
	if m.Fingerprints[0].Trust != Verified || m.Fingerprints[0].Origin.Source != "b" {
		t.Errorf("empty trust not upgraded from b: %q from %q", m.Fingerprints[0].Trust, m.Fingerprints[0].Origin.Source)
	}
	if len(conflicts) != 1 || conflicts[0].Kind != TrustConflict || conflicts[0].Fingerprint != fpB {
		t.Fatalf("conflicts = %+v, want one trust conflict on fpB", conflicts)
	}
	if m.Fingerprints[1].Trust != SMP {
		t.Errorf("unresolved conflict changed trust to %q", m.Fingerprints[1].Trust)
	}
	m, conflicts = Merge([]Source{{"a", a}, {"b", b}}, "b")
	if conflicts[0].Winner != "b" || m.Fingerprints[1].Trust != Manual || m.Fingerprints[1].Origin.Source != "b" {
		t.Errorf("prefer b: winner %q, trust %q", conflicts[0].Winner, m.Fingerprints[1].Trust)
	}
	if a.Fingerprints[0].Trust != "" || a.Fingerprints[0].Origin.Source != "a" {
		t.Error("Merge modified its input")
	}
}

// Rows whose hashes collide are still told apart.
func TestFPIndexCollision(t *testing.T) {
	o := &Origin{Local: alice}
	rows := []KnownFingerprint{
		{Origin: o, Contact: "bob", Fingerprint: fpA},
		{Origin: o, Contact: "carol", Fingerprint: fpB},
	}
	x := newFPIndex(2)
	x.add(rows, 0)
	x.byHash[x.hash(&rows[1])] = 0 // pretend carol's row hashes like bob's
	if _, ok := x.find(rows, &rows[1]); ok {
		t.Fatal("found a row that was never added")
	}
	x.add(rows, 1)
	if i, ok := x.find(rows, &rows[1]); !ok || i != 1 {
		t.Fatalf("find = %d, %v; want 1, true", i, ok)
	}
	if i, ok := x.find(rows, &rows[0]); !ok || i != 0 {
		t.Fatalf("find = %d, %v; want 0, true", i, ok)
	}
}

// Fingerprints of different kinds are different, even with equal sums.
func TestMergeFingerprintKinds(t *testing.T) {
	other := Fingerprint{Kind: OTRDSA + 1, Sum: fpA.Sum}
	a := store("a", nil, KnownFingerprint{Origin: &Origin{Local: alice}, Contact: "bob", Fingerprint: fpA, Trust: SMP})
	b := store("b", nil, KnownFingerprint{Origin: &Origin{Local: alice}, Contact: "bob", Fingerprint: other, Trust: Manual})
	m, conflicts := Merge([]Source{{"a", a}, {"b", b}}, "")
	if len(conflicts) != 0 || len(m.Fingerprints) != 2 {
		t.Fatalf("conflicts %+v, %d fingerprints; want none and 2", conflicts, len(m.Fingerprints))
	}
}

// A known fingerprint stays small: a million rows share their Origin and
// take 80 bytes each.
func TestKnownFingerprintSize(t *testing.T) {
	if size := reflect.TypeFor[KnownFingerprint]().Size(); size > 80 {
		t.Errorf("KnownFingerprint takes %d bytes, want at most 80", size)
	}
}

// A store that can only say "verified" (CoarseTrust) is no side of a
// trust conflict: a specific verified value replaces its Verified, in any
// order, and different specific values still conflict.
func TestMergeCoarseTrust(t *testing.T) {
	bob := "bob@example.org"
	row := func(trust Trust, coarse bool) KnownFingerprint {
		return KnownFingerprint{Origin: &Origin{Local: alice, CoarseTrust: coarse}, Contact: bob, Fingerprint: fpA, Trust: trust}
	}
	type side struct {
		name   string
		trust  Trust
		coarse bool
	}
	cases := []struct {
		sides     []side
		want      Trust
		from      string // the source of the merged trust
		coarse    bool   // the merged row's trust is coarse
		conflicts int
	}{
		{[]side{{"pidgin", SMP, false}, {"jitsi", Verified, true}}, SMP, "pidgin", false, 0},
		{[]side{{"jitsi", Verified, true}, {"pidgin", SMP, false}}, SMP, "pidgin", false, 0},
		{[]side{{"jitsi", Verified, true}, {"irssi", Manual, false}}, Manual, "irssi", false, 0},
		// A specific "verified" is specific: it then conflicts with manual.
		{[]side{{"jitsi", Verified, true}, {"pidgin", Verified, false}, {"irssi", Manual, false}}, Verified, "pidgin", false, 1},
		{[]side{{"pidgin", Verified, false}, {"jitsi", Verified, true}, {"irssi", Manual, false}}, Verified, "pidgin", false, 1},
		{[]side{{"jitsi", Verified, true}, {"chatsecure", Verified, true}}, Verified, "jitsi", true, 0},
		{[]side{{"jitsi", Unverified, true}, {"pidgin", SMP, false}}, SMP, "pidgin", false, 0},
		{[]side{{"pidgin", Unverified, false}, {"jitsi", Verified, true}}, Verified, "jitsi", true, 0},
		{[]side{{"pidgin", SMP, false}, {"jitsi", Verified, true}, {"irssi", Manual, false}}, SMP, "pidgin", false, 1},
	}
	for _, c := range cases {
		var sources []Source
		for _, s := range c.sides {
			sources = append(sources, Source{s.name, store(s.name, nil, row(s.trust, s.coarse))})
		}
		m, conflicts := Merge(sources, "")
		f := m.Fingerprints[0]
		if f.Trust != c.want || f.Origin.Source != c.from || f.Origin.CoarseTrust != c.coarse || len(conflicts) != c.conflicts {
			t.Errorf("%+v: trust %q from %q (coarse %v), %d conflicts; want %q from %q (coarse %v), %d",
				c.sides, f.Trust, f.Origin.Source, f.Origin.CoarseTrust, len(conflicts), c.want, c.from, c.coarse, c.conflicts)
		}
		for _, x := range conflicts {
			for _, v := range x.Values {
				if v.Source == "jitsi" || v.Source == "chatsecure" {
					t.Errorf("%+v: a coarse store is a side of %+v", c.sides, x)
				}
			}
		}
	}
	// --prefer a coarse store settles nothing: it holds no side.
	sources := []Source{
		{"pidgin", store("pidgin", nil, row(SMP, false))},
		{"jitsi", store("jitsi", nil, row(Verified, true))},
		{"irssi", store("irssi", nil, row(Manual, false))},
	}
	if _, conflicts := Merge(sources, "jitsi"); len(conflicts) != 1 || conflicts[0].Winner != "" {
		t.Errorf("prefer jitsi: %+v, want one unresolved conflict", conflicts)
	}
	m, conflicts := Merge(sources, "irssi")
	if len(conflicts) != 1 || conflicts[0].Winner != "irssi" || m.Fingerprints[0].Trust != Manual || m.Fingerprints[0].Origin.CoarseTrust {
		t.Errorf("prefer irssi: %+v, trust %q", conflicts, m.Fingerprints[0].Trust)
	}
}
