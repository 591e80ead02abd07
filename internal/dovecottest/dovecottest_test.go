package dovecottest

import (
	"net"
	"bufio"
	"testing"
	"crypto/tls"
)

func TestStartsAndGreets(t *testing.T) {
	for _, o := range []Options{{}, {TLS: true}} {
		s := Start(t, o)
		var c net.Conn
		var err error
		if o.TLS {
			c, err = tls.Dial("tcp", s.Addr, s.TLS)
		} else {
			c, err = net.Dial("tcp", s.Addr)
		}
		if err != nil {
			t.Fatal(err, s.Logs())
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		t.Logf("%q %v", line, err)
		c.Close()
		s.Restart()
		s.Stop()
	}
}
