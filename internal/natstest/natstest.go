// Package natstest runs NATS servers with JetStream in the test's
// process, on loopback ports, with their stores in the test's temporary
// folders: a single server and a cluster of several. Tests only.
package natstest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one NATS server with JetStream. Its port and store stay the
// same across Stop and Start.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// Addr returns the server's HOST:PORT for clients.
func (s *Server) Addr() string {
	return fmt.Sprintf("127.0.0.1:%d", s.opts.Port)
}

// Running reports whether the server runs.
func (s *Server) Running() bool { return s.srv != nil }

// Inner returns the running server, or nil.
func (s *Server) Inner() *server.Server { return s.srv }

// Start starts the server (again, after Stop), with its store as it was.
func (s *Server) Start() {
	s.t.Helper()
	if s.srv != nil {
		return
	}
	o := s.opts
	srv, err := server.NewServer(&o)
	if err != nil {
		s.t.Fatalf("nats server %s: %v", o.ServerName, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		srv.Shutdown()
		s.t.Fatalf("nats server %s: not ready in 20s", o.ServerName)
	}
	s.srv = srv
}

// Stop shuts the server down and waits for it; a stopped server stays
// stopped.
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
}

// freePort returns a loopback TCP port that was free just now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func baseOptions(t testing.TB, name string) server.Options {
	return server.Options{
		ServerName:             name,
		Host:                   "127.0.0.1",
		Port:                   freePort(t),
		JetStream:              true,
		StoreDir:               t.TempDir(),
		JetStreamMaxStore:      1 << 30,
		NoLog:                  true,
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}
}

// Start runs one server with JetStream; conf, if not nil, changes its
// options first (authentication, TLS, max_payload). t.Cleanup stops it.
func Start(t testing.TB, conf func(*server.Options)) *Server {
	t.Helper()
	s := &Server{t: t, opts: baseOptions(t, "single")}
	if conf != nil {
		conf(&s.opts)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Cluster is a cluster of JetStream servers, routed to one another.
type Cluster struct {
	Nodes []*Server
}

// StartCluster runs a cluster of n servers and waits until JetStream
// has a leader that every server follows. t.Cleanup stops them.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{}
	routes := make([]string, n)
	opts := make([]server.Options, n)
	for i := range n {
		opts[i] = baseOptions(t, fmt.Sprintf("n%d", i+1))
		opts[i].Cluster = server.ClusterOpts{Name: "keysync-test", Host: "127.0.0.1", Port: freePort(t)}
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", opts[i].Cluster.Port)
	}
	for i := range n {
		opts[i].Routes = server.RoutesFromStr(strings.Join(routes, ","))
		c.Nodes = append(c.Nodes, &Server{t: t, opts: opts[i]})
	}
	t.Cleanup(func() {
		for _, s := range c.Nodes {
			s.Stop()
		}
	})
	// Start them together: a server waits for the others' routes.
	errc := make(chan error, n)
	for _, s := range c.Nodes {
		go func() {
			o := s.opts
			srv, err := server.NewServer(&o)
			if err == nil {
				srv.Start()
				s.srv = srv
				if !srv.ReadyForConnections(30 * time.Second) {
					err = fmt.Errorf("nats server %s: not ready in 30s", o.ServerName)
				}
			}
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	c.WaitReady()
	return c
}

// WaitReady waits until JetStream has a meta leader that every running
// server follows and that sees every running server online (so that
// streams can be placed on all of them).
func (c *Cluster) WaitReady() {
	t := c.Nodes[0].t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		leader, current, running := false, true, 0
		for _, s := range c.Nodes {
			if s.srv != nil {
				running++
			}
		}
		for _, s := range c.Nodes {
			if s.srv == nil {
				continue
			}
			if s.srv.JetStreamIsLeader() {
				leader = len(s.srv.JetStreamClusterPeers()) == running
			}
			current = current && s.srv.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("nats cluster: no JetStream leader in 30s")
}

// Addrs returns the HOST:PORT of every server, comma-separated, as a
// channel URL lists them.
func (c *Cluster) Addrs() string {
	var a []string
	for _, s := range c.Nodes {
		a = append(a, s.Addr())
	}
	return strings.Join(a, ",")
}

// URL returns the nats:// URL of a subject on the given servers' HOST:PORT.
func URL(addrs, subject string) string {
	return "nats://" + addrs + "/" + subject
}
