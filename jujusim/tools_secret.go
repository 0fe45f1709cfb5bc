package jujusim

import (
	"encoding/base64"
	"maps"
	"regexp"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
)

var secretTools = map[string]toolFunc{
	"secret-add":      secretAdd,
	"secret-set":      secretSet,
	"secret-get":      secretGet,
	"secret-grant":    secretGrant,
	"secret-revoke":   secretRevoke,
	"secret-remove":   secretRemove,
	"secret-ids":      secretIDs,
	"secret-info-get": secretInfoGet,
}

var secretKey = regexp.MustCompile(`^([a-z](?:-?[a-z0-9]){2,})$`)

var secretMetaFlags = []flagDef{
	{names: []string{"label"}}, {names: []string{"description"}}, {names: []string{"owner"}},
	{names: []string{"rotate"}}, {names: []string{"expire"}}, {names: []string{"file"}},
}

// secretContent parses key=value, key#base64=value and key#file=path.
func secretContent(args []string) (map[string]string, *wire.Response) {
	content := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			r := usagef("expected \"key=value\", got %q", a)
			return nil, &r
		}
		k, enc, _ := strings.Cut(k, "#")
		if !secretKey.MatchString(k) {
			r := usagef("invalid key %q: keys must be lowercase letters, digits and hyphens, at least 3 long", k)
			return nil, &r
		}
		switch enc {
		case "base64":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				r := failf("invalid base64 value for %q", k)
				return nil, &r
			}
			v = string(b)
		case "file":
			b, err := osReadFile(v)
			if err != nil {
				r := failf("cannot read secret file for %q: %v", k, err)
				return nil, &r
			}
			v = string(b)
		case "":
		default:
			r := usagef("invalid encoding %q for key %q", enc, k)
			return nil, &r
		}
		content[k] = v
	}
	return content, nil
}

func secretAdd(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, secretMetaFlags...)
	if err != nil {
		return usagef("%v", err)
	}
	content, fail := secretContent(p.pos)
	if fail != nil {
		return *fail
	}
	if len(content) == 0 {
		return usagef("missing secret value or filename")
	}
	u := c.unit
	s := &secret{uri: newSecretURI(), ownerApp: u.app.name, label: p.str("label"), description: p.str("description"),
		rotate: p.str("rotate"), grants: map[string]int{}, tracked: map[string]int{}, labels: map[string]string{}}
	switch p.str("owner") {
	case "", "application":
		if u.app.leader != u.name {
			return failf("this unit is not the leader")
		}
	case "unit":
		s.ownerUnit = u.name
	default:
		return usagef("invalid value %q for --owner: must be application or unit", p.str("owner"))
	}
	if s.label != "" && m.lookupSecret(c, "", s.label) != nil {
		return failf("secret with label %q already exists", s.label)
	}
	c.newSecs[s.uri] = s
	s.revisions = []map[string]string{content}
	c.secrets = append(c.secrets, func() {
		m.secrets[s.uri] = s
		m.record(u.name, "model", "secret %s added by %s (revision 1)", s.uri, u.name)
	})
	return wire.Response{Stdout: []byte(s.uri + "\n")}
}

func secretSet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, secretMetaFlags...)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) == 0 {
		return usagef("missing secret URI")
	}
	s := m.lookupSecret(c, p.pos[0], "")
	if s == nil || !s.owns(c.unit, false) {
		return failf("secret %q not found", p.pos[0])
	}
	content, fail := secretContent(p.pos[1:])
	if fail != nil {
		return *fail
	}
	label, desc := p.str("label"), p.str("description")
	c.secrets = append(c.secrets, func() {
		if label != "" {
			s.label = label
		}
		if desc != "" {
			s.description = desc
		}
		// Juju makes a new revision only when the content changes.
		if len(content) > 0 && !maps.Equal(content, s.revisions[s.latest()-1]) {
			m.addRevision(s, content)
		}
	})
	return wire.Response{}
}

func secretGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"label"}},
		flagDef{names: []string{"peek"}, isBool: true}, flagDef{names: []string{"refresh"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) == 0 && p.str("label") == "" {
		return usagef("require either a secret URI or label")
	}
	id, key := "", ""
	pos := p.pos
	if len(pos) > 0 && (p.str("label") == "" || looksLikeSecretID(pos[0])) {
		id, pos = pos[0], pos[1:]
	}
	if len(pos) > 0 {
		key, pos = pos[0], pos[1:]
	}
	if len(pos) > 0 {
		return usagef("unrecognized args: %q", pos)
	}
	lookupLabel := p.str("label")
	if id != "" {
		lookupLabel = ""
	}
	s := m.lookupSecret(c, id, lookupLabel)
	u := c.unit
	if s == nil {
		if id == "" {
			return failf("secret with label %q not found", p.str("label"))
		}
		return failf("secret %q not found", id)
	}
	var rev int
	switch {
	case s.owns(u, true):
		rev = s.latest()
	case s.granted(u):
		rev = s.tracked[u.name]
		if rev == 0 || p.boolean("peek") || p.boolean("refresh") {
			rev = s.latest()
		}
		if !p.boolean("peek") {
			s.tracked[u.name] = rev
		}
		if id != "" && p.str("label") != "" {
			s.labels[u.name] = p.str("label")
		}
	default:
		return failf("permission denied")
	}
	content := maps.Clone(s.revisions[rev-1])
	if key != "" {
		v, ok := content[key]
		if !ok {
			return failf("secret %q has no key %q", s.uri, key)
		}
		return output(p, v)
	}
	return output(p, content)
}

func secretGrant(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, relationFlag, flagDef{names: []string{"unit"}})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 {
		return usagef("missing secret URI")
	}
	s := m.lookupSecret(c, p.pos[0], "")
	if s == nil || !s.owns(c.unit, false) {
		return failf("secret %q not found", p.pos[0])
	}
	if !p.has("relation") {
		return usagef("missing relation")
	}
	r, fail := m.relationOf(c, p)
	if fail != nil {
		return *fail
	}
	consumer := r.other(c.unit.app.name).app
	if un := p.str("unit"); un != "" {
		if !strings.HasPrefix(un, consumer+"/") {
			return failf("cannot grant secret to unit %q: not in relation %d", un, r.id)
		}
		consumer = un
	}
	c.secrets = append(c.secrets, func() {
		s.grants[consumer] = r.id
		m.record(c.unit.name, "model", "secret %s granted to %s over relation %d", s.uri, consumer, r.id)
	})
	return wire.Response{}
}

func secretRevoke(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, relationFlag, flagDef{names: []string{"unit"}}, flagDef{names: []string{"app"}})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 {
		return usagef("missing secret URI")
	}
	s := m.lookupSecret(c, p.pos[0], "")
	if s == nil || !s.owns(c.unit, false) {
		return failf("secret %q not found", p.pos[0])
	}
	var who []string
	switch {
	case p.str("unit") != "":
		who = []string{p.str("unit")}
	case p.str("app") != "":
		who = []string{p.str("app")}
	case p.has("relation"):
		r, fail := m.relationOf(c, p)
		if fail != nil {
			return *fail
		}
		for k, id := range s.grants {
			if id == r.id {
				who = append(who, k)
			}
		}
	default:
		who = sortedKeys(s.grants)
	}
	c.secrets = append(c.secrets, func() {
		for _, k := range who {
			delete(s.grants, k)
		}
	})
	return wire.Response{}
}

func secretRemove(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, flagDef{names: []string{"revision"}})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 {
		return usagef("missing secret URI")
	}
	s := m.lookupSecret(c, p.pos[0], "")
	if s == nil || !s.owns(c.unit, false) {
		return wire.Response{}
	}
	if p.has("revision") {
		if _, err := strconv.Atoi(p.str("revision")); err != nil {
			return usagef("invalid revision %q", p.str("revision"))
		}
		return wire.Response{} // old revisions are kept for simplicity
	}
	c.secrets = append(c.secrets, func() { delete(m.secrets, s.uri) })
	return wire.Response{}
}

func secretIDs(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag)
	if err != nil {
		return usagef("%v", err)
	}
	ids := []string{}
	for _, set := range []map[string]*secret{m.secrets, c.newSecs} {
		for _, uri := range sortedKeys(set) {
			if set[uri].owns(c.unit, true) {
				ids = append(ids, uri)
			}
		}
	}
	return output(p, ids)
}

type secretInfo struct {
	Revision    int    `json:"revision" yaml:"revision"`
	Label       string `json:"label,omitempty" yaml:"label,omitempty"`
	Owner       string `json:"owner" yaml:"owner"`
	Rotation    string `json:"rotation,omitempty" yaml:"rotation,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

func secretInfoGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"label"}})
	if err != nil {
		return usagef("%v", err)
	}
	id := ""
	if len(p.pos) > 0 {
		id = p.pos[0]
	}
	s := m.lookupSecret(c, id, p.str("label"))
	if s == nil || !s.owns(c.unit, true) {
		return failf("secret %q not found", id+p.str("label"))
	}
	owner := "application"
	if s.ownerUnit != "" {
		owner = "unit"
	}
	rot := s.rotate
	if rot == "" {
		rot = "never"
	}
	id = strings.TrimPrefix(s.uri, "secret:")
	return output(p, map[string]secretInfo{id: {Revision: s.latest(), Label: s.label, Owner: owner, Rotation: rot, Description: s.description}})
}

var secretID = regexp.MustCompile(`^(secret:)?(//[^/]+/)?[0-9a-v]{20}$`)

// looksLikeSecretID reports whether s is a secret URI or bare id rather
// than a content key.
func looksLikeSecretID(s string) bool {
	return strings.HasPrefix(s, "secret:") || secretID.MatchString(s)
}
