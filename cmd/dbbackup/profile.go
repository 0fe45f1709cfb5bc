package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole command to path when path
// is set (DBBACKUP_CPUPROFILE, for performance work: see
// docs/performance.md), or to <path>/<command>-<pid>.prof when path is a
// folder; the returned function ends it.
func startProfile(path string, args []string) (stop func()) {
	if path == "" {
		return func() {}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		cmd := "dbbackup"
		if len(args) > 0 {
			cmd = filepath.Base(args[0])
		}
		path = filepath.Join(path, fmt.Sprintf("%s-%d.prof", cmd, os.Getpid()))
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dbbackup: DBBACKUP_CPUPROFILE: %v\n", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
