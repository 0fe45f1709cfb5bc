package dbbackup

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	spec "github.com/dbbackup/dbbackup/interface/v0"
)

// schemas are our JSON Schemas (interface/v0), compiled once: the decoded
// jobs array and the raw databag of each side.
type schemas struct {
	jobs, databag map[Side]*jsonschema.Schema
}

var compiled = sync.OnceValues(compileSchemas)

// compileSchemas compiles $defs/jobs and $defs/databag of both schemas.
func compileSchemas() (*schemas, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2019)
	c.AssertContent() // the JSON-string shapes of tls-ca-chain, attributes and jobs
	ids := map[Side]string{Requirer: spec.RequirerID, Provider: spec.ProviderID}
	docs := map[Side][]byte{Requirer: spec.Requirer, Provider: spec.Provider}
	for side, id := range ids {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs[side]))
		if err != nil {
			return nil, fmt.Errorf("cannot read the %s schema: %w", side, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("cannot add the %s schema: %w", side, err)
		}
	}
	s := &schemas{jobs: map[Side]*jsonschema.Schema{}, databag: map[Side]*jsonschema.Schema{}}
	for side, id := range ids {
		var err error
		if s.jobs[side], err = c.Compile(id + "#/$defs/jobs"); err != nil {
			return nil, fmt.Errorf("cannot compile the %s schema: %w", side, err)
		}
		if s.databag[side], err = c.Compile(id + "#/$defs/databag"); err != nil {
			return nil, fmt.Errorf("cannot compile the %s databag schema: %w", side, err)
		}
	}
	return s, nil
}

// SchemaProblems validates jobs, a decoded jobs array (as returned by
// jsonschema.UnmarshalJSON, or json.Unmarshal into an any), against our JSON
// Schema for side (interface/v0). Problem paths are named as ParseJobs names
// them ("jobs[0].storage-config.bucket"); a missing field is reported at its
// object. Messages never quote a value. The error is for an unknown side or
// a schema that does not compile, never for an invalid value.
//
// The schema cannot see what JSON Schema cannot express, such as duplicate
// job-ids: ParseJobs is the validator; this is its published twin.
func SchemaProblems(side Side, jobs any) (Problems, error) {
	return validate(side, func(s *schemas) *jsonschema.Schema { return s.jobs[side] }, JobsKey, jobs)
}

// DatabagSchemaProblems validates a databag as Juju holds it (string keys
// to string values, jobs a JSON string) against $defs/databag of our schema
// for side. Paths are as in SchemaProblems, starting at the databag key.
func DatabagSchemaProblems(side Side, d Databag) (Problems, error) {
	doc := make(map[string]any, len(d))
	for k, v := range d {
		doc[k] = v
	}
	return validate(side, func(s *schemas) *jsonschema.Schema { return s.databag[side] }, "", doc)
}

// validate runs the schema pick chooses on instance and turns the
// validation error into problems, one per leaf, paths starting at root.
func validate(side Side, pick func(*schemas) *jsonschema.Schema, root string, instance any) (Problems, error) {
	s, err := compiled()
	if err != nil {
		return nil, err
	}
	sch := pick(s)
	if sch == nil {
		return nil, fmt.Errorf("cannot validate %s: unknown side %q", JobsKey, side)
	}
	err = sch.Validate(instance)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("cannot validate jobs: %w", err)
	}
	var out Problems
	collectLeaves(ve, func(e *jsonschema.ValidationError, loc []string) {
		out = append(out, Problem{Path: pathOf(root, instance, loc), Msg: schemaMessage(e.ErrorKind)})
	}, nil, nil)
	out = out.Sorted()
	// Drop exact repeats (anyOf branches can fail alike).
	uniq := out[:0]
	for i, p := range out {
		if i == 0 || p != out[i-1] {
			uniq = append(uniq, p)
		}
	}
	return uniq, nil
}

// collectLeaves calls leaf for every error without causes, with its
// instance location. Errors under a contentSchema are relative to the
// decoded string, so their locations are appended to the string's.
func collectLeaves(e *jsonschema.ValidationError, leaf func(*jsonschema.ValidationError, []string), base, parent []string) {
	loc := append(append([]string(nil), base...), e.InstanceLocation...)
	if _, ok := e.ErrorKind.(*kind.ContentSchema); ok {
		loc = contentLocation(e, parent)
		base = loc
	}
	if len(e.Causes) == 0 {
		leaf(e, loc)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, leaf, base, loc)
	}
}

// contentLocation returns where the string of a contentSchema error is.
// jsonschema v6.0.3 reports it in a slice whose length is right but whose
// elements may have been overwritten since (the validator reuses it), so
// it is rebuilt from the parent error's location and, when the parent is
// the object, the property the string's schema is at; every contentSchema
// in our schemas sits under "properties".
func contentLocation(e *jsonschema.ValidationError, parent []string) []string {
	loc := append([]string(nil), parent...)
	if len(loc) >= len(e.InstanceLocation) {
		return loc[:len(e.InstanceLocation)]
	}
	const props = "/properties/"
	i := strings.LastIndex(e.SchemaURL, props)
	if i < 0 {
		return loc
	}
	name, _, _ := strings.Cut(e.SchemaURL[i+len(props):], "/")
	name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
	return append(loc, name)
}

// pathOf names an instance location the way ParseJobs does: array indexes
// in brackets, object keys after dots. Inside a decoded JSON string the
// instance is not at hand, so a number there is taken as an index.
func pathOf(root string, instance any, loc []string) string {
	var b strings.Builder
	b.WriteString(root)
	cur := instance
	for _, tok := range loc {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			i, _ := strconv.Atoi(tok)
			cur = nil
			if i >= 0 && i < len(v) {
				cur = v[i]
			}
		case map[string]any:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			cur = v[tok]
		default:
			if _, err := strconv.Atoi(tok); err == nil {
				b.WriteString("[" + tok + "]")
			} else {
				b.WriteString("." + tok)
			}
			cur = nil
		}
	}
	return b.String()
}

var printer = message.NewPrinter(language.English)

// schemaMessage words an error kind without quoting the offending value,
// which may be a credential or an endpoint holding one.
func schemaMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return "does not match pattern " + strconv.Quote(k.Want)
	case *kind.ContentMediaType:
		return "holds a string that is not JSON"
	case *kind.AdditionalProperties:
		props := append([]string(nil), k.Properties...)
		sort.Strings(props)
		return "unknown field(s) " + strings.Join(props, ", ")
	case *kind.Not:
		return `must not contain ".." segments`
	default:
		return k.LocalizedString(printer)
	}
}
