// Command testsum reads `go test -json` output on stdin and prints what
// `go test` prints without -v (each package's result line and the output
// of every failed test), then every skipped test with its reason, which
// plain `go test` hides, and last the plain tally "test: N passed, N
// failed, N skipped" (every test and subtest). It exits 1 when a test was
// skipped and CI=true.
// Build errors and lines that are not JSON pass through.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type skip struct{ name, reason string }

// tally counts the tests (and subtests) that passed and failed.
type tally struct{ passed, failed int }

func main() {
	skips, n, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	fmt.Println()
	if len(skips) == 0 {
		fmt.Println("test: no test skipped")
	} else {
		fmt.Printf("test: %d skipped:\n", len(skips))
		for _, s := range skips {
			fmt.Printf("  %s: %s\n", s.name, s.reason)
		}
	}
	fmt.Printf("test: %d passed, %d failed, %d skipped\n", n.passed, n.failed, len(skips))
	if len(skips) > 0 && os.Getenv("CI") == "true" {
		fmt.Fprintln(os.Stderr, "test: CI=true and tests were skipped")
		os.Exit(1)
	}
}

// summarize copies the package lines and failed tests' output to w and
// returns the skipped tests and the tally of the others.
func summarize(r io.Reader, w io.Writer) ([]skip, tally, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	held := map[string][]string{}
	var skips []skip
	var n tally
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "fail" && e.Test == "":
			// A package that failed with tests still open (a panic, a
			// timeout): their output explains it.
			for k, lines := range held {
				if strings.HasPrefix(k, e.Package+" ") {
					for _, l := range lines {
						fmt.Fprint(w, l)
					}
					delete(held, k)
				}
			}
		case e.Action == "output" && e.Test == "":
			if line := strings.TrimRight(e.Output, "\n"); line != "PASS" && !strings.HasPrefix(line, "=== ") {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "fail" && e.Test != "":
			n.failed++
			for _, l := range held[key] {
				fmt.Fprint(w, l)
			}
			delete(held, key)
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, skip{e.Package + "." + e.Test, reason(held[key])})
			delete(held, key)
		case e.Action == "pass":
			if e.Test != "" {
				n.passed++
			}
			delete(held, key)
		}
	}
	return skips, n, sc.Err()
}

// reason is the last line a skipped test logged besides go test's own.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "--- ") && !strings.HasPrefix(l, "=== ") {
			return l
		}
	}
	return "(no reason given)"
}
