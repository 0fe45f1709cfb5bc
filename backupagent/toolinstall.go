package backupagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// Installer installs Debian/Ubuntu packages with apt-get, as the agent's
// install, upgrade-charm and config-changed hooks do when Find names
// tools that are missing or too old. It installs only the packages named,
// with --no-install-recommends and --no-upgrade (nothing already
// installed changes).
type Installer struct {
	// Run runs a command; exec with the output in the error when nil.
	Run func(ctx context.Context, argv ...string) error
	// OSRelease is the os-release file; /etc/os-release when empty.
	OSRelease string
}

var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)

// Install installs pkgs on a Debian or Ubuntu machine: apt-get update,
// then apt-get install. Elsewhere it installs nothing and says so.
func (in Installer) Install(ctx context.Context, pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	for _, p := range pkgs {
		if !packageName.MatchString(p) {
			return fmt.Errorf("cannot install %q: not a package name", p)
		}
	}
	osr := in.OSRelease
	if osr == "" {
		osr = "/etc/os-release"
	}
	data, err := os.ReadFile(osr)
	if err != nil {
		return fmt.Errorf("cannot install %s: %w", strings.Join(pkgs, " "), err)
	}
	if !debianLike(string(data)) {
		return fmt.Errorf("cannot install %s: not a Debian or Ubuntu machine", strings.Join(pkgs, " "))
	}
	run := in.Run
	if run == nil {
		run = runCommand
	}
	if err := run(ctx, "apt-get", "update", "-q"); err != nil {
		return fmt.Errorf("cannot install %s: %w", strings.Join(pkgs, " "), err)
	}
	argv := append([]string{"apt-get", "install", "-y", "-q", "--no-install-recommends", "--no-upgrade"}, pkgs...)
	if err := run(ctx, argv...); err != nil {
		return fmt.Errorf("cannot install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

// debianLike reports whether an os-release file names Debian or Ubuntu
// (ID or ID_LIKE).
func debianLike(osRelease string) bool {
	for _, line := range strings.Split(osRelease, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || k != "ID" && k != "ID_LIKE" {
			continue
		}
		for _, id := range strings.Fields(strings.Trim(v, `"'`)) {
			if id == "debian" || id == "ubuntu" {
				return true
			}
		}
	}
	return false
}

func runCommand(ctx context.Context, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(tail, '\n'); i >= 0 {
			tail = tail[i+1:]
		}
		return fmt.Errorf("%s: %w: %s", strings.Join(argv[:2], " "), err, tail)
	}
	return nil
}

// WithToolsInstalling is WithTools that, when the tools are missing or too
// old, installs the packages its error names with in and looks again. The
// error, when the tools are still not there, says what the install did.
func WithToolsInstalling(ctx context.Context, db Database, f ToolFinder, in Installer) (Database, error) {
	out, err := WithTools(ctx, db, f)
	var te *ToolsError
	if !errors.As(err, &te) {
		return out, err
	}
	if ierr := in.Install(ctx, te.Packages); ierr != nil {
		return out, fmt.Errorf("%w (%v)", err, ierr)
	}
	return WithTools(ctx, db, f)
}
