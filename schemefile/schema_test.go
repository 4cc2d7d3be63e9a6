package schemefile

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgauthz/orgauthz/edition"
	"go.yaml.in/yaml/v3"
)

// validator checks a value (as encoding/json or yaml.v3 decode into any)
// against a JSON Schema, for the keywords scheme.schema.json uses. A
// keyword it does not know is a test failure, so that the schema cannot
// grow past what is checked here.
type validator struct {
	root map[string]any
	errs []string
}

var annotations = map[string]bool{"$schema": true, "$id": true, "$defs": true, "title": true, "description": true}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) ref(ref string) map[string]any {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	defs, _ := v.root["$defs"].(map[string]any)
	s, _ := defs[name].(map[string]any)
	if !ok || s == nil {
		panic("unresolved $ref " + ref)
	}
	return s
}

func typeOf(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int:
		return "integer"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func number(x any) float64 {
	switch x := x.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func (v *validator) validate(s map[string]any, x any, path string) {
	for kw, arg := range s {
		switch kw {
		case "$ref":
			v.validate(v.ref(arg.(string)), x, path)
		case "type":
			var types []string
			switch a := arg.(type) {
			case string:
				types = []string{a}
			case []any:
				for _, t := range a {
					types = append(types, t.(string))
				}
			}
			if got := typeOf(x); !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
				v.fail(path, "is %s, want %v", got, types)
			}
		case "properties":
			if obj, ok := x.(map[string]any); ok {
				for name, sub := range arg.(map[string]any) {
					if val, ok := obj[name]; ok {
						v.validate(sub.(map[string]any), val, path+"."+name)
					}
				}
			}
		case "required":
			if obj, ok := x.(map[string]any); ok {
				for _, name := range arg.([]any) {
					if _, ok := obj[name.(string)]; !ok {
						v.fail(path, "lacks required %q", name)
					}
				}
			}
		case "additionalProperties":
			obj, ok := x.(map[string]any)
			if !ok {
				continue
			}
			props, _ := s["properties"].(map[string]any)
			for name, val := range obj {
				if _, known := props[name]; known {
					continue
				}
				switch a := arg.(type) {
				case bool:
					if !a {
						v.fail(path, "has unknown property %q", name)
					}
				case map[string]any:
					v.validate(a, val, path+"."+name)
				}
			}
		case "propertyNames":
			if obj, ok := x.(map[string]any); ok {
				for name := range obj {
					v.validate(arg.(map[string]any), name, path+"["+name+"]")
				}
			}
		case "items":
			if arr, ok := x.([]any); ok {
				for i, it := range arr {
					v.validate(arg.(map[string]any), it, fmt.Sprintf("%s[%d]", path, i))
				}
			}
		case "minItems", "maxItems":
			if arr, ok := x.([]any); ok {
				n := int(number(arg))
				if kw == "minItems" && len(arr) < n || kw == "maxItems" && len(arr) > n {
					v.fail(path, "has %d items, %s %d", len(arr), kw, n)
				}
			}
		case "pattern":
			if str, ok := x.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
				v.fail(path, "%q does not match %s", str, arg)
			}
		case "maxLength":
			if str, ok := x.(string); ok && utf8.RuneCountInString(str) > int(number(arg)) {
				v.fail(path, "is longer than %v", arg)
			}
		case "minimum", "maximum":
			if typeOf(x) == "integer" || typeOf(x) == "number" {
				n := number(x)
				if kw == "minimum" && n < number(arg) || kw == "maximum" && n > number(arg) {
					v.fail(path, "%v is out of %s %v", x, kw, arg)
				}
			}
		default:
			if !annotations[kw] {
				panic("the test's validator does not know keyword " + kw)
			}
		}
	}
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(JSONSchema, &s); err != nil {
		t.Fatalf("scheme.schema.json: %v", err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %v, want draft 2020-12", s["$schema"])
	}
	return s
}

func validate(t *testing.T, schema map[string]any, x any) []string {
	t.Helper()
	v := &validator{root: schema}
	v.validate(schema, x, "$")
	slices.Sort(v.errs)
	return v.errs
}

func fromYAML(t *testing.T, data []byte) any {
	t.Helper()
	var x any
	if err := yaml.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

func fromJSON(t *testing.T, data []byte) any {
	t.Helper()
	var x any
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestPresetsValidateAgainstSchema validates every preset file, and its
// JSON form, against scheme.schema.json.
func TestPresetsValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	names, err := fs.Glob(Presets, "*.yaml")
	if err != nil || len(names) != 4 {
		t.Fatalf("presets: %v, %v", names, err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(Presets, name)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validate(t, schema, fromYAML(t, data)); len(errs) > 0 {
			t.Errorf("%s:\n%s", name, strings.Join(errs, "\n"))
		}
		spec, err := Parse(name, data)
		if err != nil {
			t.Fatal(err)
		}
		js, err := Marshal(spec, JSON)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validate(t, schema, fromJSON(t, js)); len(errs) > 0 {
			t.Errorf("%s as JSON:\n%s", name, strings.Join(errs, "\n"))
		}
	}
}

// TestSchemaRefuses checks that the schema, through the validator, refuses
// what it should: the validator is not one that passes everything.
func TestSchemaRefuses(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	base := "id: s\nroles: [{id: a, rank: 1}]\neditions: [{id: e}]\ncreator_role: a\ninvite_role: a\n"
	if errs := validate(t, schema, fromYAML(t, []byte(base))); len(errs) > 0 {
		t.Fatalf("base: %v", errs)
	}
	for _, tt := range []struct{ add, want string }{
		{"colour: red\n", `$: has unknown property "colour"`},
		{"matrix: {a: [Not:ok]}\n", `$.matrix.a[0]: "Not:ok" does not match`},
		{"matrix: {A: []}\n", `$.matrix[A]: "A" does not match`},
		{"own: oops\n", `$.own: is string, want [array]`},
		{"invariants: [{role: a, min: 2}]\n", `$.invariants[0].min: 2 is out of maximum 1`},
		{"invariants: [{min: 1}]\n", `$.invariants[0]: lacks required "role"`},
		{"scopes: [{kind: p, roles: [{id: r}], creator_role: r, create: 'x:y', colour: 1}]\n", `$.scopes[0]: has unknown property "colour"`},
		{"role_editions: {a: []}\n", `$.role_editions.a: has 0 items, minItems 1`},
		{"editions: [{id: e, seats: {max: -1}}]\n", `$.editions[0].seats.max: -1 is out of minimum 0`},
		{"management: {rules: [{actor: a, manage: x}]}\n", `$.management.rules[0].manage: is string, want [array]`},
		{"trials: [{edition: e, max_duration: 30d}]\n", `$.trials[0].max_duration: "30d" does not match`},
		{"trials: [{edition: e, max_duration: -1h}]\n", `$.trials[0].max_duration: "-1h" does not match`},
		{"trials: [{edition: e}]\n", `$.trials[0]: lacks required "max_duration"`},
		{"trials: [{edition: e, max_duration: 1h, from: e}]\n", `$.trials[0].from: is string, want [array]`},
		{"organization: {trial: Trial}\n", `$.organization.trial: "Trial" does not match`},
	} {
		data := base + tt.add
		if strings.HasPrefix(tt.add, "editions:") {
			data = strings.Replace(base, "editions: [{id: e}]\n", tt.add, 1)
		}
		errs := validate(t, schema, fromYAML(t, []byte(data)))
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, tt.want) }) {
			t.Errorf("%q: errors %q, want one starting %q", tt.add, errs, tt.want)
		}
	}
}

// TestSchemaMatchesFileTypes walks the file types and the schema together:
// each struct is an object of exactly its fields, refusing others; lists
// are arrays, mappings objects, and scalars of the matching type.
func TestSchemaMatchesFileTypes(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	v := &validator{root: schema}
	deref := func(s map[string]any) map[string]any {
		for s["$ref"] != nil {
			s = v.ref(s["$ref"].(string))
		}
		return s
	}
	hasType := func(s map[string]any, want string) bool {
		switch ty := s["type"].(type) {
		case string:
			return ty == want
		case []any:
			return slices.Contains(ty, any(want))
		}
		return false
	}
	var walk func(path string, ft reflect.Type, s map[string]any)
	walk = func(path string, ft reflect.Type, s map[string]any) {
		s = deref(s)
		switch {
		case ft.Implements(mappingType):
			if !hasType(s, "object") {
				t.Errorf("%s: schema type %v, want object", path, s["type"])
			}
			sub, ok := s["additionalProperties"].(map[string]any)
			if !ok || s["propertyNames"] == nil {
				t.Errorf("%s: a mapping needs propertyNames and additionalProperties", path)
				return
			}
			walk(path+".*", ft.Elem().Field(1).Type, sub)
		case ft.Kind() == reflect.Struct:
			if !hasType(s, "object") || s["additionalProperties"] != false {
				t.Errorf("%s: want an object refusing additional properties", path)
			}
			props, _ := s["properties"].(map[string]any)
			var names []string
			for i := range ft.NumField() {
				name, _ := tagName(ft.Field(i))
				names = append(names, name)
				sub, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s: schema has no property %q", path, name)
					continue
				}
				walk(path+"."+name, ft.Field(i).Type, sub)
			}
			for name := range props {
				if !slices.Contains(names, name) {
					t.Errorf("%s: schema has property %q, which the file type %s has not", path, name, ft)
				}
			}
		case ft.Kind() == reflect.Slice:
			if !hasType(s, "array") {
				t.Errorf("%s: schema type %v, want array", path, s["type"])
			}
			items, ok := s["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: no items", path)
				return
			}
			walk(path+"[]", ft.Elem(), items)
		default:
			want := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Bool: "boolean", reflect.Int64: "string"}[ft.Kind()]
			if !hasType(s, want) {
				t.Errorf("%s: schema type %v, want %s", path, s["type"], want)
			}
		}
	}
	walk("$", reflect.TypeFor[fileSpec](), schema)
}

// TestSchemaAcceptsValidSchemes validates valid schemes that set what no
// preset does (eligibility org_roles, rules with empty lists), besides
// the presets' fields.
func TestSchemaAcceptsValidSchemes(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t)
	spec := edition.AIEngine().Spec()
	spec.Scopes[0].Eligibility[1].OrgRoles = []string{"owner", "editor"}
	spec.Management.Rules = []edition.Rule{{Actor: "viewer", Manage: []string{}, Assign: []string{}}, {Actor: "editor"}}
	if _, err := edition.NewScheme(spec); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{YAML, JSON} {
		data, err := Marshal(spec, f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validate(t, schema, fromYAML(t, data)); len(errs) > 0 {
			t.Errorf("%v: %v", f, errs)
		}
	}
}
