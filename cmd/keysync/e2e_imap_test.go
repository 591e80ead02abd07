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

// TestE2EIMAPSMTPPair: two agents with --smtp pair, every message mailed
// through the submission server to the homes' own address and read back
// from the mailbox it delivers into.
func TestE2EIMAPSMTPPair(t *testing.T) {
	e := newE2E(t)
	s := dovecottest.Start(t, dovecottest.Options{})
	pw := filepath.Join(e.root, "password")
	if err := os.WriteFile(pw, []byte(dovecottest.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSYNC_IMAP_PASSWORD_FILE", pw)
	e.ch = fmt.Sprintf("imap+insecure://%s@%s/INBOX", dovecottest.User, s.Addr)
	m := dovecottest.StartSubmission(t, s, "INBOX")
	e.smtp = "smtp+insecure://" + m.Addr

	a, b := e.device("a"), e.device("b")
	a.start()
	b.start()
	e.handshake(a, b)
	a.do("handshake", "accept")
	b.do("handshake", "accept")
	e.grouped(a, b)

	if err := m.Err(); err != nil {
		t.Fatalf("delivery: %v", err)
	}
	rcpt := m.Recipients()
	if len(rcpt) == 0 {
		t.Fatal("no mail went through the submission server")
	}
	for _, r := range rcpt {
		if r != e2eAddress {
			t.Errorf("mail went to %q, want the homes' own address %s", r, e2eAddress)
		}
	}
}

func TestE2EIMAPTrustSync(t *testing.T) { e2eTrustSync(newIMAPE2E(t)) }
