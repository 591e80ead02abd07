package trustwords

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ripemd160" //lint:ignore SA1019 the trustwords algorithm is defined over RIPEMD-160
)

const (
	fprA = "8BD08954C74D830EEFFB5DEB2682A17F7C87F73D"
	fprB = "62D4932086185C15917B72D30571AFBCA5493553"
)

// TestVectors checks the worked example of doc/vectors.md §8 in every
// language.
func TestVectors(t *testing.T) {
	want := map[string]string{
		"en": "CHUMASH KIDDER GASEOUS CLASSIFY POLARITY ENDANGER GENEVRA CUSTARD DECELERATOR BRONNIE",
		"de": "GEMÜTS MITNEHMEN HINZUFÜGEN DIPLOMIERT TATENDURSTIG GEMOLKEN HOCHKOMMEN ENTREPRENEUR HINAUSGEBEUGT BESINNLICH",
		"fr": "TÉTON GLAUQUEMENT DÉPARTAGER CACODYLIQUE MARCHEPIED CYBORG DÉRACINÉE CHRONOGRAPHE ÉLECTROPLAQUE BERCELONNETTE",
		"ca": "TERN FIABLE EMBEINAR BORLAR LLEVANTÍ CÒTID EMIS CARLOTES VALLÉS BACOLI",
		"es": "AZUCHE GRAMÓFONO ENCARRÍLLALO CARTONAJE MÍDEME DESENTERRADOR ENCORAJÍNAME CONFIRMADOR CARVALLAR BEDUINO",
		"nl": "KANTOORBOEKHANDEL DEERLIJKAAN BUITENMAATS BEDENKELIJK FANCLUB BLOEIKOLF BUNKERMENTALITEIT BEROEPSPLOEG KLIEDER ASSISTENT",
		"tr": "DÖNÜŞTÜRÜLEBİLİYOR KURUMLAŞSIN KARIŞILAMA BULUNSAM BULUNABİLİNEN REPLİĞİNİ KEŞFEDELİM SOLURMUŞ SÜRDÜREBİLECEKLERDİR FAKRINI",
	}
	if got := Languages(); !slices.Equal(got, []string{"ca", "de", "en", "es", "fr", "nl", "tr"}) {
		t.Errorf("Languages() = %v", got)
	}
	for lang, w := range want {
		for _, pair := range [][2]string{{fprA, fprB}, {fprB, fprA}} {
			got, err := Words(pair[0], pair[1], lang, true)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != w {
				t.Errorf("%s full: %q\nwant %q", lang, strings.Join(got, " "), w)
			}
			got, err = Words(pair[0], pair[1], strings.ToUpper(lang), false)
			if err != nil {
				t.Fatal(err)
			}
			if short := strings.Join(strings.Fields(w)[:ShortWords], " "); strings.Join(got, " ") != short {
				t.Errorf("%s short: %q, want %q", lang, got, short)
			}
		}
	}
	a, _ := normalize(fprA)
	b, _ := normalize(fprB)
	if h := Hash(a, b); strings.ToUpper(hex.EncodeToString(h[:])) != "EE9C664A4C7E23F98E183D764D392E44FC2E19A1" {
		t.Errorf("hash %X", h)
	}
}

// TestNormalize checks the input forms of doc/protocol.md §12 step 1.
func TestNormalize(t *testing.T) {
	want, err := Words(fprA, fprB, "", true)
	if err != nil {
		t.Fatal(err)
	}
	spaced := "8bd0 8954:c74d-830e.effb,5deb;2682_a17f 7c87 f73d"
	got, err := Words(spaced, fprB, "en", true)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Words(%q): %v, %v", spaced, got, err)
	}
	for _, bad := range []string{"", "0000", "00:00", "12G4", "12\t34", "ÄB"} {
		if _, err := Words(bad, fprB, "en", false); err == nil {
			t.Errorf("Words(%q) gave no error", bad)
		}
	}
	if _, err := Words(fprA, fprB, "xx", false); err == nil || !strings.Contains(err.Error(), `"xx"`) {
		t.Errorf("language xx: %v", err)
	}
}

// TestPadding checks steps 1–3 of doc/protocol.md §12 on inputs of
// unequal length, worked by hand (no vector in doc/vectors.md has them):
// "ABC" has an odd number of digits, so it is 0ABC, the bytes 0A BC;
// padded to the length of 01 00 00 it is 00 0A BC, the smaller, so the
// hash input is 00 0A BC 01 00 00, whichever comes first.
func TestPadding(t *testing.T) {
	want := ripemd([]byte{0x00, 0x0A, 0xBC, 0x01, 0x00, 0x00})
	for _, pair := range [][2]string{{"ABC", "010000"}, {"01:00:00", "0abc"}} {
		if got := Hash(mustNormalize(t, pair[0]), mustNormalize(t, pair[1])); got != want {
			t.Errorf("Hash(%s, %s) = %X, want %X", pair[0], pair[1], got, want)
		}
	}
	// Equal fingerprints: the input is the array twice.
	if got, want := Hash([]byte{1, 2}, []byte{1, 2}), ripemd([]byte{1, 2, 1, 2}); got != want {
		t.Errorf("equal: %X, want %X", got, want)
	}
}

func ripemd(b []byte) (sum [ripemd160.Size]byte) {
	h := ripemd160.New()
	h.Write(b)
	h.Sum(sum[:0])
	return sum
}

func mustNormalize(t *testing.T, s string) []byte {
	t.Helper()
	b, err := normalize(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLists checks the embedded lists: the first and last English words
// of doc/vectors.md §8, and, where ../shared is present, that each is the
// reference's file byte for byte; without it, against the files' SHA-256.
func TestLists(t *testing.T) {
	l, err := load("en")
	if err != nil {
		t.Fatal(err)
	}
	if l.word(0) != "AACHEN" || l.word(65535) != "DIETZ" {
		t.Errorf("en: id 0 %q, id 65535 %q", l.word(0), l.word(65535))
	}
	sums := map[string]string{
		"ca": "7a242195f1febfdca6a37d2de137b15e24430fe94ee768f73d717864dd409808",
		"de": "5c14ca24fe397535605f4f068d2599beee66e1d85a3df91a982bc800f3ff9556",
		"en": "659ceaf91cb7be5abd9e990324646025b945bcf07812c6e5c4740523a9f0819a",
		"es": "2beaecf4e746eff0f8466fe958d0e6af5fd790d7af148cb3e0c4a13c16e10036",
		"fr": "02a0d889b9e9e5a09a23f7f08e43f1593f5dba36a3e2ef0414e9867db62e5939",
		"nl": "d968cbdc23d47b83a66e9675fc93785b465402da1660be228887b3fe19f07883",
		"tr": "d3487798fc563c83334b9a19279fab1fa002bf40ee471517671ae11fee52730d",
	}
	for _, lang := range Languages() {
		b := embedded(t, lang)
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != sums[lang] {
			t.Errorf("%s: SHA-256 %x, want %s", lang, s, sums[lang])
		}
		ref, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "trustwords", lang+".csv"))
		if err == nil && !bytes.Equal(ref, b) {
			t.Errorf("%s: the embedded list differs from ../shared/data/trustwords/%s.csv", lang, lang)
		}
		if _, err := load(lang); err != nil {
			t.Error(err)
		}
	}
}

// embedded returns the decompressed embedded list of lang.
func embedded(t *testing.T, lang string) []byte {
	t.Helper()
	gz, err := data.ReadFile("data/" + lang + ".csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validList returns a well-formed list of ListSize rows, with word W<id>.
func validList() []byte {
	var b bytes.Buffer
	for id := range ListSize {
		b.WriteString("xx," + itoa(id) + ",W" + itoa(id) + ",0\n")
	}
	return b.Bytes()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestParseErrors(t *testing.T) {
	good := validList()
	l, err := parse("xx", "xx.csv", bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if l.word(7) != "W7" || l.word(65535) != "W65535" {
		t.Errorf("words %q %q", l.word(7), l.word(65535))
	}
	// Without the final LF, and in another order, it is the same list.
	rows := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	slices.Reverse(rows)
	if l2, err := parse("xx", "xx.csv", strings.NewReader(strings.Join(rows, "\n"))); err != nil || l2.word(7) != "W7" {
		t.Errorf("reversed, no final LF: %v", err)
	}
	cases := []struct{ name, in, want string }{
		{"short", "xx,0,A,0\n", "xx.csv: 1 rows, want 65536 (id 1 is missing)"},
		{"fields", "xx,0,A\n", "xx.csv:1: 3 fields"},
		{"lang", "yy,0,A,0\n", `xx.csv:1: language "yy", want "xx"`},
		{"id", "xx,0,A,0\nxx,65536,B,0\n", `xx.csv:2: id "65536" is not a number`},
		{"leading zero", "xx,00,A,0\n", `xx.csv:1: id "00"`},
		{"twice", "xx,0,A,0\nxx,0,B,0\n", "xx.csv:2: id 0 a second time"},
		{"space", "xx,0,A B,0\n", "xx.csv:1: word"},
		{"crlf", "xx,0,A,0\r\n", `xx.csv:1: entropy "0\r"`},
		{"empty word", "xx,0,,0\n", "xx.csv:1: word"},
		{"blank line", "xx,0,A,0\n\n", "xx.csv:2: 1 fields"},
		{"long", "xx,0," + strings.Repeat("A", 300) + ",0\n", "xx.csv:1: row longer than 256 bytes"},
		{"bad utf8", "xx,0,\xff,0\n", "xx.csv:1: word"},
		{"entropy", "xx,0,A,x\n", `xx.csv:1: entropy "x"`},
		{"extra row", string(good) + "xx,1,A,0\n", "xx.csv:65537: id 1 a second time"},
	}
	for _, c := range cases {
		_, err := parse("xx", "xx.csv", strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzParse holds the parser to its bounds on any input: an error or a
// full list, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("xx,0,A,0\nxx,1,B,0\n"))
	f.Add([]byte("xx,0,A,0"))
	f.Add([]byte("xx,,,\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := parse("xx", "xx.csv", bytes.NewReader(in))
		if err == nil && len(l.offs) != ListSize+1 {
			t.Fatalf("a list of %d words", len(l.offs)-1)
		}
	})
}

func BenchmarkWords(b *testing.B) {
	if _, err := Words(fprA, fprB, "en", true); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Words(fprA, fprB, "en", true)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		z, _ := gzip.NewReader(bytes.NewReader(must(data.ReadFile("data/en.csv.gz"))))
		if _, err := parse("en", "en.csv", z); err != nil {
			b.Fatal(err)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
