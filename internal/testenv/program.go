package testenv

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
)

// T is what the starters need of their caller: *testing.T and *testing.B
// satisfy it, and so does Program, for a command (the demo) that starts the
// same real parts outside a test.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Program is a T for a command: Fatalf and Skipf stop the program (through
// Run), cleanups run in reverse order when Run returns, and temporary
// folders are removed.
type Program struct {
	mu       sync.Mutex
	cleanups []func()
	tempRoot string
}

var _ T = (*Program)(nil)

// programStop carries a Fatalf or Skipf out of the code it stops.
type programStop struct{ msg string }

// Run calls fn with a Program, runs its cleanups however fn ends, and
// returns fn's error, or the message of a Fatalf or Skipf as an error.
func Run(fn func(p *Program) error) (err error) {
	p := &Program{}
	defer p.cleanup()
	defer func() {
		if r := recover(); r != nil {
			stop, ok := r.(programStop)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", stop.msg)
		}
	}()
	return fn(p)
}

func (p *Program) cleanup() {
	p.mu.Lock()
	fns := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	if p.tempRoot != "" {
		_ = os.RemoveAll(p.tempRoot)
	}
}

// Helper does nothing: there is no test log to attribute lines in.
func (p *Program) Helper() {}

// Fatalf stops the program with the message.
func (p *Program) Fatalf(format string, args ...any) {
	panic(programStop{fmt.Sprintf(format, args...)})
}

// Skipf stops the program: a missing real part is an error for a command.
func (p *Program) Skipf(format string, args ...any) {
	panic(programStop{fmt.Sprintf(format, args...)})
}

// Logf prints to standard error.
func (p *Program) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// Cleanup registers fn to run when Run returns.
func (p *Program) Cleanup(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, fn)
}

// TempDir returns a new folder, removed when Run returns.
func (p *Program) TempDir() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tempRoot == "" {
		dir, err := os.MkdirTemp("", "dbbackup-demo-")
		if err != nil {
			panic(programStop{fmt.Sprintf("cannot make a temporary folder: %v", err)})
		}
		p.tempRoot = dir
	}
	dir, err := os.MkdirTemp(p.tempRoot, "t")
	if err != nil {
		panic(programStop{fmt.Sprintf("cannot make a temporary folder: %v", err)})
	}
	return dir
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// LoopbackAddr returns 127.0.0.1:PORT, the port free a moment ago.
func LoopbackAddr(t T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}
