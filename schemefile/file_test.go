package schemefile

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/orgauthz/orgauthz/edition"
)

// TestFileTypesCoverSpec walks edition.Spec and every type it holds, and
// the file types alongside: each exported field of a Spec type has the
// field of the same name in its file type, named in lower_snake_case in
// the file, of the matching kind; and the file types hold nothing else
// (but $schema, for editors).
func TestFileTypesCoverSpec(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	var walk func(path string, goT, fileT reflect.Type)
	walk = func(path string, goT, fileT reflect.Type) {
		switch {
		case fileT.Implements(mappingType):
			if goT.Kind() != reflect.Map || goT.Key().Kind() != reflect.String {
				t.Errorf("%s: file has a mapping, Spec has %s", path, goT)
				return
			}
			walk(path+"[key]", goT.Elem(), fileT.Elem().Field(1).Type)
		case goT.Kind() != fileT.Kind():
			t.Errorf("%s: Spec has %s, file has %s", path, goT, fileT)
		case goT.Kind() == reflect.Slice:
			walk(path+"[]", goT.Elem(), fileT.Elem())
		case goT.Kind() == reflect.Struct:
			if seen[goT] {
				return
			}
			seen[goT] = true
			for i := range goT.NumField() {
				f := goT.Field(i)
				if !f.IsExported() {
					continue
				}
				ff, ok := fileT.FieldByName(f.Name)
				if !ok {
					t.Errorf("%s.%s (%s): no field in the file type %s", path, f.Name, goT, fileT)
					continue
				}
				if name, _ := tagName(ff); name != snake(f.Name) {
					t.Errorf("%s.%s: named %q in the file, want %q", path, f.Name, name, snake(f.Name))
				}
				walk(path+"."+f.Name, f.Type, ff.Type)
			}
			for i := range fileT.NumField() {
				ff := fileT.Field(i)
				if _, ok := goT.FieldByName(ff.Name); !ok && ff.Name != "Schema" {
					t.Errorf("%s: file type %s has %s, which %s has not", path, fileT, ff.Name, goT)
				}
			}
		case goT.Kind() == reflect.Map:
			t.Errorf("%s: Spec has a map, the file type %s is no mapping", path, fileT)
		}
	}
	walk("Spec", reflect.TypeFor[edition.Spec](), reflect.TypeFor[fileSpec]())
	if len(seen) < 12 {
		t.Errorf("walked %d struct types, want every one of Spec's (at least 12)", len(seen))
	}
}

// tricky are strings YAML would read as something else unless quoted.
var tricky = []string{
	"null", "true", "123", "~", "a: b", "- x", "#c", " lead", "trail ", "multi\nline", "tab\tx",
	"ünï 🚀", "1.5", "0x10", "yes", "<<", "'q'", `"dq"`, "{x}", "[y]", "&a", "*b", "!t", "%p", "@", "`",
	"key:with:colons", "job_runs:create", "a\u2028b", "nel\u0085", "\ufeffbom", "\x00nul", "\u202eltr", "\\", "",
}

// fill sets every field reachable from v to a value of its own: strings
// from tricky in turn, distinct integers (negative ones too), true, lists
// and maps of two (empty ones, non-nil, if empty).
func fill(v reflect.Value, n *int, empty bool) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(tricky[*n%len(tricky)])
	case reflect.Int:
		v.SetInt(int64(*n - 40))
	case reflect.Int64: // a time.Duration: hours, minutes, seconds or less
		v.SetInt(int64(*n-40) * [...]int64{int64(time.Hour), int64(time.Minute), int64(time.Second), 1500, 1}[*n%5])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n, empty)
			}
		}
	case reflect.Slice:
		size := 2
		if empty {
			size = 0
		}
		s := reflect.MakeSlice(v.Type(), size, size)
		for i := range size {
			fill(s.Index(i), n, empty)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		if !empty {
			for range 2 {
				k := reflect.New(v.Type().Key()).Elem()
				fill(k, n, empty)
				e := reflect.New(v.Type().Elem()).Elem()
				fill(e, n, empty)
				m.SetMapIndex(k, e)
			}
		}
		v.Set(m)
	default:
		panic("fill: " + v.Type().String())
	}
}

// TestRoundTripEveryField fills every field of a Spec, marshals it in both
// formats and parses it back: nothing is lost or changed, tricky strings,
// negative numbers and the difference between nil and empty included.
func TestRoundTripEveryField(t *testing.T) {
	t.Parallel()
	for _, empty := range []bool{false, true} {
		for start := range 5 {
			var spec edition.Spec
			n := start * 7
			fill(reflect.ValueOf(&spec).Elem(), &n, empty)
			for _, f := range []Format{YAML, JSON} {
				data, err := Marshal(spec, f)
				if err != nil {
					t.Fatalf("%v: %v", f, err)
				}
				name := "every." + strings.ToLower(f.String())
				got, err := Parse(name, data)
				if err != nil {
					t.Fatalf("%v: %v\n%s", f, err, data)
				}
				if diff := cmp.Diff(spec, got); diff != "" {
					t.Errorf("%v (empty %v, start %d): round trip differs (-marshaled +parsed):\n%s\n%s", f, empty, start, diff, data)
				}
				again, err := Marshal(got, f)
				if err != nil || !bytes.Equal(again, data) {
					t.Errorf("%v: marshaling the parsed spec gives other bytes (%v)", f, err)
				}
			}
		}
	}
}

func TestZeroSpec(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{YAML, JSON} {
		data, err := Marshal(edition.Spec{}, f)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(data)); got != "{}" {
			t.Errorf("%v: zero Spec is %q, want {}", f, got)
		}
		spec, err := Parse("zero."+strings.ToLower(f.String()), data)
		if err != nil || !reflect.DeepEqual(spec, edition.Spec{}) {
			t.Errorf("%v: Parse = %+v, %v", f, spec, err)
		}
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ID": "id", "Name": "name", "DefaultEdition": "default_edition", "DeleteInScope": "delete_in_scope",
		"ServicePrincipalKeys": "service_principal_keys", "OrgCapability": "org_capability", "OrgRoles": "org_roles",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocSample builds the sample of the package documentation.
func TestDocSample(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(src), "A small one:\n//\n")
	if !ok {
		t.Fatal("no sample in doc.go")
	}
	var sample strings.Builder
	for _, line := range strings.Split(after, "\n") {
		text, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			break
		}
		sample.WriteString(text + "\n")
	}
	s, err := Build("doc.yaml", []byte(sample.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, sample.String())
	}
	if len(s.Roles()) != 2 || len(s.Editions()) != 2 || len(s.Management().Rules) != 1 {
		t.Errorf("sample built %d roles, %d editions, %d rules", len(s.Roles()), len(s.Editions()), len(s.Management().Rules))
	}
}
