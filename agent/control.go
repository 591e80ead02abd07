package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/keysync/keysync/device"
)

// SocketFile is the name of the control socket in the device's home.
const SocketFile = "agent.sock"

// Request is one command over the control socket.
type Request struct {
	Op   string `json:"op"`             // status, accept, reject, cancel, leave
	Lang string `json:"lang,omitempty"` // trustwords language of status
	// Args are the arguments of an op in Agent.Ops.
	Args []string `json:"args,omitempty"`
}

// Response answers a Request.
type Response struct {
	Error  string         `json:"error,omitempty"`
	Status *device.Status `json:"status,omitempty"`
}

// ErrNotRunning is returned by Call when no agent listens in the home.
var ErrNotRunning = errors.New("no agent runs for this device")

// Listen makes the control socket of home: mode 0600, in a home only its
// owner can open. A socket left by an agent that died is replaced.
func Listen(home string) (net.Listener, error) {
	fi, err := os.Stat(home)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %o: the home folder must be open to its owner only", home, fi.Mode().Perm())
	}
	path := filepath.Join(home, SocketFile)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: an agent runs already", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// serve answers connections until ctx is done.
func (a *Agent) serve(ctx context.Context, ln net.Listener) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go a.answer(c)
	}
}

// answer handles one connection: one request, one response.
func (a *Agent) answer(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := checkPeer(c); err != nil {
		a.logf("control socket: refused a connection: %v", err)
		return
	}
	var req Request
	if err := json.NewDecoder(io.LimitReader(c, 4096)).Decode(&req); err != nil {
		json.NewEncoder(c).Encode(Response{Error: "bad request: " + err.Error()})
		return
	}
	json.NewEncoder(c).Encode(a.handle(req))
}

// handle carries out a request.
func (a *Agent) handle(req Request) Response {
	var event string
	switch req.Op {
	case "status":
		s, err := Describe(a.Dev.Status(), req.Lang)
		if err != nil {
			return Response{Error: err.Error()}
		}
		return Response{Status: &s}
	case "accept":
		event = "Accept"
	case "reject":
		event = "Reject"
	case "cancel":
		event = "Cancel"
	case "leave":
		event = "LeaveDeviceGroup"
	default:
		op, ok := a.Ops[req.Op]
		if !ok {
			return Response{Error: fmt.Sprintf("unknown op %q", req.Op)}
		}
		if err := op(req.Args); err != nil {
			return Response{Error: err.Error()}
		}
		a.wake()
		s := a.Dev.Status()
		return Response{Status: &s}
	}
	if event == "Accept" && a.Dev.Status().Handshake == nil {
		return Response{Error: "no handshake is pending"}
	}
	if err := a.Dev.User(event); err != nil {
		return Response{Error: err.Error()}
	}
	a.wake()
	s := a.Dev.Status()
	return Response{Status: &s}
}

// Call sends req to the agent of home and returns its answer. It returns
// ErrNotRunning when no agent listens there.
func Call(home string, req Request) (Response, error) {
	path := filepath.Join(home, SocketFile)
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w", home, ErrNotRunning)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, err
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(c, 1<<20)).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("agent answer: %w", err)
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// Status returns the status of the device in home with the trustwords of a
// pending handshake in lang: from its running agent, or, when none runs,
// read from the store (opened with codec).
func Status(home, lang string, opts device.Options) (device.Status, error) {
	resp, err := Call(home, Request{Op: "status", Lang: lang})
	if err == nil {
		return *resp.Status, nil
	}
	if !errors.Is(err, ErrNotRunning) {
		return device.Status{}, err
	}
	d, err := device.Open(home, opts)
	if err != nil {
		return device.Status{}, err
	}
	defer d.Close()
	return Describe(d.Status(), lang)
}
