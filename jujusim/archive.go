package jujusim

import (
	"fmt"

	"github.com/dbbackup/dbbackup/charmpack"
)

// CharmFromArchive unpacks the .charm file at path (the zip Juju deploys:
// metadata.yaml, actions.yaml, config.yaml, manifest.yaml and dispatch)
// into dir, after checking it as Juju's archive reader does, and returns
// the charm to deploy from dir. The caller owns dir (t.TempDir(), say).
func CharmFromArchive(path, dir string) (Charm, error) {
	if err := charmpack.Extract(path, dir); err != nil {
		return Charm{}, fmt.Errorf("cannot deploy from %s: %w", path, err)
	}
	return Charm{Dir: dir}, nil
}
