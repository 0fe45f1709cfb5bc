package tool

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Find returns the path of the first of names found in dir (when dir is
// not empty) or else on PATH.
func Find(dir string, names ...string) (string, error) {
	for _, n := range names {
		if dir != "" {
			p := filepath.Join(dir, n)
			if _, err := exec.LookPath(p); err == nil {
				return p, nil
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	where := "PATH"
	if dir != "" {
		where = dir
	}
	return "", fmt.Errorf("cannot find %s in %s", strings.Join(names, " or "), where)
}

// Version returns the first line of "path --version".
func Version(ctx context.Context, path string) (string, error) {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cannot get the version of %s: %w", filepath.Base(path), err)
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return strings.TrimSpace(string(line)), nil
}

// Output runs c and returns its stdout, for short queries.
func Output(ctx context.Context, c Cmd) (string, error) {
	var out bytes.Buffer
	c.Stdout = &out
	if err := Run(ctx, c); err != nil {
		return "", err
	}
	return out.String(), nil
}
