package nats

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/channeltest"
	"github.com/keysync/keysync/internal/natstest"
)

// roundTrip sends a message on a new subject of the servers base
// (SCHEME://[USER@]HOST:PORT), with the URL options query, on a client
// with auth, and reads it back.
func roundTrip(t *testing.T, base, query string, auth Auth) error {
	t.Helper()
	c, err := Open(base+"/"+newSubject()+query, Options{Auth: auth, Log: quiet, OpenTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Send(ctx, channeltest.Message("auth", 0)); err != nil {
		return err
	}
	channeltest.ReadN(ctx, t, c, channel.Beginning, 1)
	return nil
}

func TestUserPassword(t *testing.T) {
	s := natstest.Start(t, func(o *server.Options) { o.Username, o.Password = "alice", "s3cret" })
	u := "nats://" + s.Addr()
	if err := roundTrip(t, u, "", Auth{User: "alice", Password: "s3cret"}); err != nil {
		t.Errorf("the right password: %v", err)
	}
	if err := roundTrip(t, strings.Replace(u, "nats://", "nats://alice@", 1), "", Auth{Password: "s3cret"}); err != nil {
		t.Errorf("the user in the URL: %v", err)
	}
	err := roundTrip(t, u, "", Auth{User: "alice", Password: "wrong-pw"})
	if err == nil || errors.Is(err, channel.ErrUnavailable) || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("a wrong password: %v, want a permanent error without the password", err)
	}
	if err := roundTrip(t, u, "", Auth{}); err == nil {
		t.Error("no password: no error")
	}
	if err := roundTrip(t, u, "", Auth{Password: "s3cret"}); err == nil || !strings.Contains(err.Error(), "without a user") {
		t.Errorf("a password without a user: %v", err)
	}
}

func TestToken(t *testing.T) {
	s := natstest.Start(t, func(o *server.Options) { o.Authorization = "tok-123" })
	u := "nats://" + s.Addr()
	if err := roundTrip(t, u, "", Auth{Token: "tok-123"}); err != nil {
		t.Errorf("the right token: %v", err)
	}
	if err := roundTrip(t, u, "", Auth{Token: "tok-456"}); err == nil {
		t.Error("a wrong token: no error")
	}
}

func TestNKey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	file := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	s := natstest.Start(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} })
	u := "nats://" + s.Addr()
	if err := roundTrip(t, u, "", Auth{NKeyFile: file}); err != nil {
		t.Errorf("the NKey: %v", err)
	}
	other, _ := nkeys.CreateUser()
	oseed, _ := other.Seed()
	if err := os.WriteFile(file, oseed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(t, u, "", Auth{NKeyFile: file}); err == nil {
		t.Error("another NKey: no error")
	}
	_, err = Open(u+"/keysync.x", Options{Auth: Auth{NKeyFile: filepath.Join(t.TempDir(), "none")}, Log: quiet})
	if err == nil || !strings.Contains(err.Error(), EnvNKeyFile) {
		t.Errorf("a missing seed file: %v", err)
	}
}

// writeCerts makes a CA and a certificate of 127.0.0.1 signed by it,
// and writes the CA's to a PEM file.
func writeCerts(t *testing.T) (server tls.Certificate, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "keysync test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

func TestTLS(t *testing.T) {
	cert, caFile := writeCerts(t)
	s := natstest.Start(t, func(o *server.Options) {
		o.TLS = true
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	if err := roundTrip(t, "tls://"+s.Addr(), "?ca="+caFile, Auth{}); err != nil {
		t.Errorf("tls:// with the CA: %v", err)
	}
	if err := roundTrip(t, "nats://"+s.Addr(), "?ca="+caFile, Auth{}); err != nil {
		t.Errorf("nats://…?ca= with the CA: %v", err)
	}
	err := roundTrip(t, "tls://"+s.Addr(), "", Auth{})
	if err == nil || errors.Is(err, channel.ErrUnavailable) {
		t.Errorf("tls:// without the CA: %v, want a permanent error", err)
	}
}

func TestMaxPayload(t *testing.T) {
	s := natstest.Start(t, func(o *server.Options) { o.MaxPayload = 256 << 10 })
	_, err := Open(natstest.URL(s.Addr(), newSubject()), Options{Log: quiet})
	if err == nil || !strings.Contains(err.Error(), "max_payload") {
		t.Errorf("a server with max_payload 256 KiB: %v", err)
	}
}

// TestCredsFile runs a server in operator mode (accounts and users as
// JWTs) and connects with a user's credentials file.
func TestCredsFile(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	useed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, useed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	s := natstest.Start(t, func(o *server.Options) {
		r := &server.MemAccResolver{}
		r.Store(apub, ajwt)
		r.Store(spub, sjwt)
		o.SystemAccount = spub
		o.TrustedOperators = []*jwt.OperatorClaims{oc}
		o.AccountResolver = r
	})
	u := "nats://" + s.Addr()
	if err := roundTrip(t, u, "", Auth{CredsFile: file}); err != nil {
		t.Errorf("the credentials file: %v", err)
	}
	if err := roundTrip(t, u, "", Auth{}); err == nil {
		t.Error("no credentials: no error")
	}
}
