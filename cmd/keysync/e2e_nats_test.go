package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/keysync/keysync/channel/nats"
	"github.com/keysync/keysync/internal/natstest"
)

// The end-to-end scenarios again, with the agents on a NATS channel: a
// server of the test's process on loopback, and a three-node cluster with
// a node stopped mid-pairing.

var natsSubjects atomic.Int64

// onNATS points e at a new subject of the servers addrs.
func onNATS(e *e2e, addrs string) *e2e {
	e.ch = natstest.URL(addrs, fmt.Sprintf("keysync.e2e.s%d", natsSubjects.Add(1)))
	return e
}

func TestE2ENATS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	s := natstest.Start(t, nil)
	t.Run("PairJoinLeave", func(t *testing.T) { e2ePairJoinLeave(onNATS(newE2E(t), s.Addr())) })
	t.Run("Reject", func(t *testing.T) { e2eReject(onNATS(newE2E(t), s.Addr())) })
	t.Run("KillMidHandshake", func(t *testing.T) { e2eKillMidHandshake(onNATS(newE2E(t), s.Addr())) })
	t.Run("TrustSync", func(t *testing.T) { e2eTrustSync(onNATS(newE2E(t), s.Addr())) })
}

// TestE2ENATSServerLate starts two agents while their NATS server is
// down: they run, answer status, and pair once the server is up.
func TestE2ENATSServerLate(t *testing.T) {
	s := natstest.Start(t, nil)
	s.Stop()
	e := onNATS(newE2E(t), s.Addr())
	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	for _, d := range []*dev{a, b} {
		e.wait(d.name+"'s retry", func() bool { return strings.Contains(d.log.String(), "channel unavailable") })
		if st := d.status(); st.State != "Sole" || st.Outbox == 0 {
			t.Fatalf("%s before the server: state %s, outbox %d", d.name, st.State, st.Outbox)
		}
	}
	s.Start()
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	e.grouped(a, b)
}

// TestE2ENATSClusterNodeStopped pairs two devices on a three-node
// cluster, stops the node that leads the channel's stream once both show
// the handshake, and has them accept: the pairing completes, and a third
// device joins while the node is still down.
func TestE2ENATSClusterNodeStopped(t *testing.T) {
	cl := natstest.StartCluster(t, 3)
	e := onNATS(newE2E(t), cl.Addrs())
	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	e.handshake(a, b)

	leader := streamLeader(t, cl.Addrs(), e.ch)
	for _, n := range cl.Nodes {
		if n.Inner().Name() == leader {
			t.Logf("stopping %s, the stream's leader", leader)
			n.Stop()
		}
	}
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	k := e.grouped(a, b)

	c := e.device("c")
	c.start()
	e.handshake(c, a)
	c.do("handshake", "accept")
	a.do("handshake", "accept")
	if k3 := e.grouped(a, b, c); k3 != k {
		t.Fatalf("group key changed on join: %s, was %s", k3, k)
	}
}

// streamLeader returns the server that leads the stream of the channel
// URL u, on the servers addrs.
func streamLeader(t *testing.T, addrs, u string) string {
	t.Helper()
	a, err := nats.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsgo.Connect("nats://" + addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, nats.StreamName(a.Subject))
	if err != nil {
		t.Fatal(err)
	}
	if st.CachedInfo().Cluster == nil || st.CachedInfo().Cluster.Leader == "" {
		t.Fatal("the stream has no leader")
	}
	return st.CachedInfo().Cluster.Leader
}
