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
	"context"
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

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "usage: jujusim run [-timeline] SCENARIO.yaml")
		return 2
	}
	fs := flag.NewFlagSet("jujusim run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeline := fs.Bool("timeline", false, "print the timeline of hooks, tool calls and databag changes")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: jujusim run [-timeline] SCENARIO.yaml")
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
