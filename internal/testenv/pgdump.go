package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Dump returns database db as pg_dump writes it in plain SQL, schema and
// data, made comparable: the lines that differ between two dumps of the
// same content are gone (the versions, the \restrict key) and the rows of
// each COPY block are sorted, since their order is the table's physical
// order. Two databases with the same Dump hold the same objects, owners,
// privileges, comments, rows and sequence values.
func (p *Postgres) Dump(t T, db string) string {
	t.Helper()
	return normalizeDump(p.tool(t, "pg_dump", db, "--format=plain"))
}

// DumpCluster returns the server as pg_dumpall --globals-only writes its
// roles and tablespaces (less the line of the connecting role, whose
// password the tests change), then the Dump of every database users can
// connect to, templates excluded, each under a "-- DATABASE name" line.
func (p *Postgres) DumpCluster(t T) string {
	t.Helper()
	var b strings.Builder
	own := []string{"ALTER ROLE " + p.User + " WITH ", `ALTER ROLE "` + p.User + `" WITH `}
	for _, line := range strings.SplitAfter(normalizeDump(p.tool(t, "pg_dumpall", "postgres", "--globals-only")), "\n") {
		if !strings.HasPrefix(line, own[0]) && !strings.HasPrefix(line, own[1]) {
			b.WriteString(line)
		}
	}
	out := p.tool(t, "psql", "postgres", "-X", "-q", "-A", "-t", "-z", "-0", "-c",
		"SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")
	for _, db := range strings.Split(out, "\x00") {
		if db = strings.TrimSuffix(db, "\n"); db != "" {
			fmt.Fprintf(&b, "\n-- DATABASE %s\n%s", db, p.Dump(t, db))
		}
	}
	return b.String()
}

// tool runs one of the client tools against database db (named in the
// environment, so that any name works) and returns its output.
func (p *Postgres) tool(t T, name, db string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, name), args...)
	cmd.Env = append(p.Env(), "PGDATABASE="+db)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s of %s: %v: %s", name, db, err, strings.TrimSpace(errb.String()))
	}
	return out.String()
}

// normalizeDump drops the lines of a plain dump that vary between dumps of
// the same content and sorts the rows of every COPY block.
func normalizeDump(dump string) string {
	var out, rows []string
	inCopy := false
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case inCopy && line == `\.`:
			sort.Strings(rows)
			out = append(append(out, rows...), line)
			rows, inCopy = nil, false
		case inCopy:
			rows = append(rows, line)
		case strings.HasPrefix(line, "-- Dumped from database version"),
			strings.HasPrefix(line, "-- Dumped by pg_dump"),
			strings.HasPrefix(line, `\restrict `), strings.HasPrefix(line, `\unrestrict `):
		default:
			out = append(out, line)
			inCopy = strings.HasPrefix(line, "COPY ") && strings.HasSuffix(line, " FROM stdin;")
		}
	}
	return strings.Join(out, "\n")
}
