package pitr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// CheckMySQLBase refuses every base a restore to a time cannot start
// from, each with its reason, and accepts the one it can.
func TestCheckMySQLBase(t *testing.T) {
	target := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	good := artefact.Manifest{FinishedAt: target.Add(-time.Hour), Engine: engine.Result{Kind: engine.MySQL,
		Databases: []string{"shop"}, Binlog: &engine.BinlogPosition{File: "mariadb-bin.000001", Position: 4}}}
	with := func(f func(m *artefact.Manifest)) artefact.Manifest {
		m := good
		m.Engine.Databases = append([]string(nil), good.Engine.Databases...)
		f(&m)
		return m
	}
	for _, tc := range []struct {
		name     string
		m        artefact.Manifest
		database string
		want     string
	}{
		{"good", good, "", ""},
		{"good, its database named", good, "shop", ""},
		{"postgresql", with(func(m *artefact.Manifest) { m.Engine.Kind = engine.PostgreSQL }), "", "postgresql backup"},
		{"no position", with(func(m *artefact.Manifest) { m.Engine.Binlog = nil }), "", "no binary log position"},
		{"two databases", with(func(m *artefact.Manifest) { m.Engine.Databases = []string{"a", "b"} }), "", "holds 2 databases"},
		{"another database", good, "crm", `not into "crm"`},
		{"finished after", with(func(m *artefact.Manifest) { m.FinishedAt = target.Add(time.Second) }), "", "after the time"},
	} {
		err := CheckMySQLBase(tc.m, tc.database, target)
		switch {
		case err == nil && tc.want != "":
			t.Errorf("%s: accepted, want %q", tc.name, tc.want)
		case err != nil && (tc.want == "" || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// RestoreMySQL without a server, or with a scope that holds no base,
// refuses before it reads a binary log.
func TestRestoreMySQLRefusesEarly(t *testing.T) {
	ctx := context.Background()
	if _, err := RestoreMySQL(ctx, MySQLRestore{}); err == nil || !strings.Contains(err.Error(), "MariaDB") {
		t.Errorf("RestoreMySQL without an engine = %v", err)
	}
	_, err := NewestMySQLBase(ctx, memstore.New(), "my", "", time.Now())
	if err == nil || !strings.Contains(err.Error(), "scope my holds no backup") {
		t.Errorf("NewestMySQLBase of an empty scope = %v", err)
	}
}
