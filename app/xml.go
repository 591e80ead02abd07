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

// walkXML reads the XML document r token by token and calls start for
// every element with its depth (1: the root). start may read the whole
// element with d.DecodeElement and then says so (consumed). It refuses
// nesting deeper than maxXMLDepth and a document that ends inside an
// element; its errors give the line, never the input.
func walkXML(r io.Reader, start func(d *xml.Decoder, t *xml.StartElement, depth int) (consumed bool, err error)) error {
	d := xml.NewDecoder(r)
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return errors.New("unexpected end of file")
			}
			return nil
		}
		if err != nil {
			return xmlError(d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				line, _ := d.InputPos()
				return fmt.Errorf("line %d: elements nested more than %d deep", line, maxXMLDepth)
			}
			consumed, err := start(d, &t, depth)
			if err != nil {
				return err
			}
			if consumed {
				depth--
			}
		case xml.EndElement:
			depth--
		}
	}
}
