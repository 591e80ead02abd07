package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keysync/keysync/internal/excerpt"
)

// AndroidStorage is where ChatSecure looks for otr_keystore.ofcaes: the
// root of the phone's external storage (doc/formats.md §6.7).
const AndroidStorage = "/sdcard/"

// ADBDevices returns the adb program on PATH and how many devices it
// lists as ready ("device"; not "offline" or "unauthorized").
func ADBDevices() (string, int, error) {
	adb, err := exec.LookPath("adb")
	if err != nil {
		return "", 0, errors.New("adb is not installed")
	}
	out, err := exec.Command(adb, "devices").Output()
	if err != nil {
		return adb, 0, fmt.Errorf("adb devices: %v", err)
	}
	return adb, countDevices(string(out)), nil
}

// countDevices counts the ready devices in the output of `adb devices`:
// lines "SERIAL\tdevice".
func countDevices(out string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "device" {
			n++
		}
	}
	return n
}

// ADBPush copies path with the adb program to AndroidStorage on the
// device and returns where it went there.
func ADBPush(adb, path string) (string, error) {
	dest := AndroidStorage + filepath.Base(path)
	cmd := exec.Command(adb, "push", path, dest)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return dest, fmt.Errorf("adb push %s %s: %v: %s", path, dest, err, excerpt.Cut(strings.TrimSpace(stderr.String()), 200))
	}
	return dest, nil
}
