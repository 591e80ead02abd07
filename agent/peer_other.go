//go:build !linux

package agent

import "net"

// checkPeer relies on the socket's mode and its home's: elsewhere than on
// Linux the peer's credentials are not read.
func checkPeer(net.Conn) error { return nil }
