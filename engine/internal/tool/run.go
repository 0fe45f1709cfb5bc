// Package tool runs a database tool as a child process with its stdin and
// stdout as streams, its stderr as the job log, and its failure reported as
// an engine.ToolError that carries the last lines of that log.
package tool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// waitDelay bounds how long Run waits for the pipes after the tool ends or
// the context is cancelled.
const waitDelay = 10 * time.Second

// pipeSize is the buffer asked for the tool's stdin and stdout pipes, and
// the size of the reads and writes on them.
const pipeSize = 1 << 20

// Cmd describes one run of a tool.
type Cmd struct {
	// Path is the program to run; Args its arguments (no secrets here: the
	// command line is visible to every user of the machine).
	Path string
	Args []string
	// Env is added to the current environment (passwords go here).
	Env []string
	// Stdin, when set, is copied to the tool's stdin. If reading it fails,
	// the tool is killed before it sees end of input, so a truncated
	// stream is never taken for a complete one.
	Stdin io.Reader
	// Stdout, when set, receives the tool's stdout. If writing fails, the
	// tool is killed and Run returns the write error.
	Stdout io.Writer
	// Log receives stderr line by line; may be nil.
	Log io.Writer
	// Secrets are masked in every log line.
	Secrets []string
	// TailLines is how many of the last stderr lines to keep; 0 means 20.
	TailLines int
}

// Run runs c to its end. It returns nil when the tool exits 0 and every
// stream was copied; the stdin or stdout copy error when one failed; and an
// *engine.ToolError otherwise (also when ctx was cancelled: then it wraps
// ctx.Err()).
func Run(ctx context.Context, c Cmd) error {
	name := filepath.Base(c.Path)
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.WaitDelay = waitDelay
	// The tool runs in its own process group, so that killing it also
	// kills anything it started (a shell's children hold the pipes open),
	// and dies with us (see ChildAttr).
	cmd.SysProcAttr = ChildAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", name, err)
	}
	var stdout io.ReadCloser
	if c.Stdout != nil {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return fmt.Errorf("cannot run %s: %w", name, err)
		}
	}
	// The tool's stdin is a pipe of our own, not cmd.StdinPipe: Wait closes
	// the pipes it made once the tool exits, and a tool may exit, done,
	// before the source says end of input (pg_restore stops after the
	// archive's last entry), so feed's close would meet a file Wait
	// already closed and a good restore would be reported failed. Here
	// feed alone closes the writing end.
	var stdin, stdinRead *os.File
	if c.Stdin != nil {
		if stdinRead, stdin, err = os.Pipe(); err != nil {
			return fmt.Errorf("cannot run %s: %w", name, err)
		}
		cmd.Stdin = stdinRead
	}
	err = cmd.Start()
	if stdinRead != nil {
		stdinRead.Close() // the tool has its own copy
		if err != nil {
			stdin.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", name, err)
	}
	if f, ok := stdout.(syscall.Conn); ok {
		growPipe(f)
	}
	if stdin != nil {
		growPipe(stdin)
	}

	tail := newTail(c.TailLines, c.Log, c.Secrets)
	var (
		wg            sync.WaitGroup
		inErr, outErr error
	)
	wg.Go(func() { tail.consume(stderr) })
	if stdout != nil {
		wg.Go(func() {
			// Plain Read and Write, so that reads take what the grown
			// pipe holds rather than os.File's 32 KiB at a time.
			buf := make([]byte, pipeSize)
			if _, err := io.CopyBuffer(struct{ io.Writer }{c.Stdout}, struct{ io.Reader }{stdout}, buf); err != nil {
				outErr = err
				_ = killGroup(cmd.Process)
				_, _ = io.Copy(io.Discard, stdout)
			}
		})
	}
	var inDone sync.WaitGroup
	if stdin != nil {
		inDone.Go(func() {
			inErr = feed(stdin, c.Stdin, cmd.Process)
		})
	}
	wg.Wait()
	waitErr := cmd.Wait()
	inDone.Wait()

	switch {
	case inErr != nil:
		return fmt.Errorf("cannot read the stream for %s: %w", name, inErr)
	case outErr != nil:
		return fmt.Errorf("cannot write the output of %s: %w", name, outErr)
	case waitErr == nil:
		return nil
	}
	te := &engine.ToolError{Tool: name, ExitCode: -1, Tail: tail.lines(), Err: waitErr}
	if ctx.Err() != nil {
		te.Err = ctx.Err()
		return te
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) && ee.Exited() {
		te.ExitCode = ee.ExitCode()
	}
	return te
}

// feed copies src into the tool's stdin and closes it. A read failure
// kills the process first (SIGKILL is delivered before the tool can run
// again) and only then closes the pipe; a write failure (the tool stopped
// reading) is left for the tool's exit status to explain.
func feed(stdin io.WriteCloser, src io.Reader, p *os.Process) error {
	buf := make([]byte, pipeSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := stdin.Write(buf[:n]); werr != nil {
				// EPIPE: the tool stopped reading.
				_ = stdin.Close()
				return nil
			}
		}
		if err == io.EOF {
			return stdin.Close()
		}
		if err != nil {
			_ = killGroup(p)
			_ = stdin.Close()
			return err
		}
	}
}

// killGroup sends SIGKILL to the process group p leads. The signal is
// queued before kill returns: the tool does not run again.
func killGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
