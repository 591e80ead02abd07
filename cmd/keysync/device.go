package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keysync/keysync/device"
)

// defaultHome is where a device lives without --home: keysync/device in
// the user's XDG data folder ($XDG_DATA_HOME, else ~/.local/share).
func defaultHome() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" || !filepath.IsAbs(base) {
		h, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(".keysync", "device")
		}
		base = filepath.Join(h, ".local", "share")
	}
	return filepath.Join(base, "keysync", "device")
}

func addHomeFlag(c *cobra.Command, home *string) {
	c.Flags().StringVar(home, "home", defaultHome(), "the device's home folder (made mode 0700)")
}

// newInitCmd returns `keysync init`, which creates a device.
func newInitCmd() *cobra.Command {
	var home, address, name string
	c := &cobra.Command{
		Use:   "init --address ADDR [--home DIR] [--name NAME]",
		Short: "Create a device with its own identity and keys",
		Long: "Create a KeySync device in the home folder: its store (device.db, mode\n" +
			"0600 in a 0700 folder), its own identity ADDR with a new OpenPGP key on\n" +
			"Curve25519, and a device key that never leaves it. Every device of one\n" +
			"user gets the same address: it is the channel they sync on.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(address) == "" {
				return usageErrorf("init needs --address")
			}
			// A device already there, or a device.db that is not one, is
			// an error (exit 1), not a usage error: the command line is right.
			if err := device.Create(home, address, name, newCodec()); err != nil {
				return err
			}
			d, err := device.Open(home, device.Options{Codec: newCodec()})
			if err != nil {
				return err
			}
			defer d.Close()
			s := d.Status()
			fmt.Fprintf(c.OutOrStdout(), "created device in %s\nidentity %s key %s\ndevice key %s\n", home,
				s.Identities[0].Address, s.Identities[0].Fpr, s.DeviceKey)
			return nil
		},
	}
	addHomeFlag(c, &home)
	c.Flags().StringVar(&address, "address", "", "the own address (the same on all devices of the user)")
	c.Flags().StringVar(&name, "name", "", "a display name for the identity")
	return c
}

// newCodec returns the OpenPGP codec real devices use.
func newCodec() device.Codec { return &device.PGP{} }
