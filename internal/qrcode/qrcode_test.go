package qrcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/peer"
)

const password = "6QpT40Omhp6YRX73BzxnPlSvvr7ZsPP6VaS4aqWOyqE="

// zbar decodes the QR code in the PNG image data with zbarimg and returns
// its text exactly (--raw prints the text and one newline).
func zbar(t *testing.T, data []byte) string {
	t.Helper()
	path := peer.Need(t, "zbarimg")
	file := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "--raw", "-q", file).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	text, ok := strings.CutSuffix(string(out), "\n")
	if !ok {
		t.Fatalf("zbarimg printed %q", out)
	}
	return text
}

func TestPNG(t *testing.T) {
	data, err := PNG(password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got := zbar(t, data); got != password {
		t.Errorf("zbarimg reads %q, want %q", got, password)
	}
}

// TestTerminal draws the terminal's half blocks as pixels and has zbarimg
// read them: what the terminal shows scans to the password.
func TestTerminal(t *testing.T) {
	var b bytes.Buffer
	if err := Terminal(&b, password); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	width := len([]rune(lines[0]))
	const scale = 6
	img := image.NewGray(image.Rect(0, 0, width*scale, 2*len(lines)*scale))
	for y, line := range lines {
		runes := []rune(line)
		if len(runes) != width {
			t.Fatalf("line %d has %d cells, line 1 %d", y+1, len(runes), width)
		}
		for x, r := range runes {
			var top, bottom bool // light?
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				t.Fatalf("line %d: unexpected %q", y+1, r)
			}
			for dy := range 2 * scale {
				light := top
				if dy >= scale {
					light = bottom
				}
				for dx := range scale {
					if light {
						img.SetGray(x*scale+dx, 2*y*scale+dy, color.Gray{Y: 255})
					}
				}
			}
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	if got := zbar(t, out.Bytes()); got != password {
		t.Errorf("zbarimg reads the terminal's code as %q, want %q", got, password)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestErrors(t *testing.T) {
	if err := Terminal(failWriter{}, password); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failing writer: %v", err)
	}
	long := strings.Repeat("x", 5000)
	if _, err := PNG(long); err == nil {
		t.Error("PNG of 5000 bytes: no error")
	}
	if err := Terminal(&bytes.Buffer{}, long); err == nil {
		t.Error("Terminal of 5000 bytes: no error")
	}
}
