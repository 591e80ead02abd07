package app

import "testing"

func TestCountDevices(t *testing.T) {
	out := "* daemon started successfully\nList of devices attached\n0123\tdevice\nemulator-5554\toffline\nabcd\tunauthorized\nefgh\tdevice\n\n"
	if n := countDevices(out); n != 2 {
		t.Errorf("%d devices, want 2", n)
	}
	if n := countDevices("List of devices attached\n\n"); n != 0 {
		t.Errorf("%d devices, want 0", n)
	}
}
