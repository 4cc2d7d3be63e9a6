package schemefile

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/orgauthz/orgauthz/edition"
	"go.yaml.in/yaml/v3"
)

// locate returns the node of the file that an error of edition.NewScheme
// is about. NewScheme's messages name the field at fault (CreatorRole,
// "matrix row for role ...", `scope "project" ...`) and the IDs involved,
// but carry no position: locate reads them back, by the rules below, to
// the node holding the offending ID, or else the field or section at
// fault, or else the root. A message no rule knows falls back to the first
// node whose text is one of the IDs the message quotes.
func locate(root *yaml.Node, err error) *yaml.Node {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, edition.ErrInvalidScheme.Error()+" "); ok {
		if id, err := strconv.QuotedPrefix(rest); err == nil {
			msg = strings.TrimPrefix(rest[len(id):], ": ")
		}
	}
	if n := apply(schemeRules, &where{root: root, ctx: root}, msg); n != nil {
		return n
	}
	for _, id := range quoted(msg) {
		if n := find(root, id); n != nil {
			return n
		}
	}
	return root
}

// where is what the rules look in: the file's root, and the mapping the
// message is about (the root, or a scope kind).
type where struct{ root, ctx *yaml.Node }

type rule struct {
	re *regexp.Regexp
	// quoted says which groups of re are quoted IDs.
	quoted []bool
	// at returns the node, given the groups of re, quoted IDs unquoted.
	at func(w *where, ids []string) *yaml.Node
}

// q matches a quoted ID.
const q = `("(?:[^"\\]|\\.)*")`

func r(expr string, at func(w *where, ids []string) *yaml.Node) rule {
	expr = strings.ReplaceAll(expr, "Q", "(?P<q>"+q[1:])
	re := regexp.MustCompile("^" + expr)
	isQ := make([]bool, re.NumSubexp())
	for i, name := range re.SubexpNames()[1:] {
		isQ[i] = name == "q"
	}
	return rule{re: re, quoted: isQ, at: at}
}

// apply returns the node of the first rule matching msg that finds one.
func apply(rules []rule, w *where, msg string) *yaml.Node {
	for _, ru := range rules {
		m := ru.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		ids := m[1:]
		for i, s := range ids {
			if u, err := strconv.Unquote(s); err == nil && ru.quoted[i] {
				ids[i] = u
			}
		}
		if n := ru.at(w, ids); n != nil {
			return n
		}
	}
	return nil
}

// Rules by message, most specific first, as edition/build.go words them.
var schemeRules = buildSchemeRules()

func buildSchemeRules() []rule {
	top := func(key string) func(w *where, _ []string) *yaml.Node {
		return func(w *where, _ []string) *yaml.Node { return first(value(w.root, key), w.root) }
	}
	section := func(key string) func(w *where, _ []string) *yaml.Node {
		return func(w *where, _ []string) *yaml.Node { return first(keyNode(w.root, key), w.root) }
	}
	gate := func(name, key string) []rule {
		return []rule{
			r(name+`\[Q\] names edition Q`, func(w *where, ids []string) *yaml.Node {
				return scalarIn(value(value(w.root, key), ids[0]), ids[1])
			}),
			r(name+`\[Q\] offers`, func(w *where, ids []string) *yaml.Node { return value(value(w.root, key), ids[0]) }),
			r(name+`\[Q\]`, func(w *where, ids []string) *yaml.Node { return keyNode(value(w.root, key), ids[0]) }),
		}
	}
	edItem := func(w *where, id string, nth int) *yaml.Node {
		return itemWith(value(w.root, "editions"), "id", id, nth)
	}
	invItem := func(w *where, id string, nth int) *yaml.Node {
		return itemWith(value(w.root, "invariants"), "role", id, nth)
	}
	trialItem := func(w *where, id string, nth int) *yaml.Node {
		return itemWith(value(w.root, "trials"), "edition", id, nth)
	}
	ruleItem := func(w *where, id string, nth int) *yaml.Node {
		return itemWith(value(value(w.root, "management"), "rules"), "actor", id, nth)
	}
	rules := []rule{
		r(`scheme ID`, top("id")),
		r(`scheme name`, top("name")),
		r(`capabilities: (.*)`, func(w *where, ids []string) *yaml.Node { return apply(capabilityRules, w, ids[0]) }),
		r(`matrix: (.*)`, func(w *where, ids []string) *yaml.Node { return apply(matrixRules, w, ids[0]) }),
		r(`no roles`, section("roles")),
		r(`ExternalRole`, top("external_role")),
		r(`external role Q has rank`, func(w *where, ids []string) *yaml.Node {
			it := itemWith(value(w.root, "roles"), "id", ids[0], 0)
			return first(value(it, "rank"), it)
		}),
		r(`CreatorRole is required`, func(w *where, _ []string) *yaml.Node { return w.root }),
		r(`CreatorRole`, top("creator_role")),
		r(`InviteRole is required`, func(w *where, _ []string) *yaml.Node { return w.root }),
		r(`InviteRole`, top("invite_role")),
		r(`no editions`, section("editions")),
		r(`\d+ editions`, section("editions")),
		r(`edition ID: invalid ID: edition Q`, func(w *where, ids []string) *yaml.Node {
			it := edItem(w, ids[0], 0)
			return first(value(it, "id"), it)
		}),
		r(`edition Q is listed twice`, func(w *where, ids []string) *yaml.Node { return value(edItem(w, ids[0], 1), "id") }),
		r(`edition Q has a negative seat limit`, func(w *where, ids []string) *yaml.Node {
			it := edItem(w, ids[0], 0)
			return first(value(value(it, "seats"), "max"), it)
		}),
		r(`edition Q does not offer the creator role Q`, func(w *where, ids []string) *yaml.Node {
			return first(keyNode(value(w.root, "role_editions"), ids[1]), edItem(w, ids[0], 0))
		}),
		r(`edition Q`, func(w *where, ids []string) *yaml.Node {
			it := edItem(w, ids[0], 0)
			return first(value(it, "name"), it)
		}),
	}
	rules = append(rules, gate("CapabilityEditions", "capability_editions")...)
	rules = append(rules, gate("RoleEditions", "role_editions")...)
	rules = append(rules,
		r(`DefaultEdition`, top("default_edition")),
		r(`Trials names edition Q`, func(w *where, ids []string) *yaml.Node {
			it := trialItem(w, ids[0], 0)
			return first(value(it, "edition"), it)
		}),
		r(`two trials of edition Q`, func(w *where, ids []string) *yaml.Node { return value(trialItem(w, ids[0], 1), "edition") }),
		r(`trial of edition Q: MaxDuration`, func(w *where, ids []string) *yaml.Node {
			it := trialItem(w, ids[0], 0)
			return first(value(it, "max_duration"), it)
		}),
		r(`trial of edition Q: From names edition Q`, func(w *where, ids []string) *yaml.Node {
			return scalarIn(value(trialItem(w, ids[0], 0), "from"), ids[1])
		}),
		r(`trial of edition Q: From lists edition Q twice`, func(w *where, ids []string) *yaml.Node {
			return nthScalarIn(value(trialItem(w, ids[0], 0), "from"), ids[1], 1)
		}),
		r(`trial of edition Q: From lists the trialled edition`, func(w *where, ids []string) *yaml.Node {
			return scalarIn(value(trialItem(w, ids[0], 0), "from"), ids[0])
		}),
		r(`trial of edition Q`, func(w *where, ids []string) *yaml.Node {
			it := trialItem(w, ids[0], 0)
			return first(value(it, "edition"), it)
		}),
		r(`two invariants on role Q`, func(w *where, ids []string) *yaml.Node { return value(invItem(w, ids[0], 1), "role") }),
		r(`invariant on role Q: negative Min or Max`, func(w *where, ids []string) *yaml.Node {
			it := invItem(w, ids[0], 0)
			if m := value(it, "min"); m != nil && strings.HasPrefix(m.Value, "-") {
				return m
			}
			return first(value(it, "max"), it)
		}),
		r(`invariant on role Q: (?:Min|a minimum)`, func(w *where, ids []string) *yaml.Node {
			it := invItem(w, ids[0], 0)
			return first(value(it, "min"), it)
		}),
		r(`invariant on role Q: immutable`, func(w *where, ids []string) *yaml.Node {
			it := invItem(w, ids[0], 0)
			return first(value(it, "immutable"), it)
		}),
		r(`invariant on role Q`, func(w *where, ids []string) *yaml.Node {
			it := invItem(w, ids[0], 0)
			return first(value(it, "role"), it)
		}),
		r(`Management capability for ([a-z-]+)`, func(w *where, ids []string) *yaml.Node {
			mg := value(w.root, "management")
			return first(value(mg, strings.ReplaceAll(ids[0], "-", "_")), keyNode(w.root, "management"))
		}),
		r(`Management\.Owner`, func(w *where, _ []string) *yaml.Node {
			return first(value(value(w.root, "management"), "owner"), keyNode(w.root, "management"))
		}),
		r(`two management rules for role Q`, func(w *where, ids []string) *yaml.Node { return value(ruleItem(w, ids[0], 1), "actor") }),
		r(`management rule for role Q lets .*?(act on|grant) (?:the external role |the immutable role |role )Q`, func(w *where, ids []string) *yaml.Node {
			list := "assign"
			if ids[1] == "act on" {
				list = "manage"
			}
			return scalarIn(value(ruleItem(w, ids[0], 0), list), ids[2])
		}),
		r(`management rule for role Q(.*)`, func(w *where, ids []string) *yaml.Node {
			it := ruleItem(w, ids[0], 0)
			if named := quoted(ids[1]); len(named) > 0 {
				if n := first(scalarIn(value(it, "manage"), named[0]), scalarIn(value(it, "assign"), named[0])); n != nil {
					return n
				}
			}
			return first(value(it, "actor"), it)
		}),
		r(`role Q may give role Q, which holds Q`, func(w *where, ids []string) *yaml.Node {
			row := value(w.root, "matrix")
			return first(scalarIn(value(row, ids[1]), ids[2]), keyNode(row, ids[1]))
		}),
		r(`Organization\.(\w+)`, func(w *where, ids []string) *yaml.Node {
			return first(value(value(w.root, "organization"), snake(ids[0])), keyNode(w.root, "organization"))
		}),
		r(`Keys\.(\w+)`, func(w *where, ids []string) *yaml.Node {
			return first(value(value(w.root, "keys"), snake(ids[0])), keyNode(w.root, "keys"))
		}),
		r(`Own\b(.*)`, func(w *where, ids []string) *yaml.Node {
			own := value(w.root, "own")
			if named := quoted(ids[0]); len(named) > 0 {
				if n := scalarIn(own, named[0]); n != nil {
					return n
				}
			}
			return keyNode(w.root, "own")
		}),
		r(`\d+ scope kinds`, section("scopes")),
		r(`scope kind: invalid ID: scope kind Q`, func(w *where, ids []string) *yaml.Node {
			it := itemWith(value(w.root, "scopes"), "kind", ids[0], 0)
			return first(value(it, "kind"), it)
		}),
		r(`scope kind Q is listed twice`, func(w *where, ids []string) *yaml.Node {
			return value(itemWith(value(w.root, "scopes"), "kind", ids[0], 1), "kind")
		}),
		r(`scope Q:? ?(.*)`, func(w *where, ids []string) *yaml.Node {
			sc := itemWith(value(w.root, "scopes"), "kind", ids[0], 0)
			if sc == nil {
				return nil
			}
			return first(apply(scopeRules, &where{root: w.root, ctx: sc}, ids[1]), sc)
		}),
	)
	return rules
}

// Rules for a catalog's error, in w.ctx (the root or a scope kind).
var capabilityRules = []rule{
	r(`duplicate ID: capability Q is listed twice`, func(w *where, ids []string) *yaml.Node {
		return value(itemWith(value(w.ctx, "capabilities"), "id", ids[0], 1), "id")
	}),
	r(`capability Q: `, func(w *where, ids []string) *yaml.Node {
		it := itemWith(value(w.ctx, "capabilities"), "id", ids[0], 0)
		return first(value(it, "label"), it)
	}),
	r(`invalid capability ID Q`, func(w *where, ids []string) *yaml.Node {
		it := itemWith(value(w.ctx, "capabilities"), "id", ids[0], 0)
		return first(value(it, "id"), it)
	}),
	r(``, func(w *where, _ []string) *yaml.Node { return first(keyNode(w.ctx, "capabilities"), w.ctx) }),
}

// Rules for a matrix's error (its roles and its rows), in w.ctx.
var matrixRules = []rule{
	r(`matrix row for role Q: .*?Q`, func(w *where, ids []string) *yaml.Node {
		m := value(w.ctx, "matrix")
		return first(scalarIn(value(m, ids[0]), ids[1]), keyNode(m, ids[0]))
	}),
	r(`matrix row: invalid role Q`, func(w *where, ids []string) *yaml.Node { return keyNode(value(w.ctx, "matrix"), ids[0]) }),
	r(`unknown role Q`, func(w *where, ids []string) *yaml.Node { return keyNode(value(w.ctx, "matrix"), ids[0]) }),
	r(`duplicate ID: role Q is listed twice`, func(w *where, ids []string) *yaml.Node {
		return value(itemWith(value(w.ctx, "roles"), "id", ids[0], 1), "id")
	}),
	r(`invalid role Q: negative rank`, func(w *where, ids []string) *yaml.Node {
		it := itemWith(value(w.ctx, "roles"), "id", ids[0], 0)
		return first(value(it, "rank"), it)
	}),
	r(`invalid role Q: invalid display name`, func(w *where, ids []string) *yaml.Node {
		it := itemWith(value(w.ctx, "roles"), "id", ids[0], 0)
		return first(value(it, "name"), it)
	}),
	r(`invalid role Q`, func(w *where, ids []string) *yaml.Node {
		it := itemWith(value(w.ctx, "roles"), "id", ids[0], 0)
		return first(value(it, "id"), it)
	}),
	r(`invalid role: empty ID`, func(w *where, _ []string) *yaml.Node { return itemWith(value(w.ctx, "roles"), "id", "", 0) }),
	r(``, func(w *where, _ []string) *yaml.Node { return first(keyNode(w.ctx, "roles"), w.ctx) }),
}

// Rules for the rest of a message about scope kind w.ctx, after
// `scope "kind"`.
var scopeRules = buildScopeRules()

func buildScopeRules() []rule {
	field := func(key string) func(w *where, _ []string) *yaml.Node {
		return func(w *where, _ []string) *yaml.Node { return value(w.ctx, key) }
	}
	elig := func(w *where, id string, nth int) *yaml.Node {
		return itemWith(value(w.ctx, "eligibility"), "scope_role", id, nth)
	}
	return []rule{
		r(`capabilities: (.*)`, func(w *where, ids []string) *yaml.Node { return apply(capabilityRules, w, ids[0]) }),
		r(`matrix: (.*)`, func(w *where, ids []string) *yaml.Node { return apply(matrixRules, w, ids[0]) }),
		r(`has no roles`, func(w *where, _ []string) *yaml.Node { return keyNode(w.ctx, "roles") }),
		r(`CreatorRole is required`, func(w *where, _ []string) *yaml.Node { return w.ctx }),
		r(`Create capability is required`, func(w *where, _ []string) *yaml.Node { return w.ctx }),
		r(`MinHolders.*?Q`, func(w *where, ids []string) *yaml.Node { return keyNode(value(w.ctx, "min_holders"), ids[0]) }),
		r(`(?:negative minimum for role|a minimum on role|a minimum of \d+ holders of) Q`, func(w *where, ids []string) *yaml.Node {
			return value(value(w.ctx, "min_holders"), ids[0])
		}),
		r(`allows external members`, field("allow_external")),
		r(`invalid display name`, field("name")),
		r(`two eligibility rules for scope role Q`, func(w *where, ids []string) *yaml.Node {
			return value(elig(w, ids[0], 1), "scope_role")
		}),
		r(`eligibility rule for scope role Q(?: names capability|: invalid capability ID)`, func(w *where, ids []string) *yaml.Node {
			return value(elig(w, ids[0], 0), "org_capability")
		}),
		r(`eligibility rule for scope role Q(.*)`, func(w *where, ids []string) *yaml.Node {
			it := elig(w, ids[0], 0)
			if named := quoted(ids[1]); len(named) > 0 {
				if n := scalarIn(value(it, "org_roles"), named[0]); n != nil {
					return n
				}
			}
			return first(value(it, "scope_role"), it)
		}),
		r(`implicit role for organization role Q: the external role`, func(w *where, ids []string) *yaml.Node {
			return keyNode(value(w.ctx, "implicit"), ids[0])
		}),
		r(`implicit role for organization role Q`, func(w *where, ids []string) *yaml.Node {
			imp := value(w.ctx, "implicit")
			if itemWith(value(w.root, "roles"), "id", ids[0], 0) != nil {
				return value(imp, ids[0]) // the organization role is defined: its scope role is not
			}
			return keyNode(imp, ids[0])
		}),
		r(`organization role Q may create one but is not eligible for its creator role Q`, func(w *where, ids []string) *yaml.Node {
			return first(value(elig(w, ids[1], 0), "scope_role"), value(w.ctx, "creator_role"))
		}),
		r(`organization role Q may remove members but is not eligible for scope role Q`, func(w *where, ids []string) *yaml.Node {
			return first(value(elig(w, ids[1], 0), "scope_role"), keyNode(value(w.ctx, "min_holders"), ids[1]))
		}),
		r(`(\w+)\b`, func(w *where, ids []string) *yaml.Node { return value(w.ctx, snake(ids[0])) }),
	}
}

// first returns the first node that is not nil.
func first(nodes ...*yaml.Node) *yaml.Node {
	for _, n := range nodes {
		if n != nil {
			return n
		}
	}
	return nil
}

// entryNodes returns the key and value nodes of key in mapping m.
func entryNodes(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if resolve(m.Content[i]).Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func keyNode(m *yaml.Node, key string) *yaml.Node { k, _ := entryNodes(m, key); return k }

func value(m *yaml.Node, key string) *yaml.Node { _, v := entryNodes(m, key); return v }

// text returns the text of scalar n, "" for none or null.
func text(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

// itemWith returns the nth mapping of sequence seq whose key is val (an
// absent key counts as "").
func itemWith(seq *yaml.Node, key, val string, nth int) *yaml.Node {
	seq = resolve(seq)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, it := range seq.Content {
		if text(value(it, key)) == val {
			if nth == 0 {
				return it
			}
			nth--
		}
	}
	return nil
}

// scalarIn returns the item of sequence seq whose text is val.
func scalarIn(seq *yaml.Node, val string) *yaml.Node { return nthScalarIn(seq, val, 0) }

// nthScalarIn returns the nth item (from 0) of sequence seq whose text is
// val.
func nthScalarIn(seq *yaml.Node, val string, nth int) *yaml.Node {
	seq = resolve(seq)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, it := range seq.Content {
		if text(it) == val && resolve(it).Kind == yaml.ScalarNode {
			if nth == 0 {
				return it
			}
			nth--
		}
	}
	return nil
}

// find returns the first scalar under n, in document order, whose text is
// val.
func find(n *yaml.Node, val string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Value == val && !isNull(n) {
		return n
	}
	for _, c := range n.Content {
		if f := find(c, val); f != nil {
			return f
		}
	}
	return nil
}

var quotedRE = regexp.MustCompile(q)

// quoted returns the strings msg quotes, unquoted.
func quoted(msg string) []string {
	var out []string
	for _, s := range quotedRE.FindAllString(msg, -1) {
		if u, err := strconv.Unquote(s); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// snake returns a Go field name in lower_snake_case: DeleteInScope is
// delete_in_scope, ID is id.
func snake(name string) string {
	var b strings.Builder
	for i, c := range name {
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prevLower := name[i-1] >= 'a' && name[i-1] <= 'z'
			nextLower := i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z'
			prevUpper := name[i-1] >= 'A' && name[i-1] <= 'Z'
			if prevLower || prevUpper && nextLower {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
