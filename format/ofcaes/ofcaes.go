// Package ofcaes reads and writes ChatSecure's exchange file
// otr_keystore.ofcaes: OpenSSL enc's salted format, "Salted__", an 8-byte
// salt and AES-256-CBC with PKCS#7 padding, the key and IV made by
// EVP_BytesToKey with MD5 and one iteration (doc/formats.md §9). Files it
// writes decrypt with `openssl enc -d -aes-256-cbc -md md5`.
//
// The format has no integrity check: a wrong password shows only as bad
// padding, and about one wrong password in 256 passes that check. The
// caller must also check that the plaintext is what it expects.
package ofcaes

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Magic starts every salted file.
const Magic = "Salted__"

// SaltSize is the length of the salt after Magic.
const SaltSize = 8

// headerSize is the length of Magic and the salt.
const headerSize = len(Magic) + SaltSize

// ErrWrongPassword is returned when the plaintext's padding is invalid:
// the password is wrong or the file is damaged.
var ErrWrongPassword = errors.New("wrong password or damaged file")

// PasswordBytes is how many random bytes NewPassword encodes.
const PasswordBytes = 32

// NewPassword returns a fresh password: the standard base64 of 32 bytes
// from rand (44 characters, ending in "="), as ChatSecure scans it from a
// QR code.
func NewPassword(rand io.Reader) ([]byte, error) {
	var b [PasswordBytes]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("making a password: %w", err)
	}
	pw := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(pw, b[:])
	clear(b[:])
	return pw, nil
}

// deriveKey returns EVP_BytesToKey's key (32 bytes) and IV (16 bytes) for
// AES-256-CBC with MD5 and one iteration: D1 = MD5(pw ‖ salt),
// Dn = MD5(Dn-1 ‖ pw ‖ salt), key = D1 ‖ D2, IV = D3.
func deriveKey(password, salt []byte) (key, iv []byte) {
	var out []byte
	var prev []byte
	for len(out) < 48 {
		h := md5.New()
		h.Write(prev)
		h.Write(password)
		h.Write(salt)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	return out[:32], out[32:48]
}

// Encrypt returns plaintext encrypted with password under a fresh salt
// read from rand, in the salted format. It works in memory: nothing is
// written anywhere.
func Encrypt(plaintext, password []byte, rand io.Reader) ([]byte, error) {
	var salt [SaltSize]byte
	if _, err := io.ReadFull(rand, salt[:]); err != nil {
		return nil, fmt.Errorf("making a salt: %w", err)
	}
	return encryptSalt(plaintext, password, salt[:]), nil
}

// encryptSalt encrypts with the given salt.
func encryptSalt(plaintext, password, salt []byte) []byte {
	key, iv := deriveKey(password, salt)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	out := make([]byte, headerSize+len(plaintext)+pad)
	copy(out, Magic)
	copy(out[len(Magic):], salt)
	body := out[headerSize:]
	copy(body, plaintext)
	for i := len(plaintext); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	clear(key)
	return out
}

// Decrypt returns the plaintext of data, a salted file or its base64
// (`openssl enc -a`, which ChatSecure also takes). Bad padding is
// ErrWrongPassword; a file that is not in the format says what is wrong
// with it. No error includes the password or any plaintext.
func Decrypt(data, password []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(Magic)) {
		raw, err := unarmor(data)
		if err != nil {
			return nil, err
		}
		data = raw
	}
	if len(data) < headerSize {
		return nil, fmt.Errorf("%d bytes: too short for the %d-byte header", len(data), headerSize)
	}
	body := data[headerSize:]
	if len(body) == 0 || len(body)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%d bytes of ciphertext: not a positive multiple of %d (truncated file)", len(body), aes.BlockSize)
	}
	key, iv := deriveKey(password, data[len(Magic):headerSize])
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, body)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize {
		clear(plain)
		return nil, ErrWrongPassword
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			clear(plain)
			return nil, ErrWrongPassword
		}
	}
	return plain[:len(plain)-pad], nil
}

// unarmor decodes the base64 form, whitespace and line breaks allowed.
func unarmor(data []byte) ([]byte, error) {
	compact := make([]byte, 0, len(data))
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			compact = append(compact, c)
		}
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(compact)))
	n, err := base64.StdEncoding.Decode(raw, compact)
	if err != nil || !bytes.HasPrefix(raw[:n], []byte(Magic)) {
		return nil, fmt.Errorf("not an encrypted keystore: it starts neither with %q nor with its base64", Magic)
	}
	return raw[:n], nil
}
