// Command jujuc is jujusim's hook tool binary. Installed under each hook
// tool's name (relation-get, status-set, juju-exec, ...) as symlinks to one
// file, it forwards its name, arguments and standard input to the jujusim
// harness over the unix socket named by JUJU_AGENT_SOCKET_ADDRESS (or
// JUJUSIM_SOCKET for juju-exec outside a hook), with the hook's
// JUJU_CONTEXT_ID, and prints the answer.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/jujusim/wire"
)

// stdinLimit bounds what a tool reads on standard input (relation-set
// --file -): twice the bound of what a charm reads back with relation-get.
const stdinLimit = 2 * bounded.HookToolOutput

// binaryName is the file's own name; run under it, jujuc is no hook tool.
const binaryName = "jujuc"

const usageText = `Usage: TOOL [ARGS] (jujuc installed as relation-get, status-set, juju-exec...)

jujuc is jujusim's hook tool binary: installed under each hook tool's name
as a symlink, it forwards the tool's name, arguments and standard input to
the jujusim harness over the socket in JUJU_AGENT_SOCKET_ADDRESS (or
JUJUSIM_SOCKET for juju-exec outside a hook) and prints the answer. Run as
jujuc it only prints this text.

Exit codes: the tool's own; 1 the harness cannot be reached; 2 run as
jujuc with anything but --help.
`

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	tool := filepath.Base(argv[0])
	args := argv[1:]
	if tool == binaryName {
		// Run by its own name, not as a hook tool: it only explains itself.
		if len(args) == 1 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0]) {
			fmt.Fprint(stdout, usageText)
			return 0
		}
		fmt.Fprint(stderr, usageText)
		return 2
	}
	req := wire.Request{Tool: tool, Args: args, ContextID: os.Getenv("JUJU_CONTEXT_ID")}
	req.Dir, _ = os.Getwd()
	addr := os.Getenv("JUJU_AGENT_SOCKET_ADDRESS")
	timeout := 30 * time.Second
	if tool == "juju-exec" {
		if req.ContextID != "" {
			fmt.Fprintln(stderr, "ERROR juju-exec cannot be called from within a hook, have context \""+req.ContextID+"\"")
			return 1
		}
		addr = os.Getenv("JUJUSIM_SOCKET")
		timeout = 10 * time.Minute
	}
	if addr == "" {
		fmt.Fprintf(stderr, "ERROR %s: no jujusim agent socket in the environment\n", tool)
		return 1
	}
	if wantsStdin(args) {
		b, err := bounded.ReadAll(stdin, "standard input", stdinLimit)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR %v\n", err)
			return 1
		}
		req.Stdin = b
	}
	resp, err := wire.Call(addr, req, timeout)
	if err != nil {
		fmt.Fprintf(stderr, "ERROR %v\n", err)
		return 1
	}
	_, _ = stdout.Write(resp.Stdout)
	_, _ = stderr.Write(resp.Stderr)
	return resp.Code
}

// wantsStdin reports whether an argument names standard input as a file.
func wantsStdin(args []string) bool {
	for i, a := range args {
		if a == "--file=-" || (a == "--file" && i+1 < len(args) && args[i+1] == "-") {
			return true
		}
	}
	return slices.Contains(args, "--stdin")
}
