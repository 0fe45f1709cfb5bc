// Command charmpack builds the .charm file Juju deploys for each charm
// folder it is given, without charmcraft: it builds the charm's Go main
// package (parts.charm.source of its charmcraft.yaml, else the folder)
// for linux/amd64 and packs it with the split metadata (see package
// charmpack).
//
//	charmpack -o dist/ charms/database-backup-agent charms/database-backup-manager
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dbbackup/dbbackup/charmpack"
)

const usageText = `Usage: charmpack [-o dist] CHARM-FOLDER...

Builds the .charm file Juju deploys for each charm folder: the charm's Go
main package built for linux/amd64, packed with its split metadata. Prints
the path of each .charm file.

Exit codes: 0 packed; 1 a build or pack failed; 2 unusable command line.
`

// errUsage marks an unusable command line (exit 2).
var errUsage = errors.New("unusable command line")

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "charmpack:", err)
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	os.Exit(1)
}

// run packs the charm folders args names; --help prints the usage to
// stdout and packs nothing.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("charmpack", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "dist", "folder to write the .charm files to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "%s\nFlags:\n", usageText)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("%w: %v (see charmpack --help)", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no charm folder (usage: charmpack [-o dist] CHARM-FOLDER...)", errUsage)
	}
	tmp, err := os.MkdirTemp("", "charmpack-")
	if err != nil {
		return fmt.Errorf("cannot build charms: %w", err)
	}
	defer os.RemoveAll(tmp)
	bins := map[string]string{} // main package folder -> binary
	for _, dir := range fs.Args() {
		files, err := charmpack.ReadDir(dir)
		if err != nil {
			return err
		}
		pkg := filepath.Clean(filepath.Join(dir, files.Source))
		bin, ok := bins[pkg]
		if !ok {
			bin = filepath.Join(tmp, fmt.Sprintf("dispatch-%d", len(bins)))
			if err := build(ctx, pkg, bin); err != nil {
				return fmt.Errorf("cannot build charm %s: %w", files.Name, err)
			}
			bins[pkg] = bin
		}
		path, err := charmpack.Pack(dir, bin, *out)
		if err != nil {
			return err
		}
		if _, err := charmpack.Check(path); err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}

// build builds the Go main package in pkgDir as a static linux/amd64
// binary at bin.
func build(ctx context.Context, pkgDir, bin string) error {
	pkg := filepath.ToSlash(filepath.Clean(pkgDir))
	if !filepath.IsAbs(pkgDir) {
		pkg = "./" + pkg
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v: %s", pkg, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
