package testenv

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Dump returns mariadb-dump's text of database db: schema, rows, routines,
// triggers and events, in a form two dumps of the same state share. Lines
// that vary with the moment of the dump (comments, the dump date) are
// left out; AUTO_INCREMENT counters stay, since a restore sets them as the
// backup recorded them.
func (m *MariaDB) Dump(t T, db string) string {
	t.Helper()
	dumper := findFirst("mariadb-dump", "mysqldump")
	if dumper == "" {
		Unavailable(t, "mariadb-dump not found; run scripts/install-databases.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dumper, "--defaults-extra-file="+m.OptionFile(), "--single-transaction",
		"--routines", "--triggers", "--events", "--hex-blob", "--order-by-primary", "--skip-comments",
		"--skip-dump-date", "--default-character-set=utf8mb4", "--", db)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("cannot dump database %q: %v: %s", db, err, strings.TrimSpace(errb.String()))
	}
	var keep []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "-- Dump completed") || strings.HasPrefix(line, "/*M!999999") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// DumpAll returns the Dump of every user database (any byte but a newline
// in its name), each under a line naming it, then SHOW GRANTS of every account but the server's own (root,
// mariadb.sys, mysql, PUBLIC, anonymous), the lines sorted.
func (m *MariaDB) DumpAll(t T) string {
	t.Helper()
	var b strings.Builder
	list := m.SQL(t, "", "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ("+mariadbSystemSchemas+") ORDER BY 1")
	for _, db := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
		if db == "" {
			continue
		}
		b.WriteString("==== database " + db + "\n")
		b.WriteString(m.Dump(t, db))
		b.WriteString("\n")
	}
	accounts := m.SQL(t, "", "SELECT IF(is_role = 'Y', QUOTE(User), CONCAT(QUOTE(User), '@', QUOTE(Host))) FROM mysql.user "+
		"WHERE User NOT IN ('', 'root', 'mariadb.sys', 'mysql', 'PUBLIC') ORDER BY 1")
	var grants []string
	for _, a := range strings.Split(strings.TrimSpace(accounts), "\n") {
		if a == "" {
			continue
		}
		for _, g := range strings.Split(strings.TrimSpace(m.SQL(t, "", "SHOW GRANTS FOR "+a)), "\n") {
			grants = append(grants, a+": "+g)
		}
	}
	slices.Sort(grants)
	b.WriteString("==== grants\n" + strings.Join(grants, "\n") + "\n")
	return b.String()
}
