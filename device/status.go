package device

import (
	"encoding/json"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/fsm"
)

// Status is what a device shows: its state, identity, group and any
// pending handshake. Its JSON form is stable; scripts read it.
type Status struct {
	State      string     `json:"state"` // the machine's state; "" before the first start
	Running    bool       `json:"running"`
	Identities []Identity `json:"identities"`
	DeviceKey  string     `json:"device_key"`
	Group      Group      `json:"group"`
	Handshake  *Handshake `json:"handshake,omitempty"`
	Keys       []KeyInfo  `json:"keys"`                  // every key the device holds
	Last       string     `json:"last_signal,omitempty"` // the latest notification
	Position   string     `json:"position"`
	Outbox     int        `json:"outbox"` // messages not yet sent
	// Trust is the trustsync status (the Extension's, when it is a
	// StatusReporter): replica size, apps and conflicts.
	Trust json.RawMessage `json:"trust,omitempty"`
}

// Identity is an own identity with its default key.
type Identity struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	Fpr     string `json:"fpr"`
}

// KeyInfo describes a key the device holds; never its secret.
type KeyInfo struct {
	Fpr     string `json:"fpr"`
	Secret  bool   `json:"secret"`  // the device holds its secret key
	Own     bool   `json:"own"`     // trusted as an own key
	Revoked bool   `json:"revoked"` // revoked or replaced
}

// Group is what the device knows of its device group.
type Group struct {
	Grouped bool     `json:"grouped"`
	Keys    []string `json:"keys"`    // the group's keys
	Members []string `json:"members"` // device keys of the members
}

// Handshake is a handshake waiting for the user: the two keys whose
// trustwords the user compares. Trustwords are filled in by the caller,
// who picks the language.
type Handshake struct {
	Kind           string `json:"kind"` // form-group, join-group or add-device
	Own            string `json:"own"`
	Partner        string `json:"partner"`
	Accepted       bool   `json:"accepted"` // this device's user accepted already
	Lang           string `json:"lang,omitempty"`
	Trustwords     string `json:"trustwords,omitempty"`
	TrustwordsFull string `json:"trustwords_full,omitempty"`
}

// Status returns the device's status.
func (d *Device) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.keys
	s := Status{State: d.mach.State(), Running: d.mach.Running(), DeviceKey: k.Device, Position: d.st.Position,
		Outbox:     len(d.st.Outbox),
		Identities: []Identity{{Address: k.Address, Name: k.Name, Fpr: k.Default}},
		Group:      Group{Grouped: k.Grouped, Keys: k.GroupKeys(), Members: k.MemberKeys()}}
	s.Keys = []KeyInfo{}
	for _, f := range k.sorted() {
		r := k.Keys[f]
		s.Keys = append(s.Keys, KeyInfo{Fpr: f, Secret: r.Secret != "", Own: r.Own, Revoked: r.Revoked})
	}
	if s.Group.Keys == nil {
		s.Group.Keys = []string{}
	}
	if s.Group.Members == nil {
		s.Group.Members = []string{}
	}
	if n := len(d.st.Signals); n > 0 {
		s.Last = SignalName(d.st.Signals[n-1].Signal)
	}
	if r, ok := d.ext.(StatusReporter); ok {
		if err := d.db.View(func(tx *bolt.Tx) (err error) { s.Trust, err = r.Status(tx); return err }); err != nil {
			d.logf("trust status: %v", err)
		}
	}
	if kind, accepted, ok := handshakeOf(s.State); ok && d.core.Partner.SenderFpr != "" {
		s.Handshake = &Handshake{Kind: kind, Own: k.Default, Partner: d.core.Partner.SenderFpr, Accepted: accepted}
	}
	return s
}

// handshakeOf tells whether a state shows a handshake dialog, of what kind,
// and whether the own user accepted already.
func handshakeOf(state string) (kind string, accepted, ok bool) {
	if !strings.HasPrefix(state, "Handshaking") {
		return "", false, false
	}
	switch {
	case strings.Contains(state, "ToJoin"):
		kind = "join-group"
	case strings.Contains(state, "Grouped"):
		kind = "add-device"
	default:
		kind = "form-group"
	}
	accepted = strings.Contains(state, "Phase1")
	return kind, accepted, true
}

// SignalName names a notification of doc/protocol.md §15.2.
func SignalName(s fsm.Signal) string {
	switch s {
	case fsm.SignalInitAddOurDevice:
		return "init-add-our-device"
	case fsm.SignalInitAddOtherDevice:
		return "init-add-other-device"
	case fsm.SignalInitFormGroup:
		return "init-form-group"
	case fsm.SignalTimeout:
		return "timeout"
	case fsm.SignalAcceptedDeviceAdded:
		return "accepted-device-added"
	case fsm.SignalAcceptedGroupCreated:
		return "accepted-group-created"
	case fsm.SignalAcceptedDeviceAccepted:
		return "accepted-device-accepted"
	case fsm.SignalSole:
		return "sole"
	case fsm.SignalInGroup:
		return "in-group"
	}
	return "signal-" + strconv.Itoa(int(s))
}
