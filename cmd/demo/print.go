package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dbbackup/dbbackup/jujusim"
)

// printResults prints action results as `juju run` does: YAML, sorted
// keys, multi-line values as blocks.
func printResults(w io.Writer, results map[string]any) {
	for _, k := range sortedKeys(results) {
		v := fmt.Sprint(results[k])
		if strings.Contains(v, "\n") {
			fmt.Fprintf(w, "%s: |\n", k)
			for _, line := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
				fmt.Fprintf(w, "  %s\n", line)
			}
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", k, v)
	}
}

// printStatus prints the applications and units as `juju status` does.
func printStatus(w io.Writer, m *jujusim.Model, apps []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "App\tStatus\tScale\tMessage")
	for _, a := range apps {
		st, msg := m.AppStatus(a)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", a, st, len(m.Units(a)), msg)
	}
	fmt.Fprintln(tw, "\t\t\t")
	fmt.Fprintln(tw, "Unit\tWorkload\tAgent\tMessage")
	for _, a := range apps {
		for _, u := range m.Units(a) {
			st, msg := m.UnitStatus(u)
			name := u
			if m.Leader(a) == u {
				name += "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, st, "idle", msg)
		}
	}
	tw.Flush()
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
