package schemefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseJSON reads a JSON file into the node tree a YAML parser would give,
// positions included, with encoding/json: JSON is YAML, but a YAML parser
// refuses some JSON (a character escaped as a UTF-16 surrogate pair) and
// reports a syntax error's line only.
func parseJSON(name string, data []byte) (*yaml.Node, error) {
	// Unmarshal checks the syntax first, with exact offsets.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		off := len(data)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset) - 1 // Offset is after the offending byte
		}
		line, col := position(data, off)
		return nil, &Error{File: name, Line: line, Column: col, Err: fmt.Errorf("JSON syntax error: %v", err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &jsonParser{data: data, dec: dec}
	root, err := p.value()
	if err != nil { // valid JSON, so never
		return nil, &Error{File: name, Line: 1, Column: 1, Err: fmt.Errorf("JSON: %v", err)}
	}
	return root, nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

// start returns the offset where the next token starts.
func (p *jsonParser) start() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return off
}

func (p *jsonParser) node(kind yaml.Kind, tag, value string) *yaml.Node {
	line, col := position(p.data, p.start())
	return &yaml.Node{Kind: kind, Tag: tag, Value: value, Line: line, Column: col}
}

// value reads one value and returns its node.
func (p *jsonParser) value() (*yaml.Node, error) {
	n := p.node(yaml.ScalarNode, "", "")
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		n.Kind, n.Tag, n.Style = yaml.SequenceNode, "!!seq", yaml.FlowStyle
		if tok == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for p.dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := p.value()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k)
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.Tag, n.Value = "!!str", tok
	case json.Number:
		n.Tag, n.Value = "!!float", tok.String()
		if !strings.ContainsAny(n.Value, ".eE") {
			n.Tag = "!!int"
		}
	case bool:
		n.Tag, n.Value = "!!bool", fmt.Sprint(tok)
	case nil:
		n.Tag, n.Value = "!!null", "null"
	}
	return n, nil
}
