// Package qrcode draws a short text, such as the password of a ChatSecure
// exchange file, as a QR code: in the terminal and as a PNG image. The
// code holds exactly the text, with no trailing newline.
package qrcode

import (
	"fmt"
	"io"

	"github.com/mdp/qrterminal/v3"
	"rsc.io/qr"
)

// level is the error correction used: M survives a smudged screen and
// keeps a 44-character password small.
const level = qr.M

// PNG returns text as a QR code in a PNG image, 8 pixels a module.
func PNG(text string) ([]byte, error) {
	c, err := qr.Encode(text, level)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	c.Scale = 8
	return c.PNG(), nil
}

// Terminal writes text to w as a QR code of Unicode half blocks, light
// modules as full blocks, with a quiet zone of 4 modules.
func Terminal(w io.Writer, text string) error {
	if _, err := qr.Encode(text, level); err != nil { // qrterminal would not say
		return fmt.Errorf("QR code: %w", err)
	}
	cw := &errWriter{w: w}
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          level,
		Writer:         cw,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrterminal.QUIET_ZONE,
	})
	return cw.err
}

// errWriter keeps the first error of w, which qrterminal drops.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
