package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A requirer may drop a finished job from its list at once (dbbackup's
// manager keeps its history elsewhere), and a provider then stops
// reporting it: between two steps of the kit the report can come and go.
// So the kit reads every version of a databag's jobs from the model's
// timeline, not only the latest.

// observed returns, for every job-id, the latest report of each provider
// unit that ever reported it, in the order the units first did.
func (k *kit) observed() map[string][]report {
	out := map[string][]report{}
	for _, u := range k.m.Units("provider") {
		for _, list := range k.versions(u) {
			for _, j := range list {
				id, _ := j["job-id"].(string)
				rs := out[id]
				i := 0
				for i < len(rs) && rs[i].unit != u {
					i++
				}
				if i == len(rs) {
					rs = append(rs, report{unit: u})
				}
				rs[i].job = j
				out[id] = rs
			}
		}
	}
	return out
}

// requestedEver returns the latest version of every job the requirer ever
// listed in its application databag.
func (k *kit) requestedEver() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, list := range k.versions("requirer") {
		for _, j := range list {
			id, _ := j["job-id"].(string)
			out[id] = j
		}
	}
	return out
}

// versions returns every value the jobs key of owner's databag on the
// kit's relation took, oldest first ("owner" a unit, or an application
// for its application databag).
func (k *kit) versions(owner string) [][]map[string]any {
	prefix := fmt.Sprintf("relation %d databag %s: ", k.rel, owner)
	var out [][]map[string]any
	for _, e := range k.m.Timeline() {
		if e.Kind != "data" || !strings.HasPrefix(e.Text, prefix) {
			continue
		}
		rest := e.Text[len(prefix):]
		for _, mark := range []string{"+jobs=", "~jobs="} {
			if strings.HasPrefix(rest, mark) || strings.Contains(rest, " "+mark) {
				at := strings.Index(rest, mark) + len(mark)
				var list []map[string]any
				if json.NewDecoder(strings.NewReader(rest[at:])).Decode(&list) == nil {
					out = append(out, list)
				}
			}
		}
	}
	return out
}
