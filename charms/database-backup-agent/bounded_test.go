package main

import (
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestOversizedDatabagIsRefused has the requirer write a jobs databag over
// the bound of what a hook tool may print (8 MiB): the agent's hook fails
// with an error naming relation-get and the bound instead of reading it
// whole, and reports nothing.
func TestOversizedDatabagIsRefused(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	w := newWorld(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"}, 1)
	w.requestRaw(`[{"job-id":"big","job-type":"backup","job-config":{"compression":true},"padding":"` + strings.Repeat("a", 9<<20) + `"}]`)
	err := w.m.Settle(w.ctx, 2000)
	all := ""
	if err != nil {
		all = err.Error()
	}
	all += w.m.TimelineString("hook", "log")
	if !strings.Contains(all, "the output of relation-get is larger than 8.0 MiB") {
		t.Fatalf("settle: %v; the agent did not refuse the 9 MiB databag with its bound:\n%.3000s", err, all)
	}
	if got := w.m.RelationData(w.rel, "agent/0")["jobs"]; strings.Contains(got, "big") {
		t.Fatalf("the agent reported a job of the oversized databag: %.200s", got)
	}
}
