package jujucli

import (
	"strings"
	"testing"
)

func TestCheckAccepts(t *testing.T) {
	for _, line := range []string{
		"juju deploy ./dist/database-backup-manager.charm manager",
		"juju deploy ./dist/database-backup-agent.charm pg-backup --config engine=postgresql --config host=10.0.0.5 --config port=5432",
		"juju deploy ./dist/database-backup-agent.charm pg-backup --config=engine=postgresql --config agent.yaml",
		"juju deploy s3-integrator",
		"juju deploy postgresql --channel 14/stable --base ubuntu@22.04 -n 3",
		`juju deploy ./dist/database-backup-agent.charm --config user="backup user"`,
		"$ juju integrate manager:s3-credentials s3-integrator   # a comment",
		"juju integrate <agent> <database-app>",
		"juju run s3-integrator/leader sync-s3-credentials access-key=<key> secret-key=<secret>",
		"juju run manager/0 restore backup-id=job-1 --wait=2m",
		"juju run manager/0 list-backups",
		`juju config manager backup-schedule="0 3 * * *" retention-count=2`,
		`juju config manager backup-schedule=""`,
		"juju config manager retention-count",
		"juju add-secret pg-backup-password password=<password>",
		"juju update-secret backup-key key=$KEY previous-keys=$OLD_KEY",
		"juju update-secret secret:d4e5f6a7b8c9d0e1f2a3 --info new",
		"juju add-secret pg-backup-password --file secret.yaml",
		"juju grant-secret pg-backup-password pg-backup,mysql-backup",
		"juju grant-secret secret:d2d6g3ner8ec77d2bl0g pg-backup",
		"juju status --format yaml",
		"juju show-unit manager/0 --format json",
		"juju debug-log --include manager/0 --replay",
		"juju resolve manager/0",
		"juju add-model backup-check",
		"juju exec --unit pg16-backup/0 -- tail -n 100 /var/lib/juju/agents/unit-pg16-backup-0/dbbackup-runner/runner.log",
		"juju exec --unit pg16/0,pg16/1 --timeout 2m -- snap services charmed-postgresql",
		"juju scp ./bin/dbbackup pg16/0:/tmp/dbbackup",
		"juju show-status-log pg16-backup/0 -n 50",
	} {
		if err := Check(line); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"juju deploy ./dist/database-backup-agent.charm pg --config engine=postgresql host=10.0.0.5", "no key=value arguments"},
		{`juju deploy ./dist/database-backup-agent.charm pg --config "engine=postgresql host=10.0.0.5"`, "more than one key=value"},
		{"juju deploy ./dist/database-backup-agent.charm pg --config engine", "neither key=value nor a YAML file"},
		{"juju deploy database-backup-agent pg", "not published"},
		{"juju deploy database-backup-manager", "not published"},
		{"juju deploy some-charm", "neither a path"},
		{"juju deploy ./dist/backup.charm", "no such file"},
		{"juju deploy ./charms/database-backup-agent", "a .charm file"},
		{"juju deploy ./dist/database-backup-agent.charm a b", "no key=value"[0:0] + "charm and an optional"},
		{"juju deploy ./dist/database-backup-agent.charm Agent", "not an application name"},
		{"juju deploy ./dist/database-backup-agent.charm --config", "needs a value"},
		{"juju deploy ./dist/database-backup-agent.charm --trust=yes", "takes no value"},
		{"juju deploy ./dist/database-backup-agent.charm --series jammy", "unknown flag --series"},
		{"juju relate a b", "unknown subcommand"},
		{"juju add-relation a b", "unknown subcommand"},
		{"juju run-action manager/0 create-backup", "unknown subcommand"},
		{"juju integrate a", "two applications"},
		{"juju integrate a:B c", "application[:endpoint]"},
		{"juju run manager create-backup", "not a unit"},
		{"juju run manager/0", "no action name"},
		{"juju run manager/0 delete-backup backup-id=x [force=true]", "not key=value"},
		{"juju run manager/0 restore job-1", "not key=value"},
		{"juju run manager/0 restore --params", "needs a value"},
		{"juju config manager a b", "either get one key"},
		{"juju config manager retention-count=7 retention-days", "either get one key"},
		{"juju config", "not an application"},
		{"juju add-secret Password password=x", "not a secret name"},
		{"juju add-secret pw", "no key=value"},
		{"juju add-secret pw pw=x", "three or more"},
		{"juju add-secret pw password", "three or more"},
		{"juju update-secret Key key=x", "neither a secret name nor a secret id"},
		{"juju update-secret backup-key", "nothing to change"},
		{"juju update-secret backup-key key=$(openssl rand -hex 32)", "unknown flag -hex"},
		{"juju grant-secret pw", "a secret and applications"},
		{"juju grant-secret pw app,Other", "not an application"},
		{"juju show-unit manager", "one unit"},
		{"juju show-unit manager/leader", "one unit"},
		{"juju debug-log manager/0", "unexpected arguments"},
		{"juju resolve", "units or --all"},
		{"juju add-model", "model name"},
		{"juju exec -- ls", "needs a target"},
		{"juju exec --unit pg16 -- ls", "not a unit"},
		{"juju exec --unit pg16/0 tail -n 5 f", "unknown flag -n"},
		{"juju exec --unit pg16/0", "no command"},
		{"juju scp a b", "no unit:path"},
		{"juju scp ./f pg16:/tmp", "not unit:path"},
		{"juju show-status-log", "one unit or application"},
		{`juju config manager backup-schedule="0 3 * * *`, "unterminated"},
		{"juju", "not a juju command"},
		{"jujux status", "not a juju command"},
	} {
		err := Check(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.line, err, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`a "b c" 'd e' f\ g`, []string{"a", "b c", "d e", "f g"}},
		{`k="0 3 * * *" x=""  # note`, []string{"k=0 3 * * *", "x="}},
		{`a#b c`, []string{"a#b", "c"}},
		{`"a\"b"`, []string{`a"b`}},
	} {
		got, err := Split(tc.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("Split(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLines(t *testing.T) {
	doc := "Run `juju status` or `juju integrate a b`; not `juju-exec`.\n" +
		"```sh\n" +
		"juju deploy ./dist/database-backup-agent.charm pg \\\n" +
		"    --config engine=postgresql\n" +
		"$ juju run manager/0 list-jobs\n" +
		"Waiting for task 2...\n" +
		"```\n" +
		"```\njuju deploy x \\\n"
	got := Lines([]byte(doc))
	want := []Line{
		{1, "juju status", true}, {1, "juju integrate a b", true},
		{3, "juju deploy ./dist/database-backup-agent.charm pg  --config engine=postgresql", false},
		{5, "juju run manager/0 list-jobs", false},
		{9, "juju deploy x ", false},
	}
	if len(got) != len(want) {
		t.Fatalf("Lines = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
