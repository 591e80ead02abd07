package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"time"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/webui"
	"github.com/spf13/cobra"
)

// newUICmd returns `keysync ui`, which serves the web page on loopback.
func newUICmd() *cobra.Command {
	var home, listen string
	var froms []string
	var noBrowser bool
	c := &cobra.Command{
		Use:   "ui [--home DIR] [--listen ADDR] [--no-browser] [--from APP[:DIR]]...",
		Short: "Serve keysync's page in the browser: apps, identities, phone, devices",
		Long: "Serve a local web page with what the command line does for apps and\n" +
			"devices: the apps found (as apps shows), the merged identities with\n" +
			"their conflicts (settled with a preview, as sync --prefer), the export\n" +
			"to ChatSecure with its password as a QR code, and the device of --home\n" +
			"with its group, a pending handshake's trustwords and its trust\n" +
			"replica's apps and key conflicts (settled with a preview, as trust\n" +
			"resolve), live. The page\n" +
			"is served on a loopback address only (--listen, default 127.0.0.1 on a\n" +
			"free port) and answers only the link printed, which holds a fresh\n" +
			"access token; the browser opens it unless --no-browser. The stores\n" +
			"are the --from ones, else every store apps finds. Ctrl-C stops it.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := webui.CheckListen(listen); err != nil {
				return usageErrorf("%v", err)
			}
			var stores []app.Location
			if len(froms) > 0 {
				var err error
				if stores, err = parseLocations("from", froms); err != nil {
					return err
				}
			}
			phoneDir, err := os.Getwd()
			if err != nil {
				return err
			}
			ln, err := webui.Listen(listen)
			if err != nil {
				return err
			}
			srv, err := webui.New(webui.Config{Stores: stores, PhoneDir: phoneDir, Home: home, Codec: newCodec()}, ln.Addr())
			if err != nil {
				ln.Close()
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "keysync ui: open %s\n(the link holds this run's access token; Ctrl-C stops keysync ui)\n", srv.URL())
			if !noBrowser {
				openBrowser(srv.URL())
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt)
			defer stop()
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				hs.Shutdown(shut)
			}()
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	addHomeFlag(c, &home)
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address and port to serve on")
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "print the link only; do not open a browser")
	c.Flags().StringArrayVar(&froms, "from", nil, "store to show, as APP or APP:DIR (repeatable; default: every store found)")
	return c
}

// openBrowser opens url in the user's browser, ignoring failure: the link
// is printed all the same.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}
