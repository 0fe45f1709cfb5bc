package testenv

import (
	"strings"
	"testing"
)

func TestStartPostgres(t *testing.T) {
	p := StartPostgres(t)
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT current_user")); got != "postgres" {
		t.Errorf("current_user = %q, want postgres", got)
	}
	p.SQL(t, "postgres", `CREATE TABLE a (id int, s text); INSERT INTO a VALUES (1, 'ü'), (2, NULL);
		CREATE SEQUENCE s1; SELECT nextval('s1');`)
	sums := p.Checksums(t, "postgres")
	if sums["public.a"].Rows != 2 || sums["public.a"].Sum == "" || sums["sequence public.s1"].Sum != "1" {
		t.Errorf("got sums %v", sums)
	}
	p.SQL(t, "postgres", "UPDATE a SET s = 'x' WHERE id = 2")
	if d := DiffSums(sums, p.Checksums(t, "postgres")); len(d) != 1 || !strings.HasPrefix(d[0], "public.a:") {
		t.Errorf("DiffSums after an update = %q, want one difference in public.a", d)
	}
	// Password authentication is on: a wrong password fails.
	wrong := *p
	wrong.Password = "wrong"
	if _, err := wrong.Exec("postgres", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("wrong password: got %v, want password authentication failed", err)
	}
}

func TestDiffSums(t *testing.T) {
	want := map[string]TableSum{"a": {1, "x"}, "b": {2, "y"}}
	got := map[string]TableSum{"a": {1, "x"}, "c": {3, "z"}}
	d := DiffSums(want, got)
	wantD := []string{"b: missing (want 2 rows)", "c: unexpected (3 rows)"}
	if strings.Join(d, ";") != strings.Join(wantD, ";") {
		t.Errorf("got %q, want %q", d, wantD)
	}
	if d := DiffSums(want, want); len(d) != 0 {
		t.Errorf("identical sums differ: %q", d)
	}
}
