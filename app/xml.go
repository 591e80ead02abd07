package app

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
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
		if se.Msg == "unexpected EOF" {
			return fmt.Errorf("line %d: unexpected end of file", line)
		}
	}
	return fmt.Errorf("line %d: malformed XML (details not shown: the file holds passwords)", line)
}

// maxXMLDepth bounds the nesting of the apps' XML files (accounts.xml,
// contactlist.xml), which nest a few levels deep.
const maxXMLDepth = 256

// walkXML reads the XML document r token by token and calls visit with
// every token and the depth of the element it is in or starts (1: the
// root; an EndElement has its element's depth), and with a function that
// gives the line being read. It refuses nesting deeper than maxXMLDepth;
// its errors give the line, never the input.
func walkXML(r io.Reader, visit func(tok xml.Token, depth int, line func() int) error) error {
	d := xml.NewDecoder(r)
	line := func() int { l, _ := d.InputPos(); return l }
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil // the decoder reports an end inside an element
		}
		if err != nil {
			return xmlError(d, err)
		}
		at := depth
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return fmt.Errorf("line %d: elements nested more than %d deep", line(), maxXMLDepth)
			}
			at = depth
		case xml.EndElement:
			depth--
		}
		if err := visit(tok, at, line); err != nil {
			return err
		}
	}
}
