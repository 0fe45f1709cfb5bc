package jujusim

import (
	"bytes"
	"fmt"
	"github.com/dbbackup/dbbackup/charmpack"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// ToolNames are the hook tools jujusim installs, each a symlink to jujuc.
var ToolNames = []string{
	"action-fail", "action-get", "action-log", "action-set",
	"application-version-set", "close-port", "config-get",
	"is-leader", "juju-exec", "juju-log", "network-get", "open-port", "opened-ports",
	"relation-get", "relation-ids", "relation-list", "relation-model-get", "relation-set",
	"secret-add", "secret-get", "secret-grant", "secret-ids", "secret-info-get",
	"secret-remove", "secret-revoke", "secret-set",
	"state-delete", "state-get", "state-set", "status-get", "status-set", "unit-get",
}

// ToolPackage is the import path of the hook tool binary.
const ToolPackage = "github.com/dbbackup/dbbackup/cmd/jujuc"

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// BuildTool returns the hook tool binary: $JUJUSIM_TOOL when set (a jujuc
// built beforehand), else cmd/jujuc built once per process into a temporary
// folder that RemoveBuiltTool deletes. Building runs `go build`, so the
// working directory must be inside this module; the go build cache makes it
// quick after the first time.
func BuildTool() (string, error) {
	if p := os.Getenv("JUJUSIM_TOOL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("cannot use JUJUSIM_TOOL: %w", err)
		}
		return p, nil
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jujusim-tool-")
		if err != nil {
			buildOnce.err = fmt.Errorf("cannot build jujuc: %w", err)
			return
		}
		out := filepath.Join(dir, "jujuc")
		cmd := exec.Command("go", "build", "-o", out, ToolPackage)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			buildOnce.err = fmt.Errorf("cannot build jujuc: %v: %s", err, stderr.String())
			return
		}
		buildOnce.path = out
	})
	return buildOnce.path, buildOnce.err
}

var charmBuilds struct {
	sync.Mutex
	dir      string
	bins     map[string]string
	archives map[string]string
}

// BuildCharm builds the Go package pkg (a charm's main package, such as
// "./testdata/mycharm" relative to the working directory, or an import
// path) once per process and returns the binary, to pass as Charm.Binary.
// RemoveBuiltTool deletes it.
func BuildCharm(pkg string) (string, error) {
	charmBuilds.Lock()
	defer charmBuilds.Unlock()
	if bin, ok := charmBuilds.bins[pkg]; ok {
		return bin, nil
	}
	if charmBuilds.dir == "" {
		dir, err := os.MkdirTemp("", "jujusim-charms-")
		if err != nil {
			return "", fmt.Errorf("cannot build charm %s: %w", pkg, err)
		}
		charmBuilds.dir, charmBuilds.bins, charmBuilds.archives = dir, map[string]string{}, map[string]string{}
	}
	bin := filepath.Join(charmBuilds.dir, fmt.Sprintf("charm-%d", len(charmBuilds.bins)))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cannot build charm %s: %v: %s", pkg, err, stderr.String())
	}
	charmBuilds.bins[pkg] = bin
	return bin, nil
}

// RemoveBuiltTool deletes the jujuc BuildTool built and the charms
// BuildCharm built, once no model uses them (call it from TestMain after
// m.Run).
func RemoveBuiltTool() {
	if buildOnce.path != "" {
		os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	charmBuilds.Lock()
	defer charmBuilds.Unlock()
	if charmBuilds.dir != "" {
		os.RemoveAll(charmBuilds.dir)
		charmBuilds.dir, charmBuilds.bins, charmBuilds.archives = "", nil, nil
	}
}

// installTools makes dir hold one symlink per hook tool to the jujuc binary.
func installTools(bin, dir string) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("cannot install hook tools: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot install hook tools: %w", err)
	}
	for _, name := range ToolNames {
		if err := os.Symlink(abs, filepath.Join(dir, name)); err != nil && !os.IsExist(err) {
			return fmt.Errorf("cannot install hook tool %s: %w", name, err)
		}
	}
	return nil
}

// PackCharm builds the charm in folder dir (BuildCharm, of the Go package
// its charmcraft.yaml's parts.charm.source names) and packs it, as
// `make charms` does, into a .charm file, once per process; it returns the
// file's path, to deploy with CharmFromArchive. RemoveBuiltTool deletes it.
func PackCharm(dir string) (string, error) {
	files, err := charmpack.ReadDir(dir)
	if err != nil {
		return "", err
	}
	bin, err := BuildCharm(filepath.Clean(filepath.Join(dir, files.Source)))
	if err != nil {
		return "", err
	}
	charmBuilds.Lock()
	defer charmBuilds.Unlock()
	if p, ok := charmBuilds.archives[dir]; ok {
		return p, nil
	}
	out := filepath.Join(charmBuilds.dir, fmt.Sprintf("archive-%d", len(charmBuilds.archives)))
	p, err := charmpack.Pack(dir, bin, out)
	if err != nil {
		return "", fmt.Errorf("cannot pack charm %s: %w", dir, err)
	}
	charmBuilds.archives[dir] = p
	return p, nil
}
