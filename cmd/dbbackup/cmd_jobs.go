package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/bagfile"
	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/internal/secret"
)

const jobsAbout = `
Prints the merged job table of a relation from one snapshot: the jobs the
manager requests (application data) and what each provider unit reports
(unit data), as 'juju show-unit' of a manager unit prints them (any unit of
the relation will do; so will several FILEs). A requested job that no unit
reports yet shows as "waiting". Databag problems follow the table. '-'
reads standard input. Credentials never appear in the output. Each FILE may
be at most 16 MiB, all of them together 64 MiB.

Exit codes: 0 printed; 1 the document has no job databag or cannot be read
as one; 2 unusable command line (an unknown --format, no FILE, a FILE that
cannot be read or is over its bound).`

// jobRow is the JSON form of a row.
type jobRow struct {
	JobID        string `json:"job-id"`
	Type         string `json:"job-type"`
	Status       string `json:"status"`
	Unit         string `json:"unit,omitempty"`
	Application  string `json:"application,omitempty"`
	ArtefactPath string `json:"artefact-path,omitempty"`
	Message      string `json:"message,omitempty"`
	RelationID   int    `json:"relation-id"`
}

func runJobs(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("jobs", "[--format table|json] FILE...", jobsAbout, stderr)
	format := fs.String("format", "table", "output format: table or json")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "dbbackup jobs: --format must be table or json, got %q\n", *format)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "dbbackup jobs: want at least one FILE ('-' for standard input)")
		return exitUsage
	}
	var bags []bagfile.Bag
	var total int64
	for _, name := range fs.Args() {
		data, err := readInput(name, stdin)
		if err != nil {
			return usageError(stderr, "jobs", err)
		}
		if total += int64(len(data)); total > bounded.DatabagsTotal {
			return usageError(stderr, "jobs", &bounded.TooLargeError{Input: "the FILEs together", Limit: bounded.DatabagsTotal})
		}
		bs, err := bagfile.Read(data)
		if err != nil {
			fmt.Fprintf(stderr, "dbbackup jobs: %s: %v\n", name, err)
			return exitFail
		}
		bags = append(bags, bs...)
	}
	rows, problems := mergeBags(bags)
	if len(rows) == 0 && len(problems) == 0 {
		fmt.Fprintln(stderr, "dbbackup jobs: no job databag found (want the show-unit output of a unit of a database_backup relation)")
		return exitFail
	}
	if *format == "json" {
		return writeJSON(stdout, rows)
	}
	printJobs(stdout, rows)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	return exitOK
}

// mergeBags merges the bags relation by relation: application data is the
// manager's request, unit data a provider unit's report.
func mergeBags(bags []bagfile.Bag) ([]jobRow, []string) {
	type relation struct {
		requested dbbackup.List
		reports   map[string]dbbackup.List
	}
	rels := map[int]*relation{}
	var problems, secrets []string
	for _, b := range bags {
		r := rels[b.RelationID]
		if r == nil {
			r = &relation{reports: map[string]dbbackup.List{}}
			rels[b.RelationID] = r
		}
		switch b.Kind {
		case bagfile.App, bagfile.Single:
			l := dbbackup.ParseJobs(b.Jobs, dbbackup.Requirer)
			r.requested.Entries = append(r.requested.Entries, l.Entries...)
			for _, e := range l.Entries {
				secrets = append(secrets, e.Job.Storage.Secrets()...)
			}
			problems = appendProblems(problems, b.Where, l.AllProblems())
		case bagfile.Unit:
			l := dbbackup.ParseJobs(b.Jobs, dbbackup.Provider)
			r.reports[b.Unit] = l
			problems = appendProblems(problems, b.Where, l.AllProblems())
		}
	}
	ids := make([]int, 0, len(rels))
	for id := range rels {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var rows []jobRow
	for _, id := range ids {
		for _, r := range requirer.MergeDatabags(rels[id].requested, rels[id].reports) {
			rows = append(rows, jobRow{
				JobID: r.JobID, Type: string(r.Type), Status: string(r.Status), Unit: r.Unit,
				Application: r.Application, ArtefactPath: r.ArtefactPath,
				Message: secret.Scrub(r.Message, secrets), RelationID: id,
			})
		}
	}
	return rows, problems
}

func appendProblems(out []string, where string, ps dbbackup.Problems) []string {
	for _, p := range ps {
		out = append(out, "problem: "+where+": "+p.String())
	}
	return out
}

func printJobs(w io.Writer, rows []jobRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB ID\tTYPE\tSTATUS\tUNIT\tARTEFACT PATH\tMESSAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.JobID, orDash(r.Type), r.Status, orDash(r.Unit), orDash(r.ArtefactPath), orDash(oneLine(r.Message)))
	}
	tw.Flush()
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no jobs)")
	}
}

// oneLine keeps a message on one table line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
