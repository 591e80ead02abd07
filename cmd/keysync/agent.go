package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/channel/imap"
	"github.com/keysync/keysync/channel/nats"
	"github.com/keysync/keysync/device"
)

// checkChannelURL reports, as a usage error, what makes the channel URL
// (and smtp, the --smtp URL) unusable whatever the servers say: the scheme
// picks the channel. dir:PATH is a folder shared by the processes of one
// machine; imap://USER@HOST:PORT/MAILBOX a mailbox (imap+insecure:// on
// loopback only; the password from the environment);
// nats://HOST:PORT[,HOST:PORT…]/SUBJECT (tls://… for TLS) a NATS JetStream
// subject, with credentials from the KEYSYNC_NATS_* variables.
func checkChannelURL(url, smtp string) error {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok || rest == "" {
		return usageErrorf("channel %q: want SCHEME:ADDRESS, such as dir:PATH", shownURL(url))
	}
	if smtp != "" && scheme != "imap" && scheme != "imap+insecure" {
		return usageErrorf("--smtp is for an imap:// channel, not %q", shownURL(url))
	}
	var err error
	switch scheme {
	case "dir":
	case "imap", "imap+insecure":
		err = imap.CheckURL(url, smtp)
	case "nats", "tls":
		_, err = nats.ParseURL(url)
	default:
		return usageErrorf("channel %q: unknown scheme %q (known: dir, imap, imap+insecure, nats, tls)", shownURL(url), scheme)
	}
	if err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// shownURL is a channel URL as an error may show it: without a password,
// query or fragment (where a user may have put a secret).
func shownURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(the URL)"
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return u.Redacted()
}

// openChannel opens the channel of a URL that checkChannelURL passed. smtp,
// for an imap channel only, is the submission server Send mails each
// message through to address, the own one, instead of APPENDing it.
func openChannel(url, smtp, address string, log *slog.Logger) (channel.Channel, error) {
	scheme, rest, _ := strings.Cut(url, ":")
	switch scheme {
	case "imap", "imap+insecure":
		return imap.Open(url, imap.Options{SMTP: smtp, Address: address, Log: log})
	case "nats", "tls":
		auth, err := nats.AuthFromEnv()
		if err != nil {
			return nil, err
		}
		return nats.Open(url, nats.Options{Auth: auth, Log: log})
	}
	return dir.Open(rest, dir.Options{Log: log})
}

// newAgentCmd returns `keysync agent`, which runs a device.
func newAgentCmd() *cobra.Command {
	var home, url, smtp string
	var syncs []string
	c := &cobra.Command{
		Use:   "agent --channel URL [--smtp URL] [--home DIR] [--sync APP[:DIR]]...",
		Short: "Run the device in the foreground on a channel",
		Long: "Run the device of the home folder on the channel URL (dir:PATH: a folder\n" +
			"shared by the processes of one machine; imap://USER@HOST:PORT/MAILBOX: a\n" +
			"mailbox, over TLS, with the password in the file named by\n" +
			"KEYSYNC_IMAP_PASSWORD_FILE or in KEYSYNC_IMAP_PASSWORD; imap+insecure:// for\n" +
			"a server on a loopback address; nats://HOST:PORT[,HOST:PORT...]/SUBJECT\n" +
			"or tls://...: a NATS JetStream subject, with credentials from the\n" +
			"KEYSYNC_NATS_* variables, never the command line), logging what it does to standard\n" +
			"error; never a secret. A server out of reach, at start or later, is tried\n" +
			"again with backoff (100 ms doubling to 10 s) while the agent runs; a server\n" +
			"that refuses the credentials or certificate ends it. It stops on SIGINT or\n" +
			"SIGTERM; killed at any moment, it goes on where it was when started again.\n" +
			"While it runs, status, handshake and group talk to it over its socket\n" +
			"(agent.sock in the home, mode 0600; only its user may connect).\n\n" +
			"With --smtp URL (imap channels only), the agent mails each message to the\n" +
			"home's own address through the submission server URL\n" +
			"(smtps://USER@HOST:PORT, smtp://... with STARTTLS, smtp+insecure://... on\n" +
			"a loopback address; USER defaults to the IMAP user, the password is the\n" +
			"IMAP one) instead of APPENDing it, and waits until the mail is in the\n" +
			"mailbox (normally INBOX).\n\n" +
			"With --sync, the device keeps those apps' trust in sync with its group\n" +
			"(trustsync): it reads them at start and when their files change, sends\n" +
			"what changed, and writes what the group holds into them as convert does\n" +
			"(lock, journal, backup, mode 0600). A row missing from an app's file is\n" +
			"not a deletion.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if url == "" {
				return usageErrorf("agent needs --channel")
			}
			stderr := c.ErrOrStderr()
			logf := func(s string) { fmt.Fprintf(stderr, "%s %s\n", time.Now().Format("15:04:05.000"), s) }
			if err := checkChannelURL(url, smtp); err != nil {
				return err
			}
			store, syncer, err := startTrustSync(syncs, logf)
			if err != nil {
				return err
			}
			d, err := device.Open(home, device.Options{Codec: newCodec(), Log: logf, Extension: store})
			if err != nil {
				return err
			}
			defer d.Close()
			open := func() (channel.Channel, error) {
				return openChannel(url, smtp, d.Status().Identities[0].Address, slog.New(slog.NewTextHandler(stderr, nil)))
			}
			ch, err := open()
			switch {
			case errors.Is(err, channel.ErrUnavailable):
				// The server is out of reach: run, and connect once it
				// is there (the agent tries again with backoff).
				logf(fmt.Sprintf("channel unavailable at start, trying again with backoff: %v", err))
				ch = channel.Lazy(open)
			case err != nil:
				return err
			}
			defer ch.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logf(fmt.Sprintf("agent for %s on %s", d.Status().Identities[0].Address, url))
			a := &agent.Agent{Dev: d, Ch: ch, Home: home, Log: logf}
			runTrustSync(ctx, syncer, d, a)
			err = a.Run(ctx)
			logf("agent stops")
			return err
		},
	}
	addHomeFlag(c, &home)
	c.Flags().StringVar(&url, "channel", "", "the channel: dir:PATH, imap://USER@HOST:PORT/MAILBOX or nats://HOST:PORT/SUBJECT")
	c.Flags().StringVar(&smtp, "smtp", "", "with an imap channel, mail each message through the submission server `URL` (smtps://, smtp:// with STARTTLS) to the own address instead of APPENDing it")
	c.Flags().StringArrayVar(&syncs, "sync", nil, "keep the trust store `APP[:DIR]` in sync with the group (repeatable)")
	return c
}
