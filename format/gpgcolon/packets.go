package gpgcolon

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
)

// Packet tags of RFC 4880 section 4.3 that start or belong to a key.
const (
	tagSecretKey = 5
	tagPublicKey = 6
)

// Block is one key of a binary export: its primary key packet and every
// packet after it up to the next primary key (RFC 4880 sections 11.1 and 11.2).
type Block struct {
	// Fingerprint is the primary key's v4 fingerprint; zero unless Version
	// is 4.
	Fingerprint [20]byte
	Version     int    // of the primary key packet: 4, or 3 or 5, which have no v4 fingerprint
	Data        []byte // the packets, a slice of the input
}

// SplitKeys splits the output of gpg --export into one Block per key.
// Secret key exports are split too, but their blocks carry no fingerprint
// (it would need the algorithm's public fields parsed). Partial and
// indeterminate lengths, which no key export uses, are errors, as is
// anything before the first primary key or a packet longer than the
// input; errors name the byte offset.
func SplitKeys(data []byte) ([]Block, error) {
	var blocks []Block
	start := 0 // of the last block
	for off := 0; off < len(data); {
		tag, hdr, n, err := packetHeader(data[off:])
		if err != nil {
			return nil, fmt.Errorf("packet at byte %d: %w", off, err)
		}
		end := off + hdr + n
		if n > len(data)-off-hdr {
			return nil, fmt.Errorf("packet at byte %d: %d bytes long, the input ends after %d", off, n, len(data)-off-hdr)
		}
		switch {
		case tag == tagPublicKey || tag == tagSecretKey:
			start = off
			b := Block{Data: data[off:end:end]}
			body := data[off+hdr : end]
			if len(body) == 0 {
				return nil, fmt.Errorf("packet at byte %d: empty key packet", off)
			}
			b.Version = int(body[0])
			if b.Version == 4 && tag == tagPublicKey {
				b.Fingerprint = V4Fingerprint(body)
			}
			blocks = append(blocks, b)
		case len(blocks) == 0:
			return nil, fmt.Errorf("packet at byte %d: tag %d before any primary key", off, tag)
		default:
			blocks[len(blocks)-1].Data = data[start:end:end]
		}
		off = end
	}
	return blocks, nil
}

// V4Fingerprint returns the v4 fingerprint of a public key packet's body:
// SHA-1 over 0x99, the body's 2-byte length and the body (RFC 4880 section 12.2).
func V4Fingerprint(body []byte) [20]byte {
	h := sha1.New()
	h.Write([]byte{0x99, byte(len(body) >> 8), byte(len(body))})
	h.Write(body)
	var sum [20]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// packetHeader parses the header at the start of p: the tag, the header's
// length and the body's.
func packetHeader(p []byte) (tag, hdr, n int, err error) {
	if len(p) == 0 || p[0]&0x80 == 0 {
		return 0, 0, 0, fmt.Errorf("not a packet header")
	}
	if p[0]&0x40 == 0 { // old format: RFC 4880 section 4.2.1
		tag = int(p[0]>>2) & 15
		switch p[0] & 3 {
		case 0:
			hdr = 2
		case 1:
			hdr = 3
		case 2:
			hdr = 5
		default:
			return 0, 0, 0, fmt.Errorf("indeterminate length")
		}
		if len(p) < hdr {
			return 0, 0, 0, fmt.Errorf("truncated header")
		}
		var l uint64
		for _, c := range p[1:hdr] {
			l = l<<8 | uint64(c)
		}
		n, err = checkLen(l)
		return tag, hdr, n, err
	}
	tag = int(p[0] & 0x3f) // new format: RFC 4880 section 4.2.2
	if len(p) < 2 {
		return 0, 0, 0, fmt.Errorf("truncated header")
	}
	switch o := p[1]; {
	case o < 192:
		return tag, 2, int(o), nil
	case o < 224:
		if len(p) < 3 {
			return 0, 0, 0, fmt.Errorf("truncated header")
		}
		return tag, 3, (int(o)-192)<<8 + int(p[2]) + 192, nil
	case o == 255:
		if len(p) < 6 {
			return 0, 0, 0, fmt.Errorf("truncated header")
		}
		n, err = checkLen(uint64(binary.BigEndian.Uint32(p[2:6])))
		return tag, 6, n, err
	}
	return 0, 0, 0, fmt.Errorf("partial body length")
}

// checkLen returns l as an int, or an error if it cannot be one on a
// 32-bit platform.
func checkLen(l uint64) (int, error) {
	if l > 1<<31-1 {
		return 0, fmt.Errorf("length %d too large", l)
	}
	return int(l), nil
}
