package app

import (
	"encoding/xml"
	"errors"
	"fmt"
)

// xmlSyntaxError replaces a syntax error of encoding/xml by one giving only
// its line: the decoder's message quotes the input (an entity, a name),
// and in accounts.xml that input may be part of a password. Other errors
// are returned as they are.
func xmlSyntaxError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: malformed XML (details not shown: the file holds passwords)", se.Line)
	}
	return err
}
