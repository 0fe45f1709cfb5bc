package tool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

func sh(script string) Cmd {
	return Cmd{Path: "/bin/sh", Args: []string{"-c", script}}
}

func TestRunToolError(t *testing.T) {
	var log bytes.Buffer
	c := sh(`for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; echo "pg_dump: error: password hunter2 rejected" >&2; exit 3`)
	c.Log = &log
	c.Secrets = []string{"hunter2"}
	err := Run(context.Background(), c)
	var te *engine.ToolError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a ToolError", err)
	}
	if te.ExitCode != 3 {
		t.Errorf("got exit code %d, want 3", te.ExitCode)
	}
	want := "sh exited with status 3: line 4 | line 5 | line 6 | line 7 | pg_dump: error: password *** rejected"
	if got := err.Error(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if strings.Contains(log.String(), "hunter2") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("secret leaked: log %q", log.String())
	}
	if !strings.HasPrefix(log.String(), "line 1\n") {
		t.Errorf("log = %q, want every line", log.String())
	}
}

func TestRunStreams(t *testing.T) {
	in := strings.Repeat("0123456789", 100_000)
	var out bytes.Buffer
	c := sh(`cat`)
	c.Stdin = strings.NewReader(in)
	c.Stdout = &out
	if err := Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Errorf("got %d bytes back, want %d", out.Len(), len(in))
	}
}

// failingReader yields some data and then an error, like an artefact whose
// checksum did not match.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return copy(p, "INSERT 1;\n"), nil
	}
	time.Sleep(50 * time.Millisecond)
	return 0, errors.New("checksum mismatch")
}

func TestRunStdinReadErrorKillsBeforeEOF(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "committed")
	c := sh(`cat >/dev/null; touch ` + marker)
	c.Stdin = &failingReader{n: 3}
	err := Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("got %v, want the read error", err)
	}
	if _, statErr := os.Stat(marker); statErr == nil {
		t.Errorf("the tool saw end of input and went on: a truncated stream was taken as complete")
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("upload failed") }

func TestRunStdoutWriteError(t *testing.T) {
	c := sh(`yes`)
	c.Stdout = brokenWriter{}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), c) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "upload failed") {
			t.Fatalf("got %v, want the write error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop the tool after a write error")
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := Run(ctx, sh(`echo starting >&2; sleep 30`))
	var te *engine.ToolError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a ToolError wrapping the deadline", err)
	}
	if len(te.Tail) != 1 || te.Tail[0] != "starting" {
		t.Errorf("got tail %q, want [starting]", te.Tail)
	}
}

func TestRunNoStderr(t *testing.T) {
	err := Run(context.Background(), sh(`exit 1`))
	if got, want := err.Error(), "sh exited with status 1 (no output on stderr)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTailLongLine(t *testing.T) {
	tl := newTail(3, nil, nil)
	tl.consume(strings.NewReader(strings.Repeat("x", 3*maxLine) + "\nshort\nlast"))
	got := tl.lines()
	if len(got) != 3 || len(got[0]) != maxLine || got[1] != "short" || got[2] != "last" {
		t.Errorf("got %d lines (first %d bytes), want the long line cut to %d, 'short' and 'last'", len(got), len(got[0]), maxLine)
	}
}

func TestCounting(t *testing.T) {
	var seen []int64
	w := &CountingWriter{W: io.Discard, Progress: func(n int64) { seen = append(seen, n) }}
	_, _ = w.Write([]byte("abc"))
	_, _ = w.Write([]byte("de"))
	r := &CountingReader{R: strings.NewReader("hello")}
	_, _ = io.ReadAll(r)
	if w.N != 5 || r.N != 5 || len(seen) != 2 || seen[1] != 5 {
		t.Errorf("got writer %d reader %d progress %v, want 5 5 [3 5]", w.N, r.N, seen)
	}
}

// lateEOF yields its data, then waits before the end of input (or err),
// like an artefact reader checking the whole stream's digest at its end.
type lateEOF struct {
	data []byte
	wait time.Duration
	err  error
}

func (l *lateEOF) Read(p []byte) (int, error) {
	if len(l.data) > 0 {
		n := copy(p, l.data)
		l.data = l.data[n:]
		return n, nil
	}
	time.Sleep(l.wait)
	if l.err != nil {
		return 0, l.err
	}
	return 0, io.EOF
}

// TestRunToolDoneBeforeEndOfInput: a tool that exits 0 once it has what
// it needs, before the source says end of input (pg_restore after the
// archive's last entry), is a success; a source that fails at its end is
// still reported. A restore of a good backup at scale 50 failed with
// "close |1: file already closed": Wait had closed the stdin pipe that the
// feed closed after the late end of input.
func TestRunToolDoneBeforeEndOfInput(t *testing.T) {
	c := sh(`head -c 10 >/dev/null`)
	c.Stdin = &lateEOF{data: []byte("0123456789"), wait: 300 * time.Millisecond}
	if err := Run(context.Background(), c); err != nil {
		t.Fatalf("a tool done before end of input: %v, want success", err)
	}
	c.Stdin = &lateEOF{data: []byte("0123456789"), wait: 300 * time.Millisecond, err: errors.New("digest mismatch")}
	if err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("a source failing at its end after the tool was done: %v, want the read error", err)
	}
}
