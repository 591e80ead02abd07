package libotr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"strings"
	"unsafe"

	"github.com/keysync/keysync"
)

// MaxLineLen is the longest line, without its line feed, that libotr reads
// whole: it reads with fgets into a 1000-byte buffer.
const MaxLineLen = 998

// FingerprintRow is one line of otr.fingerprints.
type FingerprintRow struct {
	Username    string // remote contact (column 1)
	Account     string // local account name (column 2)
	Protocol    string // column 3
	Fingerprint keysync.Fingerprint
	Trust       keysync.Trust // "" when absent or empty
	Line        int
}

// ReadFingerprints parses an otr.fingerprints file. It keeps file order;
// rows with the same (username, account, protocol, fingerprint) collapse
// into the position of the first, and the last trust wins, as in libotr.
// LF and CRLF line ends are accepted. Blank lines are skipped; any other
// line libotr would skip (too few tabs, no line end, a fingerprint that is
// not 40 hex digits, a line over MaxLineLen bytes) is an error
// "FILE:LINE: message".
func ReadFingerprints(r io.Reader, file string) ([]FingerprintRow, error) {
	p := fpParser{file: file, seed: maphash.MakeSeed(), ids: map[string]uint32{}, vals: []string{""}}
	p.ids[""] = 0
	hint := sizeHint(r)
	if hint >= 0 {
		p.names.next = int(min(hint/4+64, 1<<20))
	} else {
		p.names.next = 4 << 10
	}
	bufSize := 256 << 10
	if hint >= 0 && hint+1 < int64(bufSize) {
		bufSize = int(max(hint+1, 2*(MaxLineLen+2)))
	}
	buf := make([]byte, bufSize)
	start, end := 0, 0
	eof := false
	line := 0
	first := true
	for {
		i := bytes.IndexByte(buf[start:end], '\n')
		if i < 0 {
			if end-start > MaxLineLen+1 {
				return nil, p.errf(line+1, "line longer than %d bytes (libotr would split it)", MaxLineLen)
			}
			if eof {
				if start < end {
					line++
					if err := p.parseLine(buf[start:end], false, line); err != nil {
						return nil, err
					}
				}
				break
			}
			// Move the partial line to the front and read more.
			n := copy(buf, buf[start:end])
			start, end = 0, n
			m, err := io.ReadAtLeast(r, buf[end:], 1)
			end += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if first && hint > 0 {
				// Size the rows from the first chunk's average line length.
				first = false
				if lines := bytes.Count(buf[:end], []byte{'\n'}); lines > 0 {
					est := int(float64(hint) * float64(lines) / float64(end))
					p.rows = make([]FingerprintRow, 0, est+est/64+8)
				}
			}
			continue
		}
		line++
		if i > MaxLineLen {
			return nil, p.errf(line, "line longer than %d bytes (libotr would split it)", MaxLineLen)
		}
		if err := p.parseLine(buf[start:start+i], true, line); err != nil {
			return nil, err
		}
		start += i + 1
	}
	if len(p.rows) == 0 {
		return nil, nil
	}
	return p.rows, nil
}

// sizeHint returns how many bytes r will yield, or -1 if unknown.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		size := fi.Size()
		if s, ok := r.(io.Seeker); ok {
			if off, err := s.Seek(0, io.SeekCurrent); err == nil {
				size -= off
			}
		}
		return max(size, 0)
	}
	return -1
}

type fpParser struct {
	file  string
	rows  []FingerprintRow
	names arena
	// Interned account, protocol and trust strings, with small ids.
	ids  map[string]uint32
	vals []string
	// Duplicate detection: open addressing over row indexes + 1.
	seed  maphash.Seed
	table []int32
	used  int
	keys  []uint64 // per row: hash of its key
}

func (p *fpParser) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

// intern returns the shared copy of b and its id.
func (p *fpParser) intern(b []byte) (string, uint32) {
	if id, ok := p.ids[string(b)]; ok {
		return p.vals[id], id
	}
	s := string(b)
	id := uint32(len(p.vals))
	p.vals = append(p.vals, s)
	p.ids[s] = id
	return s, id
}

var hexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i] = 10 + i
		t['A'+i] = 10 + i
	}
	return t
}()

// endField cuts a 4th or 5th column at its CR, as libotr does, and checks
// that nothing but the line end follows the CR.
func (p *fpParser) endField(f []byte, hasLF bool, line int) ([]byte, error) {
	if j := bytes.IndexByte(f, '\r'); j >= 0 {
		if j != len(f)-1 {
			return nil, p.errf(line, "carriage return inside the line")
		}
		return f[:j], nil
	}
	if !hasLF {
		return nil, p.errf(line, "last line has no line end (libotr ignores it)")
	}
	return f, nil
}

func (p *fpParser) parseLine(b []byte, hasLF bool, line int) error {
	if len(b) == 0 || (len(b) == 1 && b[0] == '\r') {
		return nil
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return p.errf(line, "NUL byte in line")
	}
	t1 := bytes.IndexByte(b, '\t')
	if t1 < 0 {
		return p.errf(line, "want tab-separated username, account, protocol, fingerprint, trust; have no tab")
	}
	user := b[:t1]
	rest := b[t1+1:]
	t2 := bytes.IndexByte(rest, '\t')
	if t2 < 0 {
		return p.errf(line, "want tab-separated username, account, protocol, fingerprint, trust; have 1 tab")
	}
	acct := rest[:t2]
	rest = rest[t2+1:]
	t3 := bytes.IndexByte(rest, '\t')
	if t3 < 0 {
		return p.errf(line, "want tab-separated username, account, protocol, fingerprint, trust; have 2 tabs")
	}
	proto := rest[:t3]
	rest = rest[t3+1:]
	var hex, trust []byte
	var err error
	if t4 := bytes.IndexByte(rest, '\t'); t4 >= 0 {
		hex = rest[:t4]
		if trust, err = p.endField(rest[t4+1:], hasLF, line); err != nil {
			return err
		}
	} else if hex, err = p.endField(rest, hasLF, line); err != nil {
		return err
	}
	if len(hex) != 40 {
		return p.errf(line, "fingerprint has %d characters, want 40 hex digits", len(hex))
	}
	var row FingerprintRow
	for i := range 20 {
		h, l := hexTable[hex[2*i]], hexTable[hex[2*i+1]]
		if h|l == 0xff || h > 15 || l > 15 {
			return p.errf(line, "fingerprint is not 40 hex digits")
		}
		row.Fingerprint[i] = h<<4 | l
	}
	var aid, pid uint32
	row.Account, aid = p.intern(acct)
	row.Protocol, pid = p.intern(proto)
	if len(trust) > 0 {
		var t string
		t, _ = p.intern(trust)
		row.Trust = keysync.Trust(t)
	}
	row.Line = line

	// Duplicate detection.
	h := binary.LittleEndian.Uint64(row.Fingerprint[:8]) ^ maphash.Bytes(p.seed, user) ^
		uint64(aid)*0x9e3779b97f4a7c15 ^ uint64(pid)*0xc2b2ae3d27d4eb4f
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	if 2*(p.used+1) > len(p.table) {
		p.grow()
	}
	mask := uint64(len(p.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := p.table[i]
		if e == 0 {
			row.Username = p.names.str(user)
			p.table[i] = int32(len(p.rows) + 1)
			p.used++
			p.rows = append(p.rows, row)
			p.keys = append(p.keys, h)
			return nil
		}
		o := &p.rows[e-1]
		if p.keys[e-1] == h && o.Fingerprint == row.Fingerprint && o.Account == row.Account &&
			o.Protocol == row.Protocol && o.Username == string(user) {
			o.Trust = row.Trust
			return nil
		}
	}
}

// grow doubles the duplicate table and reinserts every row.
func (p *fpParser) grow() {
	n := max(1024, 2*len(p.table))
	for n < 4*cap(p.rows) && n < 1<<31 {
		n *= 2
	}
	p.table = make([]int32, n)
	if cap(p.keys) < cap(p.rows) {
		k := make([]uint64, len(p.keys), cap(p.rows))
		copy(k, p.keys)
		p.keys = k
	}
	mask := uint64(n - 1)
	for idx, h := range p.keys {
		i := h & mask
		for p.table[i] != 0 {
			i = (i + 1) & mask
		}
		p.table[i] = int32(idx + 1)
	}
}

// arena hands out strings carved from large blocks, so that many short
// strings cost few allocations.
type arena struct {
	blk  []byte
	next int // size of the next block
}

func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.blk)-len(a.blk) < len(b) {
		size := max(a.next, len(b))
		a.blk = make([]byte, 0, size)
		if a.next < 1<<20 {
			a.next *= 2
		}
	}
	start := len(a.blk)
	a.blk = append(a.blk, b...)
	// The bytes a string points to are never written again.
	return unsafe.String(&a.blk[start], len(b))
}

// WriteFingerprints writes rows in the given order in libotr's layout:
// five tab-separated columns, the fingerprint in lower-case hex, LF line
// ends. It refuses values libotr could not read back.
func WriteFingerprints(w io.Writer, rows []FingerprintRow) error {
	buf := make([]byte, 0, 64<<10)
	for i := range rows {
		r := &rows[i]
		if err := checkFields(r); err != nil {
			return fmt.Errorf("fingerprint row %d: %w", i+1, err)
		}
		start := len(buf)
		buf = append(buf, r.Username...)
		buf = append(buf, '\t')
		buf = append(buf, r.Account...)
		buf = append(buf, '\t')
		buf = append(buf, r.Protocol...)
		buf = append(buf, '\t')
		for _, c := range r.Fingerprint {
			buf = append(buf, lowerHex[c>>4], lowerHex[c&15])
		}
		buf = append(buf, '\t')
		buf = append(buf, r.Trust...)
		if len(buf)-start > MaxLineLen {
			return fmt.Errorf("fingerprint row %d: line longer than %d bytes, which libotr cannot read", i+1, MaxLineLen)
		}
		buf = append(buf, '\n')
		if len(buf) >= 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

const lowerHex = "0123456789abcdef"

func checkFields(r *FingerprintRow) error {
	for _, f := range [3]struct{ name, v string }{{"username", r.Username}, {"account", r.Account}, {"protocol", r.Protocol}} {
		if strings.ContainsAny(f.v, "\t\n\x00") {
			return fmt.Errorf("%s contains a tab, line feed or NUL", f.name)
		}
	}
	if strings.ContainsAny(string(r.Trust), "\r\n\x00") {
		return errors.New("trust contains a carriage return, line feed or NUL")
	}
	return nil
}
