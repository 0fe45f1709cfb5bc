package main

import (
	"strings"
	"testing"
)

func TestDatabaseConfigProblems(t *testing.T) {
	ok := config{Engine: "postgresql", Host: "127.0.0.1", User: "backup"}
	tests := []struct {
		name   string
		edit   func(*config)
		prefix string
	}{
		{"no engine", func(c *config) { c.Engine = "" }, "set config engine"},
		{"bad engine", func(c *config) { c.Engine = "oracle" }, "config engine: oracle is not postgresql or mysql"},
		{"no host", func(c *config) { c.Host = "" }, "set config host"},
		{"no user", func(c *config) { c.User = "" }, "set config user"},
		{"two databases", func(c *config) { c.Databases = "a,b" }, "config databases: give one database"},
		{"no secret", func(c *config) {}, "set config password-secret"},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		_, got := database(c)
		if !strings.HasPrefix(got, tt.prefix) {
			t.Errorf("%s: problem %q, want prefix %q", tt.name, got, tt.prefix)
		}
	}
	c := ok
	c.Databases = "shop"
	db, _ := database(c)
	if db.Port != 5432 || db.Database != "shop" {
		t.Errorf("db = %+v, want port 5432 database shop", db)
	}
	c.Engine = "mysql"
	if db, _ := database(c); db.Port != 3306 {
		t.Errorf("mysql port = %d, want 3306", db.Port)
	}
}

func TestFirstDatabase(t *testing.T) {
	for in, want := range map[string]string{"": "", "shop": "shop", " shop ": "shop", "a,b": "a"} {
		if got := firstDatabase(in); got != want {
			t.Errorf("firstDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWarnRetained(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		in      *int64
		want    int64
		problem string
	}{
		{nil, 1 << 30, ""},
		{n(0), 0, ""},
		{n(1), 1 << 20, ""},
		{n(1 << 20), 1 << 40, ""},
		{n(-1), 1 << 30, "invalid config: archive-warn-retained-mib -1 is not from 0 to 1048576"},
		{n(1<<20 + 1), 1 << 30, "invalid config: archive-warn-retained-mib 1048577"},
	}
	for _, tt := range tests {
		got, problem := config{ArchiveWarnRetainedMiB: tt.in}.warnRetained()
		if got != tt.want || !strings.HasPrefix(problem, tt.problem) || (tt.problem == "") != (problem == "") {
			t.Errorf("warnRetained(%v) = %d, %q; want %d, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}
