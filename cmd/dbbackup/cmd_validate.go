package main

import (
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/bagfile"
)

const validateAbout = `
Checks the jobs of one side of the database_backup v0 interface and prints
every problem at once, one per line, its JSON path first:

  jobs[1].storage-config.bucket: required

FILE is a databag as JSON or YAML ({"jobs": "..."}), a bare jobs array, or
the YAML that 'juju show-unit' prints. In show-unit output every databag of
the chosen side is checked and named: the requirer's jobs live in
application data, the provider's in unit data. '-' reads standard input.
Credentials never appear in the output.

FILE may be at most 16 MiB.

Exit codes: 0 valid; 1 invalid (or no databag of that side in FILE);
2 unusable command line (unknown side, not exactly one FILE, a FILE that
cannot be read or is over 16 MiB).`

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "--side requirer|provider FILE", validateAbout, stderr)
	side := fs.String("side", "", "which side wrote the databag: requirer or provider (required)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	s := dbbackup.Side(*side)
	if s != dbbackup.Requirer && s != dbbackup.Provider {
		fmt.Fprintf(stderr, "dbbackup validate: --side must be requirer or provider, got %q\n", *side)
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "dbbackup validate: want exactly one FILE ('-' for standard input), got %d argument(s)\n", fs.NArg())
		return exitUsage
	}
	data, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		return usageError(stderr, "validate", err)
	}
	bags, err := bagfile.Read(data)
	if err != nil {
		fmt.Fprintf(stdout, "%s: %v\n", fs.Arg(0), err)
		return exitFail
	}
	return validateBags(bags, s, stdout)
}

// validateBags checks the bags of side s and prints what it finds.
func validateBags(bags []bagfile.Bag, s dbbackup.Side, stdout io.Writer) int {
	want := bagfile.App
	if s == dbbackup.Provider {
		want = bagfile.Unit
	}
	var checked, jobs, bad int
	for _, b := range bags {
		if b.Kind != bagfile.Single && b.Kind != want {
			continue
		}
		checked++
		l := dbbackup.ParseJobs(b.Jobs, s)
		jobs += len(l.Entries)
		prefix := ""
		if b.Kind != bagfile.Single {
			prefix = b.Where + ": "
		}
		for _, p := range l.AllProblems() {
			bad++
			fmt.Fprintf(stdout, "%s%s\n", prefix, p)
		}
	}
	switch {
	case checked == 0:
		fmt.Fprintf(stdout, "no %s databag with jobs found (the %s writes jobs in %s data)\n", s, s, map[dbbackup.Side]string{dbbackup.Requirer: "application", dbbackup.Provider: "unit"}[s])
		return exitFail
	case bad > 0:
		return exitFail
	default:
		fmt.Fprintf(stdout, "valid: %d %s databag(s), %d job(s)\n", checked, s, jobs)
		return exitOK
	}
}
