// Command dbbackup works with the database_backup relation interface from the
// command line: it validates databags and shows the merged job table.
//
// Exit codes: 0 success; 1 the input is invalid or the operation failed;
// 2 the command line is unusable (unknown command or flag, unreadable file).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes, documented in the package comment and in `dbbackup --help`.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"validate": {"check databags against the database_backup v0 rules", runValidate},
	"jobs":     {"print the merged job table of a manager unit's show-unit output", runJobs},
	"backup":   {"back up a database to S3 (streamed, compressed, checksummed, optionally encrypted)", runBackup},
	"restore":  {"restore a backup into a database, verified before a byte reaches it", runRestore},
	"list":     {"list the backups in a bucket, newest first, complete or incomplete", runList},
	"verify":   {"check a backup's manifest, key and checksums without a database", runVerify},
	"delete":   {"delete every object of one backup", runDelete},
}

func main() {
	stop := startProfile(os.Getenv("DBBACKUP_CPUPROFILE"), os.Args[1:])
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dbbackup: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: dbbackup COMMAND [FLAGS] [ARGS]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'dbbackup COMMAND --help' for a command's flags.\n\n"+
		"Exit codes: 0 success; 1 invalid input or failed operation; 2 unusable command line or unreadable file.\n")
}

// newFlags returns a flag set for a subcommand whose --help prints usage
// text followed by the flags.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: dbbackup %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(about))
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprint(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; it returns the exit code to stop with, or -1 to go on.
// --help goes to stdout and exits 0; a bad flag goes to stderr and exits 2.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	stderr := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	defer fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stdout.Write(buf.Bytes())
			return exitOK
		}
		stderr.Write(buf.Bytes())
		return exitUsage
	}
	return -1
}

// readInput reads a file argument; "-" is standard input.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
