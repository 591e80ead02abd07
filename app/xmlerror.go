package app

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
)

// xmlError replaces an error of decoder d by one giving only the line: the
// decoder's messages quote the input (an entity, a name, the declared
// version or encoding), and in accounts.xml that input may be part of a
// password. An error reading the file is returned as it is.
func xmlError(d *xml.Decoder, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	line, _ := d.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	return fmt.Errorf("line %d: malformed XML (details not shown: the file holds passwords)", line)
}
