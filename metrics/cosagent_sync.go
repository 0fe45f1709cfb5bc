package metrics

import "fmt"

// CosAgentEndpoint is the charms' endpoint of the cos_agent interface.
const CosAgentEndpoint = "cos-agent"

// CosAgentRelations is what SyncCosAgent needs of the hook tools: the
// cos-agent relations, this unit's databag on one, and a write of it (an
// empty value deletes its key).
type CosAgentRelations interface {
	IDs() ([]string, error)
	Get(id string) (map[string]string, error)
	Set(id string, data map[string]string) error
}

// SyncCosAgent brings this unit's databag on every cos-agent relation in
// line: CosAgentData of top and addr when the unit serves metrics, else
// no data (a unit that serves nothing must not be a scrape target, or the
// COS agent would report it down). Only a changed databag is written.
func SyncCosAgent(rel CosAgentRelations, top Topology, addr string, serves bool) error {
	ids, err := rel.IDs()
	if err != nil {
		return fmt.Errorf("cannot list the %s relations: %w", CosAgentEndpoint, err)
	}
	if len(ids) == 0 {
		return nil
	}
	want := map[string]string{CosAgentKey: ""}
	if serves {
		if want, err = CosAgentData(top, addr); err != nil {
			return fmt.Errorf("cannot publish to %s: %w", CosAgentEndpoint, err)
		}
	}
	for _, id := range ids {
		have, err := rel.Get(id)
		if err != nil {
			return fmt.Errorf("cannot read relation %s: %w", id, err)
		}
		if have[CosAgentKey] == want[CosAgentKey] {
			continue
		}
		if err := rel.Set(id, want); err != nil {
			return fmt.Errorf("cannot publish to relation %s: %w", id, err)
		}
	}
	return nil
}
