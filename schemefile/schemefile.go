package schemefile

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"

	"github.com/orgauthz/orgauthz/edition"
	"go.yaml.in/yaml/v3"
)

// Parse reads a scheme file into a Spec. The file is YAML, or JSON if its
// name ends in .json: the same structure (JSON is YAML too), but a .json
// file is read as JSON, by encoding/json, and its syntax errors are said
// to be JSON's. Unknown fields, duplicate keys, values of the wrong type
// (a string must be one: quote 42 or true where a name is meant), merge
// keys (<<) and custom tags are errors; null is the same as an absent
// field. Every error is an *Error naming the file, line and column, and
// matches ErrInvalid.
//
// Parse checks the file's form, not the scheme: Build does both.
func Parse(name string, data []byte) (edition.Spec, error) {
	root, err := parse(name, data)
	if err != nil {
		return edition.Spec{}, err
	}
	f, err := decodeFile(name, root)
	if err != nil {
		return edition.Spec{}, err
	}
	return f.toSpec(), nil
}

// Build is Parse then edition.NewScheme, so that a file gets every
// validation a scheme written in Go gets. An error of NewScheme comes back
// as an *Error at the node of the file it is about (see Error), wrapping
// NewScheme's error.
func Build(name string, data []byte) (*edition.Scheme, error) {
	root, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	f, err := decodeFile(name, root)
	if err != nil {
		return nil, err
	}
	s, err := edition.NewScheme(f.toSpec())
	if err != nil {
		n := locate(root, err)
		return nil, &Error{File: name, Line: n.Line, Column: n.Column, Err: err}
	}
	return s, nil
}

// Load is Build of the file at path; errors name the file by path. An
// error reading the file is returned as it is (it does not match
// ErrInvalid).
func Load(path string) (*edition.Scheme, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Build(path, data)
}

// parse returns the root node of the file's one document.
func parse(name string, data []byte) (*yaml.Node, error) {
	if language(name) == "JSON" {
		return parseJSON(name, data)
	}
	doc, second, msg := parseYAML(data)
	switch {
	case msg != "":
		return nil, syntaxError(name, data, msg)
	case doc == nil || len(doc.Content) == 0:
		line, col := position(data, len(data))
		return nil, &Error{File: name, Line: line, Column: col, Err: errors.New("empty file: a scheme file holds a mapping of the scheme's fields")}
	case second != nil:
		return nil, &Error{File: name, Line: second.Line, Column: second.Column, Err: errors.New("a second YAML document: a scheme file holds one")}
	}
	return doc.Content[0], nil
}

func decodeFile(name string, root *yaml.Node) (*fileSpec, error) {
	var f fileSpec
	d := &decoder{file: name}
	if err := d.decode(root, reflect.ValueOf(&f).Elem(), ""); err != nil {
		return nil, err
	}
	return &f, nil
}

// Format is the form Marshal writes: YAML or JSON.
type Format int

// The formats.
const (
	// YAML writes block style, two spaces an indent; each role,
	// capability, edition, invariant and eligibility rule on a line of its
	// own; lists of capabilities one item a line, other short lists on
	// one line.
	YAML Format = iota
	// JSON writes the same structure, two spaces an indent, with what YAML
	// writes on one line on one line too.
	JSON
)

// String returns "YAML" or "JSON".
func (f Format) String() string {
	switch f {
	case YAML:
		return "YAML"
	case JSON:
		return "JSON"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Marshal writes spec in the file format f. It is deterministic: the same
// Spec gives the same bytes. Fields are written in the order of
// edition.Spec's, those of the zero value (an empty string, 0, false, a
// nil list or map) left out; an empty, non-nil list or map is written []
// or {}, so that Parse gives back nil and empty where spec had them
// (edition.Rule.Manage and Assign and edition.Eligibility.OrgRoles tell
// them apart). Mappings are written in a stable order: a matrix, the role
// gates, min_holders and implicit in the order of their roles (Spec.Roles,
// or the scope's roles), capability gates in the order of
// Spec.Capabilities; keys not among them (a spec NewScheme would refuse)
// follow, sorted.
//
// Marshal does not validate spec. It fails only for an unknown Format or a
// string that is not valid UTF-8.
func Marshal(spec edition.Spec, f Format) ([]byte, error) {
	if f != YAML && f != JSON {
		return nil, fmt.Errorf("schemefile: unknown format %v", f)
	}
	root, err := encode(reflect.ValueOf(toFile(spec)), false)
	if err != nil {
		return nil, err
	}
	if f == JSON {
		return writeJSON(root)
	}
	return writeYAML(root)
}

// The preset files are generated from the Go presets by a test.
//
//go:generate go test -run ^TestPresetFiles$ -update
//go:embed presets/*.yaml
var presetFiles embed.FS

// Presets holds the four presets of package edition as scheme files, named
// by their scheme's ID: "wherobots.yaml" (edition.Wherobots), "aiengine.yaml"
// (edition.AIEngine), "uipath.yaml" (edition.UiPath) and "soterai.yaml"
// (edition.SoterAI). Each builds a scheme equal to its Go preset on every
// decision; a host starts its own scheme from a copy of one:
//
//	data, _ := fs.ReadFile(schemefile.Presets, "wherobots.yaml")
//	s, err := schemefile.Build("wherobots.yaml", data)
var Presets fs.FS = sub(presetFiles, "presets")

func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// JSONSchema is the JSON Schema (draft 2020-12) of scheme files, for
// editors: a YAML file can name it in a "# yaml-language-server: $schema="
// comment, a JSON file in its "$schema" field. It checks the form of the
// file and the syntax of IDs; Build checks the rest. Treat it as read-only.
//
//go:embed scheme.schema.json
var JSONSchema []byte
