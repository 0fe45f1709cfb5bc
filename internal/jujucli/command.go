package jujucli

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// flags maps a command's flags (long and short forms) to whether each
// takes a value.
type flags map[string]bool

// global are the flags every model command takes.
var global = flags{"-m": true, "--model": true, "-B": false, "--no-browser-login": false,
	"-h": false, "--help": false, "--debug": false, "--verbose": false, "--quiet": false,
	"--show-log": false, "--logging-config": true}

// output are the flags of commands that print a result.
var output = flags{"--format": true, "-o": true, "--output": true, "--color": false, "--no-color": false}

// command is one juju subcommand: its flags besides the global ones and a
// check of its positional arguments (with the values of its flags).
type command struct {
	flags flags
	args  func(args []string, vals map[string][]string) error
}

func join(fs ...flags) flags {
	out := flags{}
	for _, f := range fs {
		for k, v := range f {
			out[k] = v
		}
	}
	return out
}

// commands are the Juju 3.x commands the checker knows, with their flags
// as `juju help <command>` lists them.
var commands = map[string]command{
	"deploy": {join(flags{"--config": true, "--channel": true, "--revision": true, "--base": true,
		"-n": true, "--num-units": true, "--to": true, "--constraints": true, "--bind": true,
		"--storage": true, "--resource": true, "--device": true, "--attach-storage": true,
		"--overlay": true, "--map-machines": true, "--trust": false, "--force": false, "--dry-run": false}), deployArgs},
	"integrate": {flags{"--via": true}, integrateArgs},
	"run": {join(output, flags{"--background": false, "--wait": true, "--params": true,
		"--string-args": false, "--utc": false}), runArgs},
	"config":        {join(output, flags{"--file": true, "--reset": true}), configArgs},
	"add-secret":    {flags{"--file": true, "--info": true}, addSecretArgs},
	"update-secret": {flags{"--file": true, "--info": true, "--name": true, "--auto-prune": false}, updateSecretArgs},
	"grant-secret":  {flags{}, grantSecretArgs},
	"status": {join(output, flags{"--relations": false, "--integrations": false, "--storage": false,
		"--watch": true, "--utc": false}), func([]string, map[string][]string) error { return nil }},
	"show-unit": {join(output, flags{"--app": false, "--endpoint": true, "--related-unit": true}), showUnitArgs},
	"debug-log": {join(output, flags{"--include": true, "--exclude": true, "--level": true,
		"--replay": false, "--no-tail": false, "--tail": false, "-n": true, "--lines": true,
		"--include-module": true, "--exclude-module": true, "--include-labels": true,
		"--exclude-labels": true, "--ms": false, "--utc": false, "--date": false, "--location": false}), noArgs},
	"resolve": {flags{"--no-retry": false, "--all": false}, resolveArgs},
	// The commands of docs/real-controller.md: a model to try in, and
	// reading a unit's logs and files.
	"add-model": {flags{"--config": true, "--credential": true, "--owner": true, "--no-switch": false,
		"-c": true, "--controller": true}, addModelArgs},
	"exec": {join(output, flags{"--all": false, "-a": true, "--app": true, "--application": true,
		"--machine": true, "-u": true, "--unit": true, "--timeout": true, "--operator": false}), execArgs},
	"scp": {flags{"--container": true, "--proxy": false, "--no-host-key-checks": false}, scpArgs},
	"show-status-log": {join(output, flags{"--days": true, "--from-date": true, "--include-status-updates": false,
		"-n": true, "--type": true, "--utc": false}), showStatusLogArgs},
}

// Charmhub names the docs deploy by name: the charms of the Juju
// ecosystem the backup charms relate to (and data-integrator, whose client
// account docs/real-controller.md writes test rows with). The backup charms themselves are
// not on Charmhub: they are deployed from the files `make charms` writes.
var charmhub = map[string]bool{"s3-integrator": true, "postgresql": true, "mysql": true, "grafana-agent": true,
	"data-integrator": true}

// local are the charm files `make charms` writes into dist/.
var local = map[string]bool{"database-backup-manager.charm": true, "database-backup-agent.charm": true,
	"database-backup-agent-subordinate.charm": true}

var (
	appName     = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`)
	endpoint    = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	unitName    = regexp.MustCompile(`^([a-z][a-z0-9-]*)/([0-9]+|leader)$`)
	actionName  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	optionKey   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`)
	paramKey    = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$`)
	secretName  = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	secretKey   = regexp.MustCompile(`^[a-z](-?[a-z0-9]){2,}(#base64|#file)?$`)
	secretID    = regexp.MustCompile(`^(secret:)?[0-9a-v]{20}$`)
	anotherPair = regexp.MustCompile(`\s[a-zA-Z][a-zA-Z0-9_-]*=`)
)

// placeholder reports whether word is a <placeholder> or contains one
// (such as secret:<id>): the docs' stand-in for a value of the user's.
func placeholder(word string) bool { return strings.Contains(word, "<") && strings.Contains(word, ">") }

func matches(re *regexp.Regexp, word string) bool { return placeholder(word) || re.MatchString(word) }

// pair splits key=value; ok is false without '='.
func pair(word string) (key, value string, ok bool) { return strings.Cut(word, "=") }

func deployArgs(args []string, vals map[string][]string) error {
	for _, c := range vals["--config"] {
		key, value, ok := pair(c)
		switch {
		case !ok && !strings.HasSuffix(c, ".yaml") && !strings.HasSuffix(c, ".yml") && !placeholder(c):
			return fmt.Errorf("--config %q is neither key=value nor a YAML file", c)
		case ok && !matches(optionKey, key):
			return fmt.Errorf("--config %q: %q is not an option name", c, key)
		case ok && anotherPair.MatchString(value):
			return fmt.Errorf("--config %q holds more than one key=value: give --config once per pair", c)
		}
	}
	for _, a := range args {
		if _, _, ok := pair(a); ok {
			return fmt.Errorf("%q: deploy takes no key=value arguments (Juju: unrecognized args); give --config %s", a, a)
		}
	}
	if len(args) == 0 || len(args) > 2 {
		return fmt.Errorf("deploy takes a charm and an optional application name, got %d arguments %q", len(args), args)
	}
	charm := args[0]
	switch {
	case strings.HasPrefix(charm, "./") || strings.HasPrefix(charm, "../") || strings.HasPrefix(charm, "/"):
		if !strings.HasSuffix(charm, ".charm") {
			return fmt.Errorf("deploy %s: a local charm is a .charm file", charm)
		}
		if strings.Contains(charm, "dist/") && !local[path.Base(charm)] {
			return fmt.Errorf("deploy %s: make charms writes no such file into dist/", charm)
		}
	case local[charm+".charm"]:
		return fmt.Errorf("deploy %s: Juju would look %s up on Charmhub, where it is not published; deploy ./dist/%s.charm", charm, charm, charm)
	case !charmhub[charm]:
		return fmt.Errorf("deploy %s: neither a path to a .charm file nor a Charmhub charm the backup charms relate to", charm)
	}
	if len(args) == 2 && !matches(appName, args[1]) {
		return fmt.Errorf("deploy: %q is not an application name", args[1])
	}
	return nil
}

func integrateArgs(args []string, _ map[string][]string) error {
	if len(args) != 2 {
		return fmt.Errorf("integrate takes two applications (app[:endpoint]), got %q", args)
	}
	for _, a := range args {
		app, ep, hasEP := strings.Cut(a, ":")
		if !matches(appName, app) || hasEP && !matches(endpoint, ep) {
			return fmt.Errorf("integrate: %q is not application[:endpoint]", a)
		}
	}
	return nil
}

func runArgs(args []string, _ map[string][]string) error {
	i := 0
	for ; i < len(args) && matches(unitName, args[i]) && strings.Contains(args[i], "/"); i++ {
	}
	if i == 0 {
		return fmt.Errorf("run: %q is not a unit (app/0 or app/leader)", first(args))
	}
	if i == len(args) {
		return fmt.Errorf("run: no action name after the units")
	}
	if !actionName.MatchString(args[i]) {
		return fmt.Errorf("run: %q is not an action name", args[i])
	}
	for _, p := range args[i+1:] {
		key, _, ok := pair(p)
		if !ok || !matches(paramKey, key) {
			return fmt.Errorf("run: %q after the action is not key=value", p)
		}
	}
	return nil
}

func configArgs(args []string, vals map[string][]string) error {
	if len(args) == 0 || !matches(appName, args[0]) {
		return fmt.Errorf("config: %q is not an application", first(args))
	}
	sets, gets := 0, 0
	for _, a := range args[1:] {
		key, _, ok := pair(a)
		if !matches(optionKey, key) {
			return fmt.Errorf("config: %q is not key=value or key", a)
		}
		if ok {
			sets++
		} else {
			gets++
		}
	}
	if gets > 1 || gets == 1 && (sets > 0 || len(vals["--file"]) > 0) {
		return fmt.Errorf("config: either get one key or set key=value pairs, not %q", args[1:])
	}
	return nil
}

func addSecretArgs(args []string, vals map[string][]string) error {
	if len(args) == 0 || !matches(secretName, args[0]) {
		return fmt.Errorf("add-secret: %q is not a secret name (lowercase letters, digits, dashes)", first(args))
	}
	if len(args) == 1 && len(vals["--file"]) == 0 {
		return fmt.Errorf("add-secret %s: no key=value content", args[0])
	}
	return secretContent("add-secret", args[1:])
}

// updateSecretArgs: a secret (name or id), then its new content as
// key=value pairs, unless --file or --info gives what changes.
func updateSecretArgs(args []string, vals map[string][]string) error {
	if len(args) == 0 || !matches(secretName, args[0]) && !secretID.MatchString(args[0]) {
		return fmt.Errorf("update-secret: %q is neither a secret name nor a secret id", first(args))
	}
	if len(args) == 1 && len(vals["--file"]) == 0 && len(vals["--info"]) == 0 && len(vals["--name"]) == 0 {
		return fmt.Errorf("update-secret %s: nothing to change (key=value content, --file, --info or --name)", args[0])
	}
	return secretContent("update-secret", args[1:])
}

// secretContent checks a secret's content given as key=value pairs.
func secretContent(cmd string, pairs []string) error {
	for _, a := range pairs {
		key, _, ok := pair(a)
		if !ok || !matches(secretKey, key) {
			return fmt.Errorf("%s: %q is not key=value with a key of three or more lowercase letters and digits", cmd, a)
		}
	}
	return nil
}

func grantSecretArgs(args []string, _ map[string][]string) error {
	if len(args) != 2 {
		return fmt.Errorf("grant-secret takes a secret and applications, got %q", args)
	}
	if !matches(secretName, args[0]) && !secretID.MatchString(args[0]) {
		return fmt.Errorf("grant-secret: %q is neither a secret name nor a secret id", args[0])
	}
	for _, app := range strings.Split(args[1], ",") {
		if !matches(appName, app) {
			return fmt.Errorf("grant-secret: %q is not an application", app)
		}
	}
	return nil
}

func showUnitArgs(args []string, _ map[string][]string) error {
	if len(args) != 1 || !matches(unitName, args[0]) || strings.HasSuffix(args[0], "/leader") {
		return fmt.Errorf("show-unit takes one unit (app/0), got %q", args)
	}
	return nil
}

func resolveArgs(args []string, vals map[string][]string) error {
	if len(args) == 0 && len(vals["--all"]) == 0 {
		return fmt.Errorf("resolve takes units or --all")
	}
	for _, a := range args {
		if !matches(unitName, a) {
			return fmt.Errorf("resolve: %q is not a unit", a)
		}
	}
	return nil
}

func addModelArgs(args []string, _ map[string][]string) error {
	if len(args) == 0 || len(args) > 2 || !matches(appName, args[0]) {
		return fmt.Errorf("add-model takes a model name and an optional cloud/region, got %q", args)
	}
	return nil
}

// execArgs: the targets are flags; the command comes after "--", so that
// its own flags are not read as juju's.
func execArgs(args []string, vals map[string][]string) error {
	targets := len(vals["--all"]) + len(vals["-a"]) + len(vals["--app"]) + len(vals["--application"]) +
		len(vals["--machine"]) + len(vals["-u"]) + len(vals["--unit"])
	if targets == 0 {
		return fmt.Errorf("exec needs a target: --unit, --application, --machine or --all")
	}
	for _, u := range append(vals["-u"], vals["--unit"]...) {
		for _, one := range strings.Split(u, ",") {
			if !matches(unitName, one) {
				return fmt.Errorf("exec: %q is not a unit", one)
			}
		}
	}
	if len(args) == 0 {
		return fmt.Errorf("exec: no command (give it after --)")
	}
	return nil
}

// scpArgs: sources then a destination, at least one of them on a unit
// (unit:path).
func scpArgs(args []string, _ map[string][]string) error {
	if len(args) < 2 {
		return fmt.Errorf("scp takes sources and a destination, got %q", args)
	}
	remote := 0
	for _, a := range args {
		if target, _, ok := strings.Cut(a, ":"); ok {
			if !matches(unitName, target) || strings.HasSuffix(target, "/leader") {
				return fmt.Errorf("scp: %q is not unit:path", a)
			}
			remote++
		}
	}
	if remote == 0 {
		return fmt.Errorf("scp: no unit:path among %q", args)
	}
	return nil
}

func showStatusLogArgs(args []string, _ map[string][]string) error {
	if len(args) != 1 || !matches(appName, args[0]) && !matches(unitName, args[0]) {
		return fmt.Errorf("show-status-log takes one unit or application, got %q", args)
	}
	return nil
}

func noArgs(args []string, _ map[string][]string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
