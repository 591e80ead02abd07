package nats

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Address is a parsed channel URL:
// nats://[USER@]HOST:PORT[,HOST:PORT…]/SUBJECT[?OPTIONS], or tls://… for
// TLS to every server.
type Address struct {
	// Servers are the HOST:PORT of each server, in the URL's order.
	Servers []string
	// Subject is the subject the channel's messages are published on.
	Subject string
	// User is the user name of the URL, if it has one.
	User string
	// TLS: connect with TLS (tls:// or ?tls=true, implied by ca, cert
	// and key).
	TLS bool
	// CAFile, CertFile, KeyFile: the PEM files of ?ca=, ?cert= and ?key=
	// (the authorities that sign the servers' certificates; a client
	// certificate and its key).
	CAFile, CertFile, KeyFile string
	// Replicas is ?replicas=N, the replicas of a stream this client
	// creates; 0 means 3 on a cluster of three servers or more, else
	// the number of servers of the cluster, and 1 on a single server.
	Replicas int
	// MaxAge is ?max_age=DURATION (such as 720h), how long a stream this
	// client creates keeps a message; 0 means for ever.
	MaxAge time.Duration
}

// ParseURL parses a NATS channel URL. A password in the URL is refused:
// credentials come from the environment or files (AuthFromEnv).
func ParseURL(s string) (Address, error) {
	var a Address
	shown := redact(s)
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		return a, fmt.Errorf("nats channel %q: want nats://HOST:PORT[,HOST:PORT…]/SUBJECT", shown)
	case scheme == "tls":
		a.TLS = true
	case scheme != "nats":
		return a, fmt.Errorf("nats channel: scheme %q, want nats or tls", scheme)
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, subject, ok := strings.Cut(rest, "/")
	if !ok || subject == "" {
		return a, fmt.Errorf("nats channel %q: no /SUBJECT after the servers", shown)
	}
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		user := hosts[:at]
		hosts = hosts[at+1:]
		if strings.Contains(user, ":") {
			// Never echo the URL here: its user part holds a password.
			return a, errors.New("nats channel: a password in the URL; give it in KEYSYNC_NATS_PASSWORD_FILE or KEYSYNC_NATS_PASSWORD")
		}
		if user == "" {
			return a, fmt.Errorf("nats channel %q: an empty user before @", shown)
		}
		a.User = user
	}
	for h := range strings.SplitSeq(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return a, fmt.Errorf("nats channel %q: server %q: want HOST:PORT", shown, h)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return a, fmt.Errorf("nats channel %q: server %q: bad port", shown, h)
		}
		a.Servers = append(a.Servers, net.JoinHostPort(host, port))
	}
	if err := checkSubject(subject); err != nil {
		return a, fmt.Errorf("nats channel %q: %v", shown, err)
	}
	a.Subject = subject
	if query == "" {
		return a, nil
	}
	for kv := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "tls":
			a.TLS, err = strconv.ParseBool(v)
		case "ca":
			a.CAFile, a.TLS = v, true
		case "cert":
			a.CertFile, a.TLS = v, true
		case "key":
			a.KeyFile, a.TLS = v, true
		case "replicas":
			a.Replicas, err = strconv.Atoi(v)
			if err == nil && (a.Replicas < 1 || a.Replicas > 5) {
				err = errors.New("want 1 to 5")
			}
		case "max_age":
			a.MaxAge, err = time.ParseDuration(v)
			if err == nil && a.MaxAge < 0 {
				err = errors.New("negative")
			}
		default:
			return a, fmt.Errorf("nats channel %q: unknown option %q (known: tls, ca, cert, key, replicas, max_age)", shown, k)
		}
		if err == nil && v == "" {
			err = errors.New("empty")
		}
		if err != nil {
			return a, fmt.Errorf("nats channel %q: option %s=%q: %v", shown, k, v, err)
		}
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return a, fmt.Errorf("nats channel %q: cert and key go together", shown)
	}
	return a, nil
}

// redact cuts the user part out of a URL for an error message: it may
// hold a password.
func redact(s string) string {
	if q := strings.IndexAny(s, "?#"); q >= 0 {
		s = s[:q] // the options may hold a secret too
	}
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	return s[:start] + "…@" + s[at+1:]
}

// checkSubject accepts a subject without wildcards: dot-separated tokens
// of printable characters other than space.
func checkSubject(s string) error {
	if len(s) > 255 {
		return fmt.Errorf("subject longer than 255 bytes")
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return fmt.Errorf("subject %q has an empty token", s)
		}
		if tok == "*" || tok == ">" {
			return fmt.Errorf("subject %q has a wildcard", s)
		}
		for _, r := range tok {
			if r <= ' ' || r == 0x7f {
				return fmt.Errorf("subject %q has a space or control character", s)
			}
		}
	}
	return nil
}

// Auth is how a client proves who it is: at most one of user and
// password, a token, an NKey seed file or a credentials file (a JWT and
// its NKey seed, as the nsc tool writes them).
type Auth struct {
	User, Password string
	Token          string
	NKeyFile       string
	CredsFile      string
}

// The environment variables AuthFromEnv reads.
const (
	EnvUser         = "KEYSYNC_NATS_USER"
	EnvPassword     = "KEYSYNC_NATS_PASSWORD"
	EnvPasswordFile = "KEYSYNC_NATS_PASSWORD_FILE"
	EnvToken        = "KEYSYNC_NATS_TOKEN"
	EnvTokenFile    = "KEYSYNC_NATS_TOKEN_FILE"
	EnvNKeyFile     = "KEYSYNC_NATS_NKEY_FILE"
	EnvCreds        = "KEYSYNC_NATS_CREDS"
)

// AuthFromEnv reads the credentials from the environment: the user from
// KEYSYNC_NATS_USER, the password from KEYSYNC_NATS_PASSWORD or the file
// KEYSYNC_NATS_PASSWORD_FILE names, the token from KEYSYNC_NATS_TOKEN or
// the file KEYSYNC_NATS_TOKEN_FILE names, the NKey seed file from
// KEYSYNC_NATS_NKEY_FILE and the credentials file from KEYSYNC_NATS_CREDS.
// None set is no authentication. Errors never hold a secret. A password
// may come without a user here if the URL names the user.
func AuthFromEnv() (Auth, error) {
	var a Auth
	var err error
	a.User = os.Getenv(EnvUser)
	if a.Password, err = secret(EnvPassword, EnvPasswordFile); err != nil {
		return a, err
	}
	if a.Token, err = secret(EnvToken, EnvTokenFile); err != nil {
		return a, err
	}
	a.NKeyFile = os.Getenv(EnvNKeyFile)
	a.CredsFile = os.Getenv(EnvCreds)
	return a, a.check()
}

// check refuses credentials of two kinds at once.
func (a Auth) check() error {
	var kinds []string
	if a.User != "" || a.Password != "" {
		kinds = append(kinds, "user and password")
	}
	if a.Token != "" {
		kinds = append(kinds, "token")
	}
	if a.NKeyFile != "" {
		kinds = append(kinds, "NKey")
	}
	if a.CredsFile != "" {
		kinds = append(kinds, "credentials file")
	}
	if len(kinds) > 1 {
		return fmt.Errorf("nats channel: credentials of two kinds given (%s): give one", strings.Join(kinds, ", "))
	}
	return nil
}

// maxSecret bounds a password or token file.
const maxSecret = 64 << 10

// secret returns the value of the variable env, or the content of the
// file that the variable fileEnv names, less a final line end.
func secret(env, fileEnv string) (string, error) {
	v, name := os.Getenv(env), os.Getenv(fileEnv)
	if name == "" {
		return v, nil
	}
	if v != "" {
		return "", fmt.Errorf("nats channel: both %s and %s are set: give one", env, fileEnv)
	}
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("nats channel: %s: %w", fileEnv, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
	if err != nil {
		return "", fmt.Errorf("nats channel: %s: reading %s: %w", fileEnv, name, err)
	}
	if len(b) > maxSecret {
		return "", fmt.Errorf("nats channel: %s: %s is larger than %d bytes", fileEnv, name, maxSecret)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("nats channel: %s: %s is empty", fileEnv, name)
	}
	return s, nil
}
