package schemefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// flowWidth is the longest list of strings written on one line, in
// characters of its items. A list holding a capability ID (or any string
// with a colon) is written one item a line, as YAML would quote it in a
// list on one line: each capability of a matrix row on a line of its own,
// unquoted, which diffs well.
const flowWidth = 64

// encode returns the node of v, a value of the file types; flow writes a
// struct, or each struct of a list, in flow style. Zero fields of structs
// are left out (see omit) unless tagged "always"; nil values inside lists
// and mappings are null.
func encode(v reflect.Value, flow bool) (*yaml.Node, error) {
	t := v.Type()
	switch {
	case t.Implements(mappingType):
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			e := v.Index(i)
			k, err := scalar("!!str", e.Field(0).String())
			if err != nil {
				return nil, err
			}
			val, err := encode(e.Field(1), false)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, k, val)
		}
		return n, nil
	case t.Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if flow {
			n.Style = yaml.FlowStyle
		}
		for i := range t.NumField() {
			name, opt := tagName(t.Field(i))
			f := v.Field(i)
			if name == "$schema" || opt != "always" && omit(f) {
				continue
			}
			val, err := encode(f, opt == "flow")
			if err != nil {
				return nil, err
			}
			k, _ := scalar("!!str", name)
			n.Content = append(n.Content, k, val)
		}
		return n, nil
	case t.Kind() == reflect.Slice:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		width := 0
		for i := range v.Len() {
			item, err := encode(v.Index(i), flow)
			if err != nil {
				return nil, err
			}
			if item.Kind == yaml.ScalarNode && !strings.Contains(item.Value, ":") {
				width += utf8.RuneCountInString(item.Value) + 2
			} else {
				width = flowWidth + 1
			}
			n.Content = append(n.Content, item)
		}
		if width <= flowWidth {
			n.Style = yaml.FlowStyle
		}
		return n, nil
	case t == durationType:
		return scalar("!!str", duration(v.Int()).String())
	case t.Kind() == reflect.String:
		return scalar("!!str", v.String())
	case t.Kind() == reflect.Int:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case t.Kind() == reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool()))
	}
	panic("schemefile: no encoding for " + t.String())
}

func scalar(tag, value string) (*yaml.Node, error) {
	if !utf8.ValidString(value) {
		return nil, fmt.Errorf("schemefile: %q is not valid UTF-8", value)
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	if value == "<<" { // else a merge key
		n.Style = yaml.DoubleQuotedStyle
	}
	return n, nil
}

// omit reports whether a struct field is left out of the file: an empty
// string, 0, false, a nil list or mapping, a struct of such fields.
func omit(v reflect.Value) bool {
	if v.Kind() == reflect.Struct {
		for i := range v.NumField() {
			if !omit(v.Field(i)) {
				return false
			}
		}
		return true
	}
	if v.Kind() == reflect.Slice {
		return v.IsNil()
	}
	return v.IsZero()
}

// writeYAML writes the document of root.
func writeYAML(root *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJSON writes root as JSON, two spaces an indent; what YAML writes in
// flow style is on one line.
func writeJSON(root *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	if err := jsonNode(&b, root, "", false); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func jsonNode(b *bytes.Buffer, n *yaml.Node, indent string, inline bool) error {
	inline = inline || n.Style == yaml.FlowStyle || len(n.Content) == 0
	open, close := byte('['), byte(']')
	step := 1
	if n.Kind == yaml.MappingNode {
		open, close, step = '{', '}', 2
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			var s bytes.Buffer
			enc := json.NewEncoder(&s)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(n.Value); err != nil {
				return err
			}
			b.Write(bytes.TrimSuffix(s.Bytes(), []byte("\n")))
		default: // !!int, !!bool, !!null: the same text in JSON
			b.WriteString(n.Value)
		}
		return nil
	case yaml.MappingNode, yaml.SequenceNode:
		b.WriteByte(open)
		inner := indent + "  "
		for i := 0; i < len(n.Content); i += step {
			if i > 0 {
				b.WriteByte(',')
				if inline {
					b.WriteByte(' ')
				}
			}
			if !inline {
				b.WriteString("\n" + inner)
			}
			if step == 2 {
				if err := jsonNode(b, n.Content[i], inner, true); err != nil {
					return err
				}
				b.WriteString(": ")
			}
			if err := jsonNode(b, n.Content[i+step-1], inner, inline); err != nil {
				return err
			}
		}
		if !inline && len(n.Content) > 0 {
			b.WriteString("\n" + indent)
		}
		b.WriteByte(close)
		return nil
	}
	return fmt.Errorf("schemefile: no JSON for node kind %v", n.Kind)
}
