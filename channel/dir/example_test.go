package dir_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/keysync/keysync/channel"
	"github.com/keysync/keysync/channel/dir"
)

// A device's loop: receive after the stored position, handle each
// message, and store its position with what handling it changed.
func Example() {
	folder, err := os.MkdirTemp("", "keysync-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(folder)
	var c channel.Channel
	c, err = dir.Open(folder, dir.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, m := range []string{"Beacon", "NegotiationRequest"} {
		if err := c.Send(ctx, []byte(m)); err != nil {
			log.Fatal(err)
		}
	}
	stored := channel.Beginning // in the device: read from its store
	for handled := 0; handled < 2; {
		msgs, err := c.Receive(ctx, stored)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range msgs {
			fmt.Printf("%s\n", m.Data)
			stored = m.Pos // in the device: stored in the same transaction
			handled++
		}
	}
	// Output:
	// Beacon
	// NegotiationRequest
}
