package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Common field values of doc/vectors.md §1.
var (
	vC = TID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}
	vR = TID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10}
	vN = TID{0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF}
	vK = "0123456789ABCDEF0123456789ABCDEF01234567"
	vV = Version{1, 2}
	vI = Identity{Address: "alice@example.org", Fpr: vK, UserID: "pEp_own_userId", Username: "Alice", CommType: 255, Lang: "en", Flags: 256}
	// vI2 is the second identity of the two-identity GroupKeysUpdate (doc/vectors.md §2).
	vI2 = Identity{Address: "alice@example.net", Fpr: vK, UserID: "pEp_own_userId", Username: "Alice", CommType: 255, Lang: "de", Flags: 256}
	vNK = "FEDCBA9876543210FEDCBA9876543210FEDCBA98"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// gkuTail is the 66 octets after the first octet of GroupKeysUpdate [I] (doc/vectors.md §2).
const gkuTail = `01 08 b0 b6 34 b1 b2 a0 32 bc 30 b6 b8 36 32 97 37 b9 33 98 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 0e 70 45 70 5f 6f 77 6e 5f 75 73 65 72 49 64 05 41 6c 69 63 65 ff 23 40 40 00`

type syncVector struct {
	name string
	m    SyncMessage
	hex  string
}

// syncVectors are doc/vectors.md §2 (KeySync messages) and §4 (TrustSync).
var syncVectors = []syncVector{
	{"Beacon", &Beacon{vC, vV}, "00 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00"},
	{"NegotiationRequest", &NegotiationRequest{vC, vR, vV, vN, false}, "02 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 14 14 34 54 74 94 b4 d4 f5 15 35 55 75 95 b5 d5 e0"},
	{"NegotiationOpen", &NegotiationOpen{vR, vV, vN}, "04 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 14 14 34 54 74 94 b4 d4 f5 15 35 55 75 95 b5 d5 e0"},
	{"Rollback", &Rollback{vN}, "06 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"CommitReject", &CommitReject{vN}, "08 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"CommitAcceptOfferer", &CommitAcceptOfferer{vN}, "0a a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"CommitAcceptRequester", &CommitAcceptRequester{vN}, "0c a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"CommitAccept", &CommitAccept{vN}, "0e a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"CommitAcceptForGroup", &CommitAcceptForGroup{vN}, "10 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af"},
	{"GroupTrustThisKey", &GroupTrustThisKey{vK, vN}, "12 30 02 46 8a cf 13 57 9b de 02 46 8a cf 13 57 9b de 02 46 8a cf 41 43 45 47 49 4b 4d 4f 51 53 55 57 59 5b 5d 5e"},
	{"GroupKeysForNewMember", &GroupKeysForNewMember{[]Identity{vI}}, "14" + gkuTail},
	{"GroupKeysAndClose", &GroupKeysAndClose{[]Identity{vI}}, "16" + gkuTail},
	{"OwnKeysOfferer", &OwnKeysOfferer{[]Identity{vI}}, "18" + gkuTail},
	{"OwnKeysRequester", &OwnKeysRequester{[]Identity{vI}}, "1a" + gkuTail},
	{"NegotiationRequestGrouped", &NegotiationRequestGrouped{vC, vR, vV, vN, true}, "1c 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 14 14 34 54 74 94 b4 d4 f5 15 35 55 75 95 b5 d5 f0"},
	{"GroupHandshake", &GroupHandshake{vN, vK}, "1e a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 30 02 46 8a cf 13 57 9b de 02 46 8a cf 13 57 9b de 02 46 8a ce"},
	{"GroupKeysUpdate", &GroupKeysUpdate{[]Identity{vI}}, "20" + gkuTail},
	{"GroupKeysUpdate/empty", &GroupKeysUpdate{}, "20 00"},
	{"InitUnledGroupKeyReset", &InitUnledGroupKeyReset{}, "22"},
	{"ElectGroupKeyResetLeader", &ElectGroupKeyResetLeader{vR}, "24 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10"},
	{"SynchronizeGroupKeys", &SynchronizeGroupKeys{}, "26"},
	{"ReceiverRating/reliable", &ReceiverRating{RatingReliable}, "28 70"},
	{"ReceiverRating/trusted", &ReceiverRating{RatingTrusted}, "28 80"},
	{"GroupKeysUpdate/two", &GroupKeysUpdate{[]Identity{vI, vI2}}, `
20 02 08 b0 b6 34 b1 b2 a0 32 bc 30 b6 b8 36 32 97 37 b9 33 98 01 23 45 67 89 ab cd
ef 01 23 45 67 89 ab cd ef 01 23 45 67 0e 70 45 70 5f 6f 77 6e 5f 75 73 65 72 49 64
05 41 6c 69 63 65 ff 23 40 40 02 2c 2d 8d 2c 6c a8 0c af 0c 2d ae 0d 8c a5 cd cc ae
86 00 48 d1 59 e2 6a f3 7b c0 48 d1 59 e2 6a f3 7b c0 48 d1 59 c3 9c 11 5c 17 db dd
db 97 dd 5c d9 5c 92 59 01 50 5b 1a 58 d9 7f c6 40 10 00`},
	{"Beacon/1.3", &Beacon{vC, Version{1, 3}}, "00 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 20 60"},
	{"Beacon/2.2", &Beacon{vC, Version{2, 2}}, "00 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 40 40"},
	// doc/vectors.md §4 TrustSync.
	{"TrustRequest/empty", &TrustRequest{}, "80 02 40 00"},
	{"TrustUpdate", &TrustUpdate{[]Identity{vI}}, "80 42 00 21 16 16 c6 96 36 54 06 57 86 16 d7 06 c6 52 e6 f7 26 73 00 24 68 ac f1 35 79 bd e0 24 68 ac f1 35 79 bd e0 24 68 ac e1 ce 08 ae 0b ed ee ed cb ee ae 6c ae 49 2c 80 a8 2d 8d 2c 6c bf e4 68 08 00"},
}

// keyResetVector is doc/vectors.md §5.
var keyResetVector = `
04 00 04 11 61 6c 69 63 65 40 65 78 61 6d 70 6c 65 2e 6f 72 67 30 02 46 8a cf 13 57
9b de 02 46 8a cf 13 57 9b de 02 46 8a ce 1c e0 8a e0 be de ee dc be ea e6 ca e4 92
c8 0a 82 d8 d2 c6 cb fe 46 80 80 18 fe dc ba 98 76 54 32 10 fe dc ba 98 76 54 32 10
fe dc ba 98`

func keyResetMsg(id Identity) *Commands {
	return &Commands{Version{1, 0}, []Command{{id, vNK}}}
}

func TestSyncVectors(t *testing.T) {
	for _, v := range syncVectors {
		t.Run(v.name, func(t *testing.T) {
			want := unhex(v.hex)
			got, err := MarshalSync(v.m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalSync:\n got %x\nwant %x", got, want)
			}
			m, _, err := UnmarshalSync(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, v.m) {
				t.Fatalf("UnmarshalSync = %#v, want %#v", m, v.m)
			}
		})
	}
}

func TestSyncKind(t *testing.T) {
	// doc/vectors.md §1: the first octet of every KeySync payload is (ID − 2) << 1.
	for _, v := range syncVectors {
		if k, ok := v.m.(Message); ok {
			b, _ := MarshalSync(v.m)
			if b[0] != byte(k.Kind()-2)<<1 {
				t.Errorf("%s: first octet %02x", v.name, b[0])
			}
		}
	}
}

func TestDistributionVector(t *testing.T) {
	// doc/vectors.md §5.
	want := unhex(keyResetVector)
	m := keyResetMsg(vI)
	got, err := MarshalDistribution(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	d, _, err := UnmarshalDistribution(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, m) {
		t.Fatalf("got %#v", d)
	}
}

func TestLegacyVectors(t *testing.T) {
	// doc/vectors.md §6.
	legacy := Options{LegacyIdentity: true}
	old := vI
	old.Flags = 0
	gku := unhex("20 01 08 b0 b6 34 b1 b2 a0 32 bc 30 b6 b8 36 32 97 37 b9 33 98 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 0e 70 45 70 5f 6f 77 6e 5f 75 73 65 72 49 64 05 41 6c 69 63 65 ff 23 40")
	got, err := legacy.MarshalSync(&GroupKeysUpdate{[]Identity{vI}})
	if err != nil || !bytes.Equal(got, gku) {
		t.Fatalf("legacy GroupKeysUpdate = %x, %v", got, err)
	}
	m, variant, err := UnmarshalSync(gku)
	if err != nil || !reflect.DeepEqual(m, &GroupKeysUpdate{[]Identity{old}}) || variant != legacy {
		t.Fatalf("UnmarshalSync(legacy) = %#v, %+v, %v", m, variant, err)
	}
	if _, variant, err := UnmarshalSync(unhex("20" + gkuTail)); err != nil || variant != (Options{}) {
		t.Fatalf("UnmarshalSync(current) reports %+v, %v", variant, err)
	}
	if _, err := (Options{}).UnmarshalSync(gku); err == nil {
		t.Error("current-variant decoder accepted the legacy encoding")
	}
	// The current 67-byte encoding must not be taken for a legacy one.
	cur := unhex("20" + gkuTail)
	if _, err := legacy.UnmarshalSync(cur); err == nil {
		t.Error("legacy decoder accepted the current encoding with trailing octets")
	}
	kr := unhex("04 00 04 11 61 6c 69 63 65 40 65 78 61 6d 70 6c 65 2e 6f 72 67 30 02 46 8a cf 13 57 9b de 02 46 8a cf 13 57 9b de 02 46 8a ce 1c e0 8a e0 be de ee dc be ea e6 ca e4 92 c8 0a 82 d8 d2 c6 cb fe 46 98 fe dc ba 98 76 54 32 10 fe dc ba 98 76 54 32 10 fe dc ba 98")
	got, err = legacy.MarshalDistribution(keyResetMsg(vI))
	if err != nil || !bytes.Equal(got, kr) {
		t.Fatalf("legacy KeyReset = %x, %v", got, err)
	}
	d, variant, err := UnmarshalDistribution(kr)
	if err != nil || !reflect.DeepEqual(d, keyResetMsg(old)) || variant != legacy {
		t.Fatalf("UnmarshalDistribution(legacy) = %#v, %v", d, err)
	}
}

func TestNegativeVectors(t *testing.T) {
	// doc/vectors.md §7.
	lower := strings.ToLower(vK)
	for name, m := range map[string]SyncMessage{
		"GroupHandshake lower-case":    &GroupHandshake{vN, lower},
		"GroupTrustThisKey lower-case": &GroupTrustThisKey{lower, vN},
		"Identity.fpr lower-case":      &GroupKeysUpdate{[]Identity{{Fpr: lower, Lang: "en"}}},
		"Hash 15":                      &GroupHandshake{vN, vK[:15]},
		"Hash 129":                     &GroupHandshake{vN, strings.Repeat("A", 129)},
		"Hash empty":                   &GroupHandshake{vN, ""},
	} {
		if b, err := MarshalSync(m); err == nil {
			t.Errorf("%s: encoded as %x", name, b)
		}
	}
	// Beacon 2.2 decodes; D8 rejects it through Version.Check.
	m, _, err := UnmarshalSync(unhex("00 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 40 40"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.(*Beacon).Version.Check(); err == nil {
		t.Error("Version 2.2 passed Check")
	}
	if err := vV.Check(); err != nil {
		t.Error(err)
	}
	// Truncated current-variant GroupKeysUpdate.
	cur := unhex("20" + gkuTail)
	if _, err := (Options{}).UnmarshalSync(cur[:65]); err == nil {
		t.Error("truncated GroupKeysUpdate decoded")
	}
	// Extra octets after any vector.
	for _, v := range syncVectors {
		b := append(unhex(v.hex), 0x01)
		if _, _, err := UnmarshalSync(b); err == nil {
			t.Errorf("%s with a trailing octet decoded", v.name)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	for _, c := range []struct {
		m     SyncMessage
		field string
	}{
		{&GroupHandshake{vN, "x"}, "keysync.groupHandshake.key"},
		{&GroupKeysUpdate{[]Identity{vI, {Fpr: vK, Lang: "EN"}}}, "keysync.groupKeysUpdate.ownIdentities[1].lang"},
		{&TrustUpdate{[]Identity{{Fpr: vK, Lang: "en", Address: strings.Repeat("a", 1025)}}}, "trustsync.trustUpdate.trust[0].address"},
		{&ReceiverRating{4}, "keysync.receiverRating.rating"},
		{&GroupSyncUpdate{}, "groupsync.groupSyncUpdate.msg"},
		{&GroupSyncRequest{Identity{Fpr: vK, Lang: "en", Username: "\xff"}}, "groupsync.groupSyncRequest.groupIdentity.username"},
	} {
		_, err := MarshalSync(c.m)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("MarshalSync(%T) = %v, want field %s", c.m, err, c.field)
		}
	}
}

// TestSkipExtensions: a SEQUENCE with extension additions from a newer
// peer decodes with the additions ignored (X.691 19.7–19.9). asn1c 0.9.28
// decodes these bytes to the same Rollback.
func TestSkipExtensions(t *testing.T) {
	// 0 0 00011 1: Sync, KeySync, index 3 (Rollback), Rollback extension bit.
	b := append([]byte{0x07}, vN[:]...)
	// 0 000000 (one addition) 1 (present) | length 3 | 3 octets.
	b = append(b, 0x01, 0x03, 0xAA, 0x55, 0x66)
	m, _, err := UnmarshalSync(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, &Rollback{vN}) {
		t.Fatalf("got %#v", m)
	}
	// The addition's open type must be complete.
	if _, _, err := UnmarshalSync(b[:len(b)-1]); err == nil {
		t.Error("truncated extension addition decoded")
	}
}

// TestNewMessage: every KeySync kind makes the message its alternative
// of the schema decodes, named as the ASN.1 module names it; other kinds
// make none.
func TestNewMessage(t *testing.T) {
	for i, a := range syncAlts[:21] {
		k := Kind(i + 2)
		m, ok := NewMessage(k)
		if !ok || m.Kind() != k || a.index != i || reflect.TypeOf(m) != reflect.TypeOf(a.new()) {
			t.Errorf("%s: NewMessage(%d) = %T, %t", a.name, k, m, ok)
		}
		if got, ok := KindByName(k.String()); !ok || got != k || !strings.EqualFold(k.String(), a.name) {
			t.Errorf("%s: kind %d is named %q", a.name, k, k.String())
		}
	}
	for _, k := range []Kind{0, 1, 23, 255} {
		if m, ok := NewMessage(k); ok {
			t.Errorf("NewMessage(%d) = %T", k, m)
		}
	}
	if KindGroupKeysUpdate.String() != "GroupKeysUpdate" || Kind(99).String() != "Kind(99)" {
		t.Errorf("names %q, %q", KindGroupKeysUpdate, Kind(99))
	}
}

// TestHugeCounts: counts and lengths that the input cannot hold fail before
// anything is allocated for them.
func TestHugeCounts(t *testing.T) {
	for name, b := range map[string][]byte{
		"16383 identities":       {0x20, 0xBF, 0xFF, 0x00},
		"1024-octet address":     {0x20, 0x01, 0x04, 0x00, 0x61},
		"128-character fpr":      {0x20, 0x01, 0x00, 0x7F},
		"16383-octet open type":  {0x80, 0xBF, 0xFF, 0x00},
		"16383 commands":         {0x00, 0x00, 0xBF, 0xFF},
		"fragmented list":        {0x20, 0xC4, 0x00},
		"unknown Sync extension": {0x82, 0x01, 0x00},
		"KeySync extension":      {0x40},
		"KeySync index 31":       {0x3E},
		"ManagedGroup index 3":   {0x81, 0x01, 0x70},
		"empty input":            {},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err1 := UnmarshalSync(b)
		_, _, err2 := UnmarshalDistribution(b)
		runtime.ReadMemStats(&after)
		if err1 == nil && err2 == nil {
			t.Errorf("%s: decoded", name)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 4096 {
			t.Errorf("%s: allocated %d bytes", name, n)
		}
	}
}
