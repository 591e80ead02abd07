package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keysync/keysync/internal/dovecottest"
)

// newIMAPE2E is newE2E with the devices' channel a mailbox on a real
// Dovecot on loopback; the agents read the password from the file
// KEYSYNC_IMAP_PASSWORD_FILE names.
func newIMAPE2E(t *testing.T) *e2e {
	e := newE2E(t)
	s := dovecottest.Start(t, dovecottest.Options{})
	pw := filepath.Join(e.root, "password")
	if err := os.WriteFile(pw, []byte(dovecottest.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", pw)
	e.ch = fmt.Sprintf("imap+insecure://%s@%s/keysync", dovecottest.User, s.Addr)
	return e
}

func TestE2EIMAPPairJoinLeave(t *testing.T)    { e2ePairJoinLeave(newIMAPE2E(t)) }
func TestE2EIMAPReject(t *testing.T)           { e2eReject(newIMAPE2E(t)) }
func TestE2EIMAPKillMidHandshake(t *testing.T) { e2eKillMidHandshake(newIMAPE2E(t)) }
func TestE2EIMAPTrustSync(t *testing.T)        { e2eTrustSync(newIMAPE2E(t)) }
