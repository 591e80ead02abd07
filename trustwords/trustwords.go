// Package trustwords computes p≡p trustwords: the words two devices show
// so that their users can compare two keys by reading them aloud
// (doc/protocol.md §12, worked example in doc/vectors.md §8).
//
// The two fingerprints are normalized, padded to one length and joined
// smaller first, so that both devices get the same words; the join is
// hashed with RIPEMD-160, and each 16 bits of the hash pick one of 65536
// words: 5 words for the short form, 10 for the full form. Only this
// algorithm (p≡p protocol 3.3 and later, always used between own
// devices) is implemented, not the old XOR one.
//
// The word lists of the reference, for ca, de, en, es, fr, nl and tr,
// are embedded in the binary, gzip-compressed (data/LANG.csv.gz, copies of
// the reference's LANG.csv); a list is read on its first use.
package trustwords

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ripemd160" //lint:ignore SA1019 the trustwords algorithm is defined over RIPEMD-160 (doc/protocol.md §12)
)

// Words in each form.
const (
	ShortWords = 5
	FullWords  = 10
)

// ListSize is the number of words in each language's list: one for
// each 16-bit value.
const ListSize = 1 << 16

// DefaultLanguage is the language of an empty lang.
const DefaultLanguage = "en"

// Limits of a word list, which its parser holds: a row is at most
// maxRow bytes, a list at most maxList bytes.
const (
	maxRow  = 256
	maxList = 8 << 20
)

//go:embed data/*.csv.gz
var data embed.FS

// list is one language's words: word id is text[offs[id]:offs[id+1]].
type list struct {
	text string
	offs []uint32
}

func (l *list) word(id uint16) string { return l.text[l.offs[id]:l.offs[int(id)+1]] }

var lists sync.Map // language → func() (*list, error), each a sync.OnceValues

// Languages returns the languages that have a word list, sorted.
func Languages() []string {
	ents, err := data.ReadDir("data")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	var out []string
	for _, e := range ents {
		if lang, ok := strings.CutSuffix(e.Name(), ".csv.gz"); ok {
			out = append(out, lang)
		}
	}
	slices.Sort(out)
	return out
}

// load returns the word list of lang (lower case), reading it once.
func load(lang string) (*list, error) {
	if !slices.Contains(Languages(), lang) {
		return nil, fmt.Errorf("trustwords: no word list for language %q (have %s)", lang, strings.Join(Languages(), ", "))
	}
	f, _ := lists.LoadOrStore(lang, sync.OnceValues(func() (*list, error) {
		name := "data/" + lang + ".csv.gz"
		b, err := data.ReadFile(name)
		if err != nil {
			return nil, err
		}
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("trustwords: %s: %w", name, err)
		}
		return parse(lang, lang+".csv", z)
	}))
	return f.(func() (*list, error))()
}

// parse reads a word list: rows "lang,id,WORD,entropy" with LF line ends,
// one for each id from 0 to ListSize-1 in any order, lang as given, WORD
// non-empty UTF-8 without commas, spaces or control characters, entropy
// decimal digits. name is the file's name for errors.
func parse(lang, name string, r io.Reader) (*list, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxList+1), 64<<10)
	words := make([]string, ListSize)
	seen := make([]bool, ListSize)
	total, read, rows := 0, 0, 0
	for line := 1; ; line++ {
		row, err := readRow(br)
		read += len(row)
		if read > maxList {
			return nil, fmt.Errorf("trustwords: %s: more than %d bytes", name, maxList)
		}
		if err == io.EOF && len(row) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("trustwords: %s:%d: %w", name, line, err)
		}
		id, word, perr := parseRow(lang, row)
		if perr != nil {
			return nil, fmt.Errorf("trustwords: %s:%d: %w", name, line, perr)
		}
		if seen[id] {
			return nil, fmt.Errorf("trustwords: %s:%d: id %d a second time", name, line, id)
		}
		seen[id], words[id] = true, word
		total += len(word)
		rows++
		if err == io.EOF {
			break
		}
	}
	if rows != ListSize {
		missing := slices.Index(seen, false)
		return nil, fmt.Errorf("trustwords: %s: %d rows, want %d (id %d is missing)", name, rows, ListSize, missing)
	}
	var sb strings.Builder
	sb.Grow(total)
	offs := make([]uint32, 0, ListSize+1)
	for _, w := range words {
		offs = append(offs, uint32(sb.Len()))
		sb.WriteString(w)
	}
	offs = append(offs, uint32(sb.Len()))
	return &list{text: sb.String(), offs: offs}, nil
}

var errLongRow = errors.New("row longer than " + strconv.Itoa(maxRow) + " bytes")

// readRow reads one row without its LF; io.EOF with the last row if
// the input does not end in LF, or with nothing at its end.
func readRow(br *bufio.Reader) ([]byte, error) {
	var row []byte
	for {
		frag, err := br.ReadSlice('\n')
		row = append(row, frag...)
		if len(row) > maxRow+1 {
			return row, errLongRow
		}
		switch err {
		case nil:
			return row[:len(row)-1], nil
		case bufio.ErrBufferFull:
			continue
		default:
			return row, err
		}
	}
}

// parseRow parses one row "lang,id,WORD,entropy".
func parseRow(lang string, row []byte) (uint16, string, error) {
	f := strings.Split(string(row), ",")
	if len(f) != 4 {
		return 0, "", fmt.Errorf("%d fields, want 4 (lang,id,WORD,entropy)", len(f))
	}
	if f[0] != lang {
		return 0, "", fmt.Errorf("language %q, want %q", f[0], lang)
	}
	id, err := strconv.ParseUint(f[1], 10, 16)
	if err != nil || strconv.FormatUint(id, 10) != f[1] {
		return 0, "", fmt.Errorf("id %q is not a number from 0 to %d", f[1], ListSize-1)
	}
	w := f[2]
	if w == "" || !utf8.ValidString(w) || strings.ContainsFunc(w, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return 0, "", fmt.Errorf("word %q is empty, not UTF-8 or has spaces or control characters", w)
	}
	if f[3] == "" || strings.Trim(f[3], "0123456789") != "" {
		return 0, "", fmt.Errorf("entropy %q is not a number", f[3])
	}
	return uint16(id), w, nil
}

// Words returns the trustwords of the fingerprints fprA and fprB (hex,
// any length; the separators . : , ; - _ and space are ignored) in
// language lang (two letters, any case; "" is DefaultLanguage): the
// ShortWords first words, or all FullWords if full. The order of fprA
// and fprB does not matter.
func Words(fprA, fprB, lang string, full bool) ([]string, error) {
	a, err := normalize(fprA)
	if err != nil {
		return nil, err
	}
	b, err := normalize(fprB)
	if err != nil {
		return nil, err
	}
	if lang == "" {
		lang = DefaultLanguage
	}
	l, err := load(strings.ToLower(lang))
	if err != nil {
		return nil, err
	}
	sum := Hash(a, b)
	n := ShortWords
	if full {
		n = FullWords
	}
	out := make([]string, n)
	for i := range out {
		out[i] = l.word(uint16(sum[2*i])<<8 | uint16(sum[2*i+1]))
	}
	return out, nil
}

// Hash returns the RIPEMD-160 hash that the trustwords of the
// fingerprints a and b (as bytes) are read from: a and b padded on the
// left with zero bytes to one length and joined smaller first.
func Hash(a, b []byte) [ripemd160.Size]byte {
	n := max(len(a), len(b))
	a, b = padLeft(a, n), padLeft(b, n)
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	h := ripemd160.New()
	h.Write(a)
	h.Write(b)
	var sum [ripemd160.Size]byte
	h.Sum(sum[:0])
	return sum
}

func padLeft(b []byte, n int) []byte {
	return append(make([]byte, n-len(b), n), b...)
}

// normalize turns a fingerprint as people write it into its bytes.
func normalize(fpr string) ([]byte, error) {
	var hexDigits []byte
	zero := true
	for i, r := range fpr {
		switch {
		case strings.ContainsRune(".:,;-_ ", r):
		case '0' <= r && r <= '9', 'a' <= r && r <= 'f', 'A' <= r && r <= 'F':
			hexDigits = append(hexDigits, byte(r))
			zero = zero && r == '0'
		default:
			return nil, fmt.Errorf("trustwords: fingerprint %q: %q at byte %d is not a hex digit or separator", short(fpr), r, i)
		}
	}
	if zero {
		return nil, fmt.Errorf("trustwords: fingerprint %q has no digit other than 0", short(fpr))
	}
	if len(hexDigits)%2 == 1 {
		hexDigits = append([]byte{'0'}, hexDigits...)
	}
	b := make([]byte, len(hexDigits)/2)
	if _, err := hex.Decode(b, hexDigits); err != nil {
		return nil, fmt.Errorf("trustwords: fingerprint %q: %w", short(fpr), err)
	}
	return b, nil
}

// short returns s, cut to a length fit for an error message.
func short(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
