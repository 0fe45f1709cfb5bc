// Command dbbackup works with the database_backup relation interface from the
// command line: it validates databags and shows the merged job table; it
// backs up, lists, verifies, restores and deletes backups; and it archives
// PostgreSQL's WAL and restores to a point in time.
//
// Exit codes, one rule for every command:
//
//   - 0: success.
//   - 1: the operation was refused or failed: an invalid databag, a damaged
//     or incomplete backup, a wrong key, a database or S3 error.
//   - 2: the command line is unusable: an unknown command or flag, a missing
//     required flag, an invalid flag value (--engine, --database-url,
//     --job-id, --scope, --artefact-path, --side, --format...), arguments a
//     command does not take, or a file named on it that cannot be read or
//     is larger than its bound.
//
// One exception: wal-fetch, the restore_command of a point-in-time
// restore, exits 126 for a WAL file that exists but cannot be fetched or
// verified: PostgreSQL stops the recovery on an exit above 125, where 1
// would end it early at a point the archive goes beyond.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/internal/bounded"
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
	"validate":       {"check databags against the database_backup v0 rules", runValidate},
	"jobs":           {"print the merged job table of a manager unit's show-unit output", runJobs},
	"backup":         {"back up a database to S3 (streamed, compressed, checksummed, optionally encrypted)", runBackup},
	"restore":        {"restore a backup into a database, verified before a byte reaches it", runRestore},
	"list":           {"list the backups in a bucket, newest first, complete or incomplete", runList},
	"verify":         {"check a backup's manifest, key and checksums without a database", runVerify},
	"delete":         {"delete every object of one backup", runDelete},
	"archive-binlog": {"archive a MariaDB server's binary logs to S3 until stopped, for restores to a time", runArchiveBinlog},
	"archive-wal":    {"archive a PostgreSQL server's WAL to S3 continuously, for point-in-time restores", runArchiveWAL},
	"wal-fetch":      {"fetch one archived WAL file (the restore_command of a point-in-time restore)", runWALFetch},
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
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'dbbackup COMMAND --help' for a command's flags.\n\n"+exitCodesText)
}

// exitCodesText states the exit-code rule every command follows.
const exitCodesText = `Exit codes, for every command:
  0  success
  1  the operation was refused or failed: an invalid databag, a damaged or
     incomplete backup, a wrong key, a database or S3 error
  2  the command line is unusable: an unknown command or flag, a missing
     required flag, an invalid flag value, arguments the command does not
     take, or a file named on it that cannot be read or is over its size
     limit (storage configuration 1 MiB, databag document 16 MiB)
One exception: wal-fetch, PostgreSQL's restore_command, exits 126 when a
WAL file exists but cannot be fetched or verified, so that the recovery
stops instead of ending early (1 means the file is not in the archive).
`

// takesArgs names the commands that take positional arguments; every
// other command refuses them.
var takesArgs = map[string]bool{"validate": true, "jobs": true, "wal-fetch": true}

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
// --help goes to stdout and exits 0; a bad flag goes to stderr and exits 2,
// and so do positional arguments given to a command that takes none.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) int {
	if code := parseOnly(fs, args, stdout); code >= 0 {
		return code
	}
	if !takesArgs[fs.Name()] {
		return refuseArgs(fs)
	}
	return -1
}

// refuseArgs returns exitUsage, after naming them, when fs was given
// positional arguments, or -1.
func refuseArgs(fs *flag.FlagSet) int {
	if fs.NArg() == 0 {
		return -1
	}
	quoted := make([]string, fs.NArg())
	for i, a := range fs.Args() {
		quoted[i] = strconv.Quote(a)
	}
	fmt.Fprintf(fs.Output(), "dbbackup %s: unexpected argument(s) %s (flags go before them; see 'dbbackup %s --help')\n", fs.Name(), strings.Join(quoted, " "), fs.Name())
	return exitUsage
}

// usageError prints err for command cmd and returns exitUsage.
func usageError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "dbbackup %s: %v\n", cmd, err)
	return exitUsage
}

// parseOnly parses args without looking at positional arguments.
func parseOnly(fs *flag.FlagSet, args []string, stdout io.Writer) int {
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

// readInput reads a databag document named on the command line, "-" for
// standard input, with the bound bounded.Databags; its errors name it.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return bounded.ReadAll(stdin, "standard input", bounded.Databags)
	}
	return bounded.ReadFile(name, name, bounded.Databags)
}
