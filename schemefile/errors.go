package schemefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid is matched (errors.Is) by every error of a file that is not a
// valid scheme: every *Error.
var ErrInvalid = errors.New("invalid scheme file")

// Error is a problem in a scheme file, at a place in it. Line and Column
// count from 1; Column counts characters.
//
// Err says what is wrong. For a scheme that edition.NewScheme refuses it is
// NewScheme's error, so errors.Is matches edition.ErrInvalidScheme and the
// sentinels NewScheme's error matches (role.ErrUnknownRole,
// edition.ErrUnknownEdition, ...); the place is then the file's node that
// best matches the fault: the one holding the offending ID, or else the
// field or section at fault.
//
// The YAML parser reports a syntax error's line only, and not always the
// line of the fault: the place of a YAML syntax error is where the file,
// read from the top, first fails to parse that way, which for a bracket
// or quote left open is just after it opens.
type Error struct {
	File         string
	Line, Column int
	Err          error
}

// Error returns "file:line:col: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalid, which every Error matches.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// language returns "JSON" for a file named *.json, else "YAML".
func language(name string) string {
	if strings.EqualFold(pathExt(name), ".json") {
		return "JSON"
	}
	return "YAML"
}

func pathExt(name string) string {
	i := strings.LastIndexAny(name, "./\\")
	if i < 0 || name[i] != '.' {
		return ""
	}
	return name[i:]
}

// position returns the line and column (from 1, in characters) of byte
// offset off of data.
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	for off > 0 && off < len(data) && !utf8.RuneStart(data[off]) {
		off--
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// parseYAML parses data, which must hold one YAML document, into its root
// node. It returns the parser's message on a syntax error ("" otherwise)
// and the node of a second document if there is one.
func parseYAML(data []byte) (root, second *yaml.Node, msg string) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil, ""
		}
		return nil, nil, yamlMessage(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, nil, yamlMessage(err)
	default:
		second = &next
	}
	return &doc, second, ""
}

// yamlMessage strips "yaml: " and "line N: " from a parser error.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 && strings.Trim(rest[:i], "0123456789") == "" {
			msg = rest[i+2:]
		}
	}
	return msg
}

// syntaxOffset finds where in data the YAML parser fails with msg. The
// parser reports a line only, and often the line of the enclosing block
// rather than of the fault, so this looks for the shortest prefix of data
// that fails with the same message: its last character is where the parser
// could not go on.
func syntaxOffset(data []byte, msg string) int {
	fails := func(p int) bool {
		_, _, m := parseYAML(data[:p])
		return m == msg
	}
	p := sort.Search(len(data), func(p int) bool { return fails(p + 1) })
	return min(p, len(data))
}

// syntaxError returns the error of a file that does not parse as YAML.
func syntaxError(name string, data []byte, msg string) error {
	line, col := position(data, syntaxOffset(data, msg))
	return &Error{File: name, Line: line, Column: col, Err: fmt.Errorf("%s syntax error: %s", language(name), msg)}
}
