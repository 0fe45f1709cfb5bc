// Package bagfile reads the documents people hand to the dbbackup command:
// one databag as JSON or YAML ({"jobs": "..."}), a bare jobs array, or the
// YAML (or JSON) that `juju show-unit` prints, from which it extracts every
// databag holding jobs.
//
// In a show-unit document the side of a databag is told by where it sits,
// not by which way Juju orients the output (Juju 3 shows the remote
// application's data, Juju 4 the local one): the requirer writes jobs only
// in its application databag and the provider only in unit databags, so
// application-data is requirer data and local-unit or related-units data is
// provider data.
package bagfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Kind says where a databag was found.
type Kind int

// The places a databag can come from.
const (
	// Single is a file that is one databag (or a bare jobs array).
	Single Kind = iota
	// App is an application databag of a show-unit document (requirer data).
	App
	// Unit is a unit databag of a show-unit document (provider data).
	Unit
)

// Bag is one databag found in a document.
type Bag struct {
	// Kind is where it was found.
	Kind Kind
	// Where names it for a person: "postgresql/0 (relation 3, database-backup)".
	Where string
	// Unit is the unit that wrote it, for unit databags.
	Unit string
	// RelationID is the relation's id in a show-unit document, or -1.
	RelationID int
	// Jobs is the jobs field as text (a decoded array is re-encoded).
	Jobs string
	// HasJobs reports whether the databag has a jobs field at all.
	HasJobs bool
}

// Read parses a document and returns its databags, in document order.
// A single databag or jobs array yields one Bag of kind Single.
func Read(data []byte) ([]Bag, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// A bare jobs array is left to the jobs parser, whose errors give
		// the byte offset of invalid JSON.
		return []Bag{{Kind: Single, Where: "jobs array", RelationID: -1, Jobs: string(data), HasJobs: true}}, nil
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if len(trimmed) > 0 && trimmed[0] == '{' {
			var obj map[string]any
			if jerr := json.Unmarshal(data, &obj); jerr != nil {
				return nil, fmt.Errorf("cannot read the document as JSON: %s", jsonError(jerr))
			}
		}
		return nil, fmt.Errorf("cannot read the document as JSON or YAML: %v", err)
	}
	switch d := doc.(type) {
	case []any:
		text, err := encode(d)
		if err != nil {
			return nil, err
		}
		return []Bag{{Kind: Single, Where: "jobs array", RelationID: -1, Jobs: text, HasJobs: true}}, nil
	case map[string]any:
		if _, ok := d["jobs"]; ok {
			b, err := single(d)
			if err != nil {
				return nil, err
			}
			return []Bag{b}, nil
		}
		if ri, ok := d["relation-info"]; ok {
			return relationInfo("", ri)
		}
		var bags []Bag
		for _, unit := range sortedKeys(d) {
			u, ok := d[unit].(map[string]any)
			if !ok {
				continue
			}
			if ri, ok := u["relation-info"]; ok {
				bs, err := relationInfo(unit, ri)
				if err != nil {
					return nil, err
				}
				bags = append(bags, bs...)
			}
		}
		if len(bags) == 0 {
			return nil, fmt.Errorf("found neither a jobs field nor a show-unit relation-info")
		}
		return bags, nil
	case nil:
		return nil, fmt.Errorf("the document is empty")
	default:
		return nil, fmt.Errorf("the document is a %T, want a databag, a jobs array or show-unit output", doc)
	}
}

// jsonError explains a JSON syntax error with its byte offset.
func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", max(syn.Offset-1, 0), syn)
	}
	return err.Error()
}

// single reads a one-databag document.
func single(d map[string]any) (Bag, error) {
	b := Bag{Kind: Single, Where: "databag", RelationID: -1, HasJobs: true}
	text, err := jobsText(d["jobs"])
	if err != nil {
		return b, err
	}
	b.Jobs = text
	return b, nil
}

// relationInfo reads the relation-info list of one unit.
func relationInfo(unit string, ri any) ([]Bag, error) {
	list, ok := ri.([]any)
	if !ok {
		return nil, fmt.Errorf("relation-info of %s: want a list", orLocal(unit))
	}
	var bags []Bag
	for i, item := range list {
		rel, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("relation-info[%d] of %s: want a mapping", i, orLocal(unit))
		}
		id := -1
		if n, ok := rel["relation-id"].(int); ok {
			id = n
		}
		endpoint, _ := rel["endpoint"].(string)
		label := relLabel(id, endpoint)
		// Juju 3 prints application-data; the seed's example misspells it.
		for _, key := range []string{"application-data", "applcation-data"} {
			if bag, ok := rel[key].(map[string]any); ok {
				b, err := fromData(App, "application data seen by "+orLocal(unit)+label, "", id, bag)
				if err != nil {
					return nil, err
				}
				bags = appendIfJobs(bags, b)
			}
		}
		if lu, ok := rel["local-unit"].(map[string]any); ok {
			if data, ok := lu["data"].(map[string]any); ok {
				b, err := fromData(Unit, orLocal(unit)+label, unit, id, data)
				if err != nil {
					return nil, err
				}
				bags = appendIfJobs(bags, b)
			}
		}
		if ru, ok := rel["related-units"].(map[string]any); ok {
			for _, name := range sortedKeys(ru) {
				u, _ := ru[name].(map[string]any)
				data, _ := u["data"].(map[string]any)
				if data == nil {
					continue
				}
				b, err := fromData(Unit, name+label, name, id, data)
				if err != nil {
					return nil, err
				}
				bags = appendIfJobs(bags, b)
			}
		}
	}
	return bags, nil
}

func appendIfJobs(bags []Bag, b Bag) []Bag {
	if b.HasJobs {
		return append(bags, b)
	}
	return bags
}

// fromData builds a Bag from a databag mapping.
func fromData(kind Kind, where, unit string, id int, data map[string]any) (Bag, error) {
	b := Bag{Kind: kind, Where: where, Unit: unit, RelationID: id}
	v, ok := data["jobs"]
	if !ok {
		return b, nil
	}
	text, err := jobsText(v)
	if err != nil {
		return b, fmt.Errorf("%s: %w", where, err)
	}
	b.Jobs, b.HasJobs = text, true
	return b, nil
}

// jobsText returns the jobs field as text: a string as it is, a decoded
// array re-encoded as JSON.
func jobsText(v any) (string, error) {
	switch j := v.(type) {
	case string:
		return j, nil
	case []any:
		return encode(j)
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("jobs: must be a string holding a JSON array, got %T", v)
	}
}

// encode writes a decoded YAML or JSON value as JSON.
func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("jobs: cannot re-encode as JSON: %v", err)
	}
	return string(b), nil
}

func relLabel(id int, endpoint string) string {
	switch {
	case id >= 0 && endpoint != "":
		return fmt.Sprintf(" (relation %d, %s)", id, endpoint)
	case endpoint != "":
		return " (" + endpoint + ")"
	default:
		return ""
	}
}

func orLocal(unit string) string {
	if unit == "" {
		return "the local unit"
	}
	return unit
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
