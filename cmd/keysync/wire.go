package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keysync/keysync/wire"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// maxWireInput bounds what `keysync wire` reads from stdin.
const maxWireInput = 1 << 20

// newWireCmd returns `keysync wire`, which converts KeySync payloads between
// UPER (the wire bytes) and XER (the text form asn1c prints).
func newWireCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wire",
		Short: "Decode and encode KeySync wire messages (UPER and XER)",
		Long: "Convert the payload of application/pEp.sync (--pdu sync) or\n" +
			"application/pEp.distribution (--pdu distribution) between its wire form,\n" +
			"ASN.1 unaligned PER, and XER text as asn1c's converter prints it.\n" +
			"Both Identity variants are understood: decode tries the current one (with\n" +
			"flags), then the older one; encode writes the variant its input uses.",
	}
	var pdu string
	var useHex bool
	cmd.PersistentFlags().StringVar(&pdu, "pdu", "sync", "PDU type: sync or distribution")
	cmd.PersistentFlags().BoolVar(&useHex, "hex", false, "UPER bytes as hex text instead of binary")
	cmd.AddCommand(&cobra.Command{
		Use:   "decode",
		Short: "Read UPER bytes on stdin, print XER",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkPDU(pdu); err != nil {
				return err
			}
			in, err := readInput(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if useHex {
				if in, err = hex.DecodeString(strings.Join(strings.Fields(string(in)), "")); err != nil {
					return fmt.Errorf("decode: input is not hex: %w", err)
				}
			}
			out, err := decodeWire(pdu, in)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}, &cobra.Command{
		Use:   "encode",
		Short: "Read XER on stdin, write UPER bytes (to a terminal only with --hex)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkPDU(pdu); err != nil {
				return err
			}
			if !useHex && isTerminal(cmd.OutOrStdout()) {
				return errors.New("encode: refusing to write binary to a terminal: redirect the output or use --hex")
			}
			in, err := readInput(cmd.InOrStdin())
			if err != nil {
				return err
			}
			out, err := encodeWire(pdu, in)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			if useHex {
				out = []byte(hex.EncodeToString(out) + "\n")
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	})
	return cmd
}

// pdus are the values of --pdu.
var pdus = []string{"sync", "distribution"}

// checkPDU returns a usage error unless pdu is one of pdus.
func checkPDU(pdu string) error {
	for _, p := range pdus {
		if pdu == p {
			return nil
		}
	}
	return unknownWord("--pdu", pdu, pdus)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func readInput(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxWireInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxWireInput {
		return nil, errors.New("input larger than 1 MiB")
	}
	return b, nil
}

// decodeWire decodes UPER in the variant that consumes the whole input and
// prints it as XER in that variant.
func decodeWire(pdu string, b []byte) ([]byte, error) {
	switch pdu {
	case "sync":
		m, variant, err := wire.UnmarshalSync(b)
		if err != nil {
			return nil, err
		}
		return variant.MarshalSyncXER(m)
	case "distribution":
		m, variant, err := wire.UnmarshalDistribution(b)
		if err != nil {
			return nil, err
		}
		return variant.MarshalDistributionXER(m)
	}
	return nil, fmt.Errorf("unknown --pdu %q (want sync or distribution)", pdu)
}

// encodeWire parses XER and encodes it in the variant the text uses.
func encodeWire(pdu string, b []byte) ([]byte, error) {
	switch pdu {
	case "sync":
		m, variant, err := wire.UnmarshalSyncXER(b)
		if err != nil {
			return nil, err
		}
		return variant.MarshalSync(m)
	case "distribution":
		m, variant, err := wire.UnmarshalDistributionXER(b)
		if err != nil {
			return nil, err
		}
		return variant.MarshalDistribution(m)
	}
	return nil, fmt.Errorf("unknown --pdu %q (want sync or distribution)", pdu)
}
