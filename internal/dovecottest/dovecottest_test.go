package dovecottest

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
)

// greeting connects to s and returns the server's first line.
func greeting(t *testing.T, s *Server) string {
	t.Helper()
	var c net.Conn
	var err error
	if s.TLS != nil {
		c, err = tls.Dial("tcp", s.Addr, s.TLS)
	} else {
		c, err = net.Dial("tcp", s.Addr)
	}
	if err != nil {
		t.Fatalf("%v%s", err, s.Logs())
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// TestServer starts Dovecot plain and with TLS, restarts it on the same
// port, and checks that Stop leaves no process of it behind.
func TestServer(t *testing.T) {
	for _, o := range []Options{{}, {TLS: true}, {NoIdle: true}} {
		s := Start(t, o)
		if g := greeting(t, s); !strings.HasPrefix(g, "* OK ") || !strings.Contains(g, "Dovecot") {
			t.Errorf("greeting %q", g)
		}
		s.Restart()
		if g := greeting(t, s); !strings.HasPrefix(g, "* OK ") {
			t.Errorf("greeting after a restart %q", g)
		}
		pgid := s.lastPid
		s.Stop()
		if left := running(pgid); len(left) > 0 {
			t.Errorf("processes %v of dovecot's group %d left after Stop", left, pgid)
		}
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Stop", s.Addr)
		}
	}
}
