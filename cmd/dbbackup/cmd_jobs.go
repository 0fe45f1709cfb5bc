package main

import (
	"fmt"
	"io"
)

func runJobs(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "dbbackup jobs: not yet available")
	return exitFail
}
