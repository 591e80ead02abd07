package fsm

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/peer"
	"github.com/keysync/keysync/wire"
)

// The states of doc/protocol.md §4 in the order of §8, with keysync's timeouts (D5).
var wantStates = []struct {
	name    string
	timeout int
}{
	{"InitState", 0}, {"Sole", 0}, {"HandshakingOfferer", 120}, {"HandshakingRequester", 120},
	{"HandshakingPhase1Offerer", 300}, {"HandshakingPhase1Requester", 300}, {"HandshakingPhase2Offerer", 300},
	{"FormingGroupOfferer", 300}, {"FormingGroupRequester", 300}, {"Grouped", 0},
	{"GroupKeyResetElection", 300}, {"HandshakingToJoin", 300}, {"HandshakingToJoinPhase1", 300},
	{"HandshakingToJoinPhase2", 300}, {"JoiningGroup", 300}, {"HandshakingGrouped", 300},
	{"HandshakingGroupedPhase1", 300},
}

func TestModelStatesAndTimeouts(t *testing.T) {
	ks := Embedded().KeySync()
	if ks == nil || ks.ID != 1 || ks.Version != (wire.Version{Major: 1, Minor: 2}) {
		t.Fatalf("KeySync fsm = %+v", ks)
	}
	if len(ks.States) != len(wantStates) {
		t.Fatalf("%d states, want %d", len(ks.States), len(wantStates))
	}
	for i, w := range wantStates {
		s := ks.States[i]
		if s.Name != w.name || s.Timeout != w.timeout {
			t.Errorf("state %d = %s timeout %d, want %s timeout %d", i, s.Name, s.Timeout, w.name, w.timeout)
		}
	}
	for _, name := range []string{"TrustSync", "GroupSync"} {
		f := Embedded().FSM(name)
		if f == nil {
			t.Fatalf("no %s fsm", name)
		}
		for _, s := range f.States {
			if len(s.Handlers) != 0 {
				t.Errorf("%s.%s has handlers", name, s.Name)
			}
		}
	}
}

func TestModelMessagesMatchWire(t *testing.T) {
	ks := Embedded().KeySync()
	if len(ks.Messages) != 21 {
		t.Fatalf("%d messages, want 21 (IDs 2..22)", len(ks.Messages))
	}
	want := map[string]struct {
		sec       Security
		broadcast bool
		rate      int
	}{
		"Beacon":                {Unencrypted, true, 20},
		"SynchronizeGroupKeys":  {Trusted, false, 60},
		"OwnKeysRequester":      {AttachOwnKeysForNewMember, false, 0},
		"GroupKeysAndClose":     {AttachOwnKeysForGroup, false, 0},
		"CommitAcceptRequester": {Untrusted, false, 0},
		"GroupHandshake":        {Trusted, false, 0},
	}
	for name, w := range want {
		m := ks.Message(name)
		if m.Security != w.sec || m.Broadcast != w.broadcast || m.RateLimit != w.rate {
			t.Errorf("%s = %+v, want %+v", name, *m, w)
		}
	}
	for _, e := range []string{"Accept", "Reject", "Cancel", "KeyGen", "CannotDecrypt", "LeaveDeviceGroup"} {
		if _, ok := Embedded().External(e); !ok {
			t.Errorf("external %s missing", e)
		}
	}
}

func TestRowsNestedIfs(t *testing.T) {
	var got []string
	for _, r := range Embedded().KeySync().Rows() {
		if r.State == "HandshakingGrouped" && r.Event == "GroupTrustThisKey" {
			got = append(got, r.String())
		}
	}
	want := []string{
		"HandshakingGrouped\tGroupTrustThisKey\tfromGroupMember,sameNegotiation\tdo trustThisKey\tGrouped",
		"HandshakingGrouped\tGroupTrustThisKey\tfromGroupMember,!sameNegotiation\tdo trustThisKey\t-",
		"HandshakingGrouped\tGroupTrustThisKey\t!fromGroupMember\t-\t-",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRowsStatementsAfterIf(t *testing.T) {
	p, err := Parse(`protocol P 1
fsm F 1 {
	message Beacon 2
	state InitState {
		on Init {
			if deviceGrouped {
				go Sole
			}
			do useOwnChallenge
			if sameChallenge {
				send Beacon
			}
		}
	}
	state Sole {
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.FSMs[0].Rows() {
		got = append(got, r.String())
	}
	want := "InitState\tInit\tdeviceGrouped\t-\tSole\n" +
		"InitState\tInit\t!deviceGrouped,sameChallenge\tdo useOwnChallenge,send Beacon\t-\n" +
		"InitState\tInit\t!deviceGrouped,!sameChallenge\tdo useOwnChallenge\t-"
	if strings.Join(got, "\n") != want {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestParseRejectsBadModels(t *testing.T) {
	base := "protocol P 1\nexternal Accept 129\nfsm F 1 threshold=300 {\n message Beacon 2\n state InitState timeout=off {\n%s\n }\n state Sole {\n }\n}\n"
	for name, body := range map[string]string{
		"unknown state":      "on Init { go Nowhere }",
		"unknown action":     "on Init { do fly }",
		"unknown condition":  "on Init { if maybe { go Sole } }",
		"unknown message":    "on Init { send Postcard }",
		"unknown event":      "on Teleport { go Sole }",
		"code after go":      "on Init { go Sole\n do useOwnChallenge }",
		"missing brace":      "on Init { if sameChallenge { go Sole }",
		"duplicate handler":  "on Init { }\n on Init { }",
		"bad statement":      "on Init { jump Sole }",
		"bad timeout option": "on Init { }\n }\n state X timeout=soon {",
	} {
		if _, err := Parse(strings.Replace(base, "%s", body, 1)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for name, src := range map[string]string{
		"empty":           "",
		"wrong kind id":   "protocol P 1\nfsm F 1 {\n message Beacon 3\n state InitState {\n }\n}\n",
		"unknown message": "protocol P 1\nfsm F 1 {\n message Postcard 2\n state InitState {\n }\n}\n",
		"low external":    "protocol P 1\nexternal Accept 12\n",
		"first state":     "protocol P 1\nfsm F 1 {\n state Sole {\n }\n}\n",
		"bad security":    "protocol P 1\nfsm F 1 {\n message Beacon 2 security=secret\n state InitState {\n }\n}\n",
		"unterminated":    "protocol P 1\nfsm F 1 {\n state InitState {\n",
	} {
		if _, err := Parse(src); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	m := Embedded()
	c := m.Clone()
	s := c.KeySync().State("FormingGroupOfferer")
	h := s.Handler("Rollback")
	h.Body[0].If.Cond = "sameChallenge"
	for i := range s.Handlers {
		if s.Handlers[i] == h {
			s.Handlers[i] = NewHandler("Rollback", h.Body)
		}
	}
	orig := m.KeySync().State("FormingGroupOfferer").Handler("Rollback")
	if orig.Body[0].If.Cond != "sameNegotiation" || !orig.TestsNegotiation {
		t.Fatal("mutating a clone changed Model")
	}
	if s.Handler("Rollback").TestsNegotiation {
		t.Fatal("mutation did not take")
	}
	m.KeySync().State("Sole").Timeout = 99
	if Embedded().KeySync().State("Sole").Timeout != 0 {
		t.Fatal("Embedded returned a model another caller changed")
	}
}

// TestDotRenders runs graphviz on the DOT output.
func TestDotRenders(t *testing.T) {
	dot := peer.Need(t, "dot")
	var src strings.Builder
	if err := Embedded().KeySync().WriteDot(&src); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dot, "-Tsvg")
	cmd.Stdin = strings.NewReader(src.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dot -Tsvg: %v\n%s", err, out)
	}
	svg := string(out)
	if !strings.Contains(svg, "<svg") || !strings.Contains(svg, "HandshakingGroupedPhase1") || !strings.Contains(svg, "CommitAcceptRequester") {
		t.Errorf("svg lacks states or event labels:\n%.300s", svg)
	}
}
