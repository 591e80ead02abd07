package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/qrcode"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Flags of encrypted stores (ChatSecure's exchange file).
const (
	flagPasswordFile = "password-file"
	flagQRPNG        = "qr-png"
	flagADBPush      = "adb-push"
)

// maxPasswordFile bounds what --password-file reads.
const maxPasswordFile = 4 << 10

// addSecretFlags adds the flags of encrypted stores to the commands below
// root that read or write them: --password-file to show, and
// --password-file, --qr-png and --adb-push to convert and sync.
func addSecretFlags(root *cobra.Command) {
	walk(root, func(c *cobra.Command) {
		switch c.Name() {
		case "convert", "sync":
			c.Flags().String(flagPasswordFile, "", "read the password of encrypted stores (ChatSecure) from `FILE`; without it, writing makes a fresh one and shows it")
			c.Flags().String(flagQRPNG, "", "also write the password of a written ChatSecure file as a QR code PNG to `FILE`")
			c.Flags().Bool(flagADBPush, false, "push a written ChatSecure file to the Android device adb finds, without asking")
		case "show":
			c.Flags().String(flagPasswordFile, "", "read the password of encrypted stores (ChatSecure) from `FILE`")
		}
	})
}

// secrets holds the password flags of one command run and the passwords
// they lead to. A nil *secrets reads no file and asks no one.
type secrets struct {
	passwordFile, qrPNG string
	adbPush             bool
	stdin               io.Reader
	interactive         bool   // stdin is a terminal: keysync may ask
	given               []byte // read from passwordFile
	made                []byte // made for the targets when no file is given
}

// secretsOf returns the password flags of c (those addSecretFlags gave
// it) and whether standard input is a terminal.
func secretsOf(c *cobra.Command) *secrets {
	s := &secrets{stdin: c.InOrStdin()}
	if f, ok := s.stdin.(*os.File); ok {
		s.interactive = term.IsTerminal(int(f.Fd()))
	}
	s.passwordFile, _ = c.Flags().GetString(flagPasswordFile)
	s.qrPNG, _ = c.Flags().GetString(flagQRPNG)
	s.adbPush, _ = c.Flags().GetBool(flagADBPush)
	return s
}

// password returns the password of --password-file, read once; nil
// without the flag. Like ChatSecure, it drops line breaks and spaces.
func (s *secrets) password() ([]byte, error) {
	if s.passwordFile == "" || s.given != nil {
		return s.given, nil
	}
	f, err := os.Open(s.passwordFile)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagPasswordFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagPasswordFile, err)
	}
	pw := data[:0]
	for _, c := range data {
		if c != '\n' && c != '\r' && c != ' ' {
			pw = append(pw, c)
		}
	}
	clear(data[len(pw):])
	switch {
	case len(data) > maxPasswordFile:
		clear(data)
		return nil, fmt.Errorf("--%s: %s is larger than %d bytes, too large for a password", flagPasswordFile, s.passwordFile, maxPasswordFile)
	case len(pw) == 0:
		return nil, fmt.Errorf("--%s: %s holds no password", flagPasswordFile, s.passwordFile)
	}
	s.given = pw
	return pw, nil
}

// prompt returns the Prompt readers use: the password of --password-file,
// else a question on the terminal (the answer not echoed), else nil.
func (s *secrets) prompt() app.Prompt {
	switch {
	case s == nil:
		return nil
	case s.passwordFile != "":
		return func(string) ([]byte, error) {
			pw, err := s.password()
			return bytes.Clone(pw), err
		}
	case s.interactive:
		return func(what string) ([]byte, error) {
			fmt.Fprintf(os.Stderr, "%s: ", what)
			pw, err := term.ReadPassword(int(os.Stdin.Fd()))
			fmt.Fprintln(os.Stderr)
			return pw, err
		}
	}
	return nil
}

// prepare gives every encrypted target its password: the one of
// --password-file, else a fresh one, shown once the file is written.
func (s *secrets) prepare(tos []app.Location) error {
	if s == nil {
		return nil
	}
	if !app.Encrypted(tos) {
		if s.qrPNG != "" || s.adbPush {
			return usageErrorf("--%s and --%s need an encrypted --to store (chatsecure)", flagQRPNG, flagADBPush)
		}
		return nil
	}
	pw, err := s.password()
	if err != nil {
		return err
	}
	s.made, err = app.SetPassword(tos, pw)
	return err
}

// deliver tells the user how to get each written encrypted file into
// ChatSecure: the fresh password as text and QR code (and --qr-png), then
// a push with adb or where to copy the file.
func (s *secrets) deliver(stdout io.Writer, results []app.FileResult) error {
	if s == nil {
		return nil
	}
	var written []string
	for _, r := range results {
		if r.Exchange && r.Op != atomicfile.Unchanged {
			written = append(written, r.Path)
		}
	}
	if len(written) == 0 {
		return nil
	}
	if s.made != nil {
		fmt.Fprintf(stdout, "\nPassword of %s (scan it in ChatSecure: Activate KeySync):\n%s\n", strings.Join(written, ", "), s.made)
		if err := qrcode.Terminal(stdout, string(s.made)); err != nil {
			return err
		}
	}
	if s.qrPNG != "" {
		pw := s.made
		if pw == nil {
			pw = s.given
		}
		img, err := qrcode.PNG(string(pw))
		if err != nil {
			return err
		}
		if err := writePrivate(s.qrPNG, img); err != nil {
			return fmt.Errorf("--%s: %w", flagQRPNG, err)
		}
		fmt.Fprintf(stdout, "wrote the password's QR code to %s (it opens the keystore: delete it once scanned)\n", s.qrPNG)
	}
	for _, path := range written {
		if err := s.push(stdout, path); err != nil {
			return err
		}
	}
	return nil
}

// writePrivate writes data to path with mode 0600, replacing what it
// held in place: no backup or temporary file of an old password is left.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// push offers to copy path to the Android device adb finds: without
// asking with --adb-push, after a yes on the terminal, else it says how.
func (s *secrets) push(stdout io.Writer, path string) error {
	dest := app.AndroidStorage + filepath.Base(path)
	how := fmt.Sprintf("copy %s to the root of the phone's storage (%s), where ChatSecure looks for it; then choose Activate KeySync in ChatSecure and scan the code", path, dest)
	adb, devices, err := app.ADBDevices()
	if err != nil || devices == 0 {
		if s.adbPush {
			if err == nil {
				err = errors.New("adb lists no device (is USB debugging on?)")
			}
			return fmt.Errorf("--%s: %w; %s", flagADBPush, err, how)
		}
		fmt.Fprintln(stdout, "To import: "+how+".")
		return nil
	}
	if !s.adbPush {
		if !s.interactive {
			fmt.Fprintf(stdout, "To import: adb sees a device: run again with --%s, or %s.\n", flagADBPush, how)
			return nil
		}
		fmt.Fprintf(stdout, "Push %s to the phone's %s with adb? [y/N] ", path, dest)
		answer, _ := bufio.NewReader(s.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(stdout, "Not pushed. To import: "+how+".")
			return nil
		}
	}
	if _, err := app.ADBPush(adb, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pushed %s to %s on the device; in ChatSecure choose Activate KeySync and scan the code (ChatSecure deletes the file after importing)\n", path, dest)
	return nil
}
