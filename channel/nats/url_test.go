package nats

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		url  string
		want Address
	}{
		{"nats://127.0.0.1:4222/keysync.alice", Address{Servers: []string{"127.0.0.1:4222"}, Subject: "keysync.alice"}},
		{"nats://a:1,b:2,[::1]:3/s", Address{Servers: []string{"a:1", "b:2", "[::1]:3"}, Subject: "s"}},
		{"tls://bob@h:4222/x.y", Address{Servers: []string{"h:4222"}, Subject: "x.y", User: "bob", TLS: true}},
		{"nats://h:1/s?ca=/etc/ca.pem&replicas=3&max_age=720h", Address{Servers: []string{"h:1"}, Subject: "s", TLS: true, CAFile: "/etc/ca.pem", Replicas: 3, MaxAge: 720 * time.Hour}},
		{"nats://h:1/s?tls=true&cert=c.pem&key=k.pem", Address{Servers: []string{"h:1"}, Subject: "s", TLS: true, CertFile: "c.pem", KeyFile: "k.pem"}},
	}
	for _, g := range good {
		a, err := ParseURL(g.url)
		if err != nil {
			t.Errorf("%s: %v", g.url, err)
		} else if !reflect.DeepEqual(a, g.want) {
			t.Errorf("%s: %+v, want %+v", g.url, a, g.want)
		}
	}
	bad := map[string]string{
		"dir:/tmp/x":                             "want nats://",
		"http://h:1/s":                           "scheme",
		"nats://h:1":                             "no /SUBJECT",
		"nats://h:1/":                            "no /SUBJECT",
		"nats://h/s":                             "HOST:PORT",
		"nats://h:0/s":                           "bad port",
		"nats://h:99999/s":                       "bad port",
		"nats://h:1,/s":                          "HOST:PORT",
		"nats://h:1/a..b":                        "empty token",
		"nats://h:1/a.*":                         "wildcard",
		"nats://h:1/a.>":                         "wildcard",
		"nats://h:1/a b":                         "space",
		"nats://h:1/s?replicas=9":                "replicas",
		"nats://h:1/s?replicas=":                 "replicas",
		"nats://h:1/s?max_age=-1h":               "max_age",
		"nats://h:1/s?cert=c.pem":                "cert and key",
		"nats://h:1/s?password=x":                "unknown option",
		"nats://@h:1/s":                          "empty user",
		"nats://bob:hunter2@h:1/s":               "a password in the URL",
		"nats:/bob:hunter2@h:1/s":                "want nats://",
		"nats://bob:hunter2@h/s":                 "a password in the URL",
		"nats://bob:hunter2@h:1?x/s":             "no /SUBJECT",
		"nats://h:1/" + strings.Repeat("a", 256): "longer than 255",
	}
	for u, want := range bad {
		_, err := ParseURL(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", u, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", u, err)
		}
	}
}

func TestStreamName(t *testing.T) {
	a, b := StreamName("keysync.alice"), StreamName("keysync_alice")
	if a == b || !strings.HasPrefix(a, "KEYSYNC_keysync_alice_") || len(a) != len("KEYSYNC_keysync_alice_")+8 {
		t.Errorf("stream names %q and %q", a, b)
	}
	if n := StreamName(strings.Repeat("ü.", 100)); len(n) > 64 || strings.ContainsAny(n, ". *>") {
		t.Errorf("stream name %q", n)
	}
}

func TestAuthFromEnv(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret-pw\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	all := []string{EnvUser, EnvPassword, EnvPasswordFile, EnvToken, EnvTokenFile, EnvNKeyFile, EnvCreds}
	cases := []struct {
		env  map[string]string
		want Auth
		err  string
	}{
		{env: nil, want: Auth{}},
		{env: map[string]string{EnvUser: "alice", EnvPasswordFile: pw}, want: Auth{User: "alice", Password: "s3cret-pw"}},
		{env: map[string]string{EnvUser: "alice", EnvPassword: "pw2"}, want: Auth{User: "alice", Password: "pw2"}},
		{env: map[string]string{EnvTokenFile: pw}, want: Auth{Token: "s3cret-pw"}},
		{env: map[string]string{EnvNKeyFile: "/k.nk"}, want: Auth{NKeyFile: "/k.nk"}},
		{env: map[string]string{EnvCreds: "/u.creds"}, want: Auth{CredsFile: "/u.creds"}},
		{env: map[string]string{EnvPassword: "x", EnvPasswordFile: pw}, err: "both"},
		{env: map[string]string{EnvUser: "a", EnvPassword: "x", EnvToken: "t"}, err: "two kinds"},
		{env: map[string]string{EnvPassword: "x"}, want: Auth{Password: "x"}},
		{env: map[string]string{EnvTokenFile: filepath.Join(dir, "missing")}, err: EnvTokenFile},
		{env: map[string]string{EnvTokenFile: empty}, err: "is empty"},
	}
	for _, c := range cases {
		for _, k := range all {
			t.Setenv(k, c.env[k])
		}
		a, err := AuthFromEnv()
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: %v, want an error saying %q", c.env, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.env, err)
		case c.err == "" && a != c.want:
			t.Errorf("%v: %+v, want %+v", c.env, a, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw2")) {
			t.Errorf("%v: the error shows a secret: %v", c.env, err)
		}
	}
}
