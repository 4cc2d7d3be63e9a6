package schemefile

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxVisits bounds the nodes a decode visits, aliases expanded, so that a
// small file of nested aliases cannot make it run for ever.
const maxVisits = 1 << 20

// decoder decodes a YAML node tree into the file types, strictly: unknown
// fields, duplicate keys, wrong types, custom tags and merge keys are
// errors at the node concerned.
type decoder struct {
	file   string
	visits int
}

var (
	mappingType  = reflect.TypeFor[interface{ isMapping() }]()
	durationType = reflect.TypeFor[duration]()
)

// fail returns the error at node n.
func (d *decoder) fail(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Column: n.Column, Err: fmt.Errorf(format, args...)}
}

// resolve follows n if it is an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// decode decodes n into v; path names n in messages ("" for the root).
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if d.visits++; d.visits > maxVisits {
		return d.fail(n, "too many nodes (aliases expand to more than %d)", maxVisits)
	}
	at := n
	n = resolve(n)
	if tag := n.Tag; tag != "" && !strings.HasPrefix(tag, "!!") && !strings.HasPrefix(tag, "tag:yaml.org,2002:") {
		return d.fail(at, "%s: tag %s is not supported", describe(path), tag)
	}
	if isNull(n) { // null is absent: the zero value
		v.SetZero()
		return nil
	}
	t := v.Type()
	switch {
	case t.Implements(mappingType):
		return d.mapping(at, n, v, path)
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return d.wrongType(at, n, path, `a duration ("720h")`)
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			return d.fail(at, "%s: %q is not a duration: write it as Go does, e.g. 720h or 1h30m", describe(path), n.Value)
		}
		v.SetInt(int64(dur))
		return nil
	case t.Kind() == reflect.Struct:
		return d.structure(at, n, v, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.wrongType(at, n, path, "a list")
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
			return d.wrongType(at, n, path, "a string")
		}
		v.SetString(n.Value)
		return nil
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return d.wrongType(at, n, path, "an integer")
		}
		var i int
		if err := n.Decode(&i); err != nil {
			return d.fail(at, "%s: %s is not an integer Go can hold", describe(path), n.Value)
		}
		v.SetInt(int64(i))
		return nil
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return d.wrongType(at, n, path, "true or false")
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return d.wrongType(at, n, path, "true or false")
		}
		v.SetBool(b)
		return nil
	}
	panic("schemefile: no decoding for " + t.String())
}

// describe names path in a message: the field, or "top level".
func describe(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// wrongType reports that n is not what path wants.
func (d *decoder) wrongType(at, n *yaml.Node, path, want string) error {
	got := ""
	switch n.Kind {
	case yaml.MappingNode:
		got = "a mapping"
	case yaml.SequenceNode:
		got = "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			got = "the string " + strconv.Quote(n.Value)
		case "!!int":
			got = "the integer " + n.Value
		case "!!float":
			got = "the number " + n.Value
		case "!!bool":
			got = n.Value
		default:
			got = fmt.Sprintf("%s (%s)", n.Value, n.ShortTag())
		}
		if want == "a string" {
			got += " (quote it to make it a string)"
		}
	default:
		got = "a document"
	}
	return d.fail(at, "%s: want %s, got %s", describe(path), want, got)
}

// keys checks that n is a mapping whose keys are distinct strings, and
// returns its key and value nodes, in order.
func (d *decoder) keys(at, n *yaml.Node, path string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.wrongType(at, n, path, "a mapping")
	}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || rk.ShortTag() != "!!str" && rk.ShortTag() != "!!merge" {
			return nil, d.fail(k, "%s: a key must be a string", describe(path))
		}
		if rk.ShortTag() == "!!merge" {
			return nil, d.fail(k, "%s: merge keys (<<) are not supported", describe(path))
		}
		if first, dup := seen[rk.Value]; dup {
			return nil, d.fail(k, "%s: duplicate key %q (first at line %d, column %d)", describe(path), rk.Value, first.Line, first.Column)
		}
		seen[rk.Value] = k
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

// structure decodes a mapping into a struct of the file types.
func (d *decoder) structure(at, n *yaml.Node, v reflect.Value, path string) error {
	kvs, err := d.keys(at, n, path)
	if err != nil {
		return err
	}
	t := v.Type()
	for _, kv := range kvs {
		key := resolve(kv[0]).Value
		i, ok := fieldIndex(t, key)
		if !ok {
			msg := fmt.Sprintf("%s: unknown field %q", describe(path), key)
			if s := suggest(key, fieldNames(t)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(fieldNames(t), ", ") + ")"
			}
			return d.fail(kv[0], "%s", msg)
		}
		if err := d.decode(kv[1], v.Field(i), join(path, key)); err != nil {
			return err
		}
	}
	return nil
}

// mapping decodes a mapping into a mapping[V], keeping the file's order.
func (d *decoder) mapping(at, n *yaml.Node, v reflect.Value, path string) error {
	kvs, err := d.keys(at, n, path)
	if err != nil {
		return err
	}
	s := reflect.MakeSlice(v.Type(), len(kvs), len(kvs))
	for i, kv := range kvs {
		key := resolve(kv[0]).Value
		e := s.Index(i)
		e.Field(0).SetString(key)
		if err := d.decode(kv[1], e.Field(1), join(path, key)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// tagName returns the field's name in the file and its options: "flow"
// (written in flow style), "always" (written even when zero).
func tagName(f reflect.StructField) (name, opt string) {
	name, opt, _ = strings.Cut(f.Tag.Get("yaml"), ",")
	return name, opt
}

func fieldIndex(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if name, _ := tagName(t.Field(i)); name == key {
			return i, true
		}
	}
	return 0, false
}

// fieldNames lists the fields of t a file may hold, but for $schema.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name, _ := tagName(t.Field(i)); name != "$schema" {
			names = append(names, name)
		}
	}
	return names
}

// suggest returns the name closest to key, if it is close (a typo).
func suggest(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := distance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
