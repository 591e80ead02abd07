package libotr

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/collapse"
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
	Line        int           // line in the file, for messages
}

// ReadFingerprints parses an otr.fingerprints file. It keeps file order;
// rows with the same (username, account, protocol, fingerprint) collapse
// into the position (and Line) of the first, and the last trust wins, as in
// libotr.
// LF and CRLF line ends are accepted. Blank lines are skipped; any other
// line libotr would skip (too few tabs, no line end, a fingerprint that is
// not 40 hex digits, a line over MaxLineLen bytes) is an error
// "FILE:LINE: message".
func ReadFingerprints(r io.Reader, file string) ([]FingerprintRow, error) {
	var rows []FingerprintRow
	if size := sizeHint(r); size > 0 {
		// A row takes 44 bytes at the least and about 100 in practice:
		// room for one per 64 bytes rarely needs to grow.
		rows = make([]FingerprintRow, 0, size/64+1)
	}
	err := ScanFingerprints(r, file, func(row FingerprintRow) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	type rowKey struct {
		username, account, protocol string
		fp                          keysync.Fingerprint
	}
	return collapse.Rows(rows,
		func(r *FingerprintRow) rowKey { return rowKey{r.Username, r.Account, r.Protocol, r.Fingerprint} },
		func(first, dup *FingerprintRow) { first.Trust = dup.Trust }), nil
}

// ScanFingerprints parses an otr.fingerprints file like ReadFingerprints
// and calls fn with each row in file order, without collapsing duplicate
// rows: it is for callers that keep the rows in a form of their own and
// collapse them there. Its strings stay valid after fn returns.
func ScanFingerprints(r io.Reader, file string, fn func(FingerprintRow) error) error {
	p := fpParser{file: file, ids: map[string]string{}, emit: fn}
	bufSize := 256 << 10
	if hint := sizeHint(r); hint >= 0 && hint+1 < int64(bufSize) {
		bufSize = int(max(hint+1, 2*(MaxLineLen+2)))
	}
	buf := make([]byte, bufSize)
	start, end := 0, 0
	eof := false
	line := 0
	for {
		i := bytes.IndexByte(buf[start:end], '\n')
		if i < 0 {
			if end-start > MaxLineLen+1 {
				return p.fail(p.errf(line+1, "line longer than %d bytes (libotr would split it)", MaxLineLen))
			}
			if eof {
				if start < end {
					line++
					if err := p.parseLine(buf[start:end], false, line); err != nil {
						return p.fail(err)
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
				return p.fail(fmt.Errorf("%s: %w", file, err))
			}
			continue
		}
		line++
		if i > MaxLineLen {
			return p.fail(p.errf(line, "line longer than %d bytes (libotr would split it)", MaxLineLen))
		}
		if err := p.parseLine(buf[start:start+i], true, line); err != nil {
			return p.fail(err)
		}
		start += i + 1
	}
	return p.flush()
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

// batchRows is how many parsed rows wait to be emitted together: their
// usernames share one string, so that a million rows cost a few hundred
// allocations rather than a million.
const batchRows = 4096

type fpParser struct {
	file string
	emit func(FingerprintRow) error
	// Rows parsed but not yet emitted, the bytes of their usernames and
	// where each username ends in them.
	batch []FingerprintRow
	names []byte
	ends  []int
	// Interned account, protocol and trust strings.
	ids map[string]string
	// Last interned value per column, to skip the map.
	last [3]string
}

// flush emits the batched rows, giving them their usernames.
func (p *fpParser) flush() error {
	names := string(p.names)
	begin := 0
	for i := range p.batch {
		p.batch[i].Username = names[begin:p.ends[i]]
		begin = p.ends[i]
	}
	for _, row := range p.batch {
		if err := p.emit(row); err != nil {
			return err
		}
	}
	p.batch, p.names, p.ends = p.batch[:0], p.names[:0], p.ends[:0]
	return nil
}

// fail emits the rows before a line that failed, then returns err: the
// rows reach fn in file order as if each had been emitted on its own.
func (p *fpParser) fail(err error) error {
	if ferr := p.flush(); ferr != nil {
		return ferr
	}
	return err
}

func (p *fpParser) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...))
}

// intern returns the shared copy of b; col selects the cache of the last
// value seen in that column.
func (p *fpParser) intern(b []byte, col int) string {
	if c := p.last[col]; c == string(b) {
		return c
	}
	s, ok := p.ids[string(b)]
	if !ok {
		s = string(b)
		p.ids[s] = s
	}
	p.last[col] = s
	return s
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
		row.Fingerprint.Sum[i] = h<<4 | l
	}
	row.Fingerprint.Kind = keysync.OTRDSA
	row.Account = p.intern(acct, 0)
	row.Protocol = p.intern(proto, 1)
	if len(trust) > 0 {
		row.Trust = keysync.Trust(p.intern(trust, 2))
	}
	row.Line = line
	p.names = append(p.names, user...)
	p.ends = append(p.ends, len(p.names))
	p.batch = append(p.batch, row)
	if len(p.batch) == batchRows {
		return p.flush()
	}
	return nil
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
		for _, c := range r.Fingerprint.Sum {
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

// badIn reports whether s holds a byte whose bit is set in mask (bytes
// below 0x20 only).
func badIn(s string, mask uint32) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && mask&(1<<c) != 0 {
			return true
		}
	}
	return false
}

const (
	badColumn = 1<<'\t' | 1<<'\n' | 1<<0
	badTrust  = 1<<'\r' | 1<<'\n' | 1<<0
)

func checkFields(r *FingerprintRow) error {
	switch {
	case r.Fingerprint.Kind != keysync.OTRDSA:
		return fmt.Errorf("fingerprint of kind %s, libotr holds only %s", r.Fingerprint.Kind, keysync.OTRDSA)
	case badIn(r.Username, badColumn):
		return errors.New("username contains a tab, line feed or NUL")
	case badIn(r.Account, badColumn):
		return errors.New("account contains a tab, line feed or NUL")
	case badIn(r.Protocol, badColumn):
		return errors.New("protocol contains a tab, line feed or NUL")
	case badIn(string(r.Trust), badTrust):
		return errors.New("trust contains a carriage return, line feed or NUL")
	}
	return nil
}

type sortKey struct {
	p0, p1 uint64 // username bytes 0-7 and 8-15, big-endian, zero-padded
	idx    int32
}

// prefix returns bytes off…off+7 of s as a big-endian number, zero-padded.
func prefix(s string, off int) uint64 {
	var b [8]byte
	if off < len(s) {
		copy(b[:], s[off:])
	}
	return binary.BigEndian.Uint64(b[:])
}

// SortFingerprints sorts rows into libotr's context order: ascending by
// username, then account, then protocol, comparing bytes like strcmp. Rows
// of one context keep their relative order.
func SortFingerprints(rows []FingerprintRow) {
	less := func(a, b *FingerprintRow) int {
		if c := strings.Compare(a.Username, b.Username); c != 0 {
			return c
		}
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		return strings.Compare(a.Protocol, b.Protocol)
	}
	sorted := true
	for i := 1; i < len(rows); i++ {
		if less(&rows[i-1], &rows[i]) > 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	// Sort keys holding the first 16 bytes of the username, so that most
	// comparisons touch no row; ties fall back to the rows and then to the
	// index, which makes the sort stable. Then permute the rows in place
	// along the permutation's cycles.
	keys := make([]sortKey, len(rows))
	for i := range rows {
		keys[i] = sortKey{prefix(rows[i].Username, 0), prefix(rows[i].Username, 8), int32(i)}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.p0 != b.p0 {
			return cmp.Compare(a.p0, b.p0)
		}
		if a.p1 != b.p1 {
			return cmp.Compare(a.p1, b.p1)
		}
		if c := less(&rows[a.idx], &rows[b.idx]); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	for i := range keys {
		if keys[i].idx < 0 {
			continue
		}
		// Position i takes row keys[i].idx, whose position takes the next, …
		tmp := rows[i]
		j := i
		for {
			k := int(keys[j].idx)
			keys[j].idx = -1
			if k == i {
				rows[j] = tmp
				break
			}
			rows[j] = rows[k]
			j = k
		}
	}
}
