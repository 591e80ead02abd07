package trustsync

import (
	"errors"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/device"
)

// OpResolve is the agent control-socket op that settles a key conflict;
// its arguments are ACCOUNT (protocol:address) and FINGERPRINT.
const OpResolve = "trust-resolve"

// ResolveHome settles account's key conflict for the device in home, as
// `keysync trust resolve` does: through the running agent (op OpResolve),
// or, when no agent runs, queued in the store with Resolve, to be sent
// when the agent starts. opts opens the store (its Extension is set to a
// Store here).
func ResolveHome(home string, opts device.Options, account keysync.Account, fpr string) error {
	_, err := agent.Call(home, agent.Request{Op: OpResolve, Args: []string{account.String(), fpr}})
	if !errors.Is(err, agent.ErrNotRunning) {
		return err
	}
	opts.Extension = &Store{}
	d, err := device.Open(home, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	return Resolve(d, account, fpr)
}
