// Command jujusim runs a scenario file against a Juju model in a box: it
// deploys the charms the file names, relates them, runs its steps (settle,
// config, actions, juju-exec, status...) and prints what they show.
//
//	jujusim run [-timeline] [-max-hooks N] SCENARIO.yaml
//
// It exits 1 when a step fails or a hook leaves a unit in error, after
// printing juju status (and the timeline with -timeline).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/dbbackup/dbbackup/jujusim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `Usage: jujusim run [-timeline] SCENARIO.yaml

Runs a scenario file against a Juju model in a box: deploys the charms the
file names, relates them, runs its steps and prints what they show.

Exit codes: 0 every step passed; 1 a step failed or a hook left a unit in
error (juju status is printed); 2 unusable command line.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return 0
	case "run":
	default:
		fmt.Fprintf(stderr, "jujusim: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	fs := flag.NewFlagSet("jujusim run", flag.ContinueOnError)
	var flagOut bytes.Buffer
	fs.SetOutput(&flagOut)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\nFlags:\n", usageText)
		fs.PrintDefaults()
	}
	timeline := fs.Bool("timeline", false, "print the timeline of hooks, tool calls and databag changes")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stdout.Write(flagOut.Bytes())
			return 0
		}
		stderr.Write(flagOut.Bytes())
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	s, err := jujusim.ReadScenario(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "jujusim:", err)
		return 1
	}
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "jujusim:", err)
		return 1
	}
	defer jujusim.RemoveBuiltTool()
	defer m.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = s.Run(ctx, m, stdout)
	if *timeline {
		fmt.Fprint(stdout, m.TimelineString())
	}
	if err != nil {
		fmt.Fprint(stdout, m.Status())
		fmt.Fprintln(stderr, "jujusim:", err)
		return 1
	}
	return 0
}
