package bounded

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("a"), n), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sparse := filepath.Join(dir, "sparse")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 2<<30); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		path    string
		wantLen int
		tooBig  bool
		wantErr string
	}{
		{"empty", write("empty", 0), 0, false, ""},
		{"at the limit", write("at", 100), 100, false, ""},
		{"one over", write("over", 101), 0, true, "the test input is larger than 100 B (the limit for it)"},
		{"2 GiB sparse file", sparse, 0, true, "the test input is larger than 100 B"},
		{"device that never ends", "/dev/zero", 0, true, "the test input is larger than 100 B"},
		{"missing", filepath.Join(dir, "missing"), 0, false, "cannot read the test input: open "},
		{"folder", dir, 0, false, "cannot read the test input: read "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got, err := ReadFile(c.path, "the test input", 100)
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if c.wantErr == "" {
				if err != nil || len(got) != c.wantLen {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, c.wantLen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || got != nil {
				t.Fatalf("got %d bytes, %v; want error %q", len(got), err, c.wantErr)
			}
			var tl *TooLargeError
			if errors.Is(err, ErrTooLarge) != c.tooBig || errors.As(err, &tl) != c.tooBig {
				t.Fatalf("errors.Is(%v, ErrTooLarge) = %v, want %v", err, errors.Is(err, ErrTooLarge), c.tooBig)
			}
			if c.tooBig && (tl.Limit != 100 || tl.Input != "the test input") {
				t.Fatalf("TooLargeError = %+v", tl)
			}
		})
	}
}

// endless is a reader that never ends and counts what it gave.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadAllStopsAfterTheLimit(t *testing.T) {
	r := &endless{}
	_, err := ReadAll(r, "standard input", 1<<20)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "standard input is larger than 1.0 MiB") {
		t.Fatalf("err = %v", err)
	}
	if r.n > 2<<20 {
		t.Fatalf("read %d bytes from a reader bounded at 1 MiB", r.n)
	}
	got, err := ReadAll(io.LimitReader(r, 5), "standard input", 5)
	if err != nil || string(got) != "xxxxx" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCommands(t *testing.T) {
	c := Commands{Limit: 1 << 16}
	out, err := c.Run("sh", "-c", "printf '{\"a\":\"b\"}'")
	if err != nil || string(out) != `{"a":"b"}` {
		t.Fatalf("got %q, %v", out, err)
	}
	start := time.Now()
	out, err = c.Run("sh", "-c", "yes databag")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "the output of sh is larger than 64.0 KiB") || out != nil {
		t.Fatalf("an endless tool: got %d bytes, %v", len(out), err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the endless tool was not stopped at once: %s", time.Since(start))
	}
	_, err = c.Run("sh", "-c", "echo 'ERROR secret not found' >&2; exit 1")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("a failing tool: %v, want its standard error in the error", err)
	}
	if _, err := c.Run(filepath.Join(t.TempDir(), "no-such-tool")); err == nil || !strings.Contains(err.Error(), "cannot run") {
		t.Fatalf("a missing tool: %v", err)
	}
	// The default bound is HookToolOutput.
	if _, err := (Commands{}).Run("head", "-c", "8388609", "/dev/zero"); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "8.0 MiB") {
		t.Fatalf("8 MiB + 1 byte: %v", err)
	}
}
