package jujusim_test

import (
	"strings"
	"testing"
)

func TestSecretsGrantRevisionsAndPermissions(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.deploy("b", 1)
	p.deploy("c", 1)
	id := p.integrate("a:db", "b:backend")
	p.settle()
	uri := p.exec("a/0", "secret-add --label creds password=one")
	// Before the grant, b cannot read it; a's non-leader can read but not manage.
	tests := []struct {
		unit, cmd, wantOut, wantErr string
	}{
		{"b/0", "secret-get " + uri, "", "ERROR permission denied"},
		{"a/1", "secret-get " + uri + " password", "one", ""},
		{"a/1", "secret-set " + uri + " password=two", "", `ERROR secret "` + uri + `" not found`},
		{"a/1", "secret-grant " + uri + " -r 2", "", `ERROR secret "` + uri + `" not found`},
		{"c/0", "secret-get " + uri, "", "ERROR permission denied"},
	}
	for _, tt := range tests {
		res, err := p.m.Exec(p.ctx, tt.unit, tt.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(res.Stdout); got != tt.wantOut {
			t.Errorf("%s on %s: stdout %q, want %q", tt.cmd, tt.unit, got, tt.wantOut)
		}
		if got := strings.TrimSpace(res.Stderr); got != tt.wantErr {
			t.Errorf("%s on %s: stderr %q, want %q", tt.cmd, tt.unit, got, tt.wantErr)
		}
	}
	p.exec("a/0", "secret-grant "+uri+" -r "+itoa(id))
	if got := p.exec("b/0", "secret-get "+uri+" password --label=from-a"); got != "one" {
		t.Errorf("granted read %q", got)
	}
	// A new revision: b keeps seeing the one it tracks until it refreshes,
	// and gets secret-changed.
	p.script("b.secret-changed", `echo "$JUJU_SECRET_ID $JUJU_SECRET_LABEL" > $OUT/changed
secret-get $JUJU_SECRET_ID password > $OUT/tracked
secret-get $JUJU_SECRET_ID password --peek > $OUT/peek
secret-get --label=from-a password --refresh > $OUT/refreshed
`)
	p.exec("a/0", "secret-set "+uri+" password=two")
	p.exec("a/0", "secret-set "+uri+" password=two") // same content: no new revision
	p.settle()
	if got := p.out("changed"); got != uri+" from-a" {
		t.Errorf("secret-changed env %q", got)
	}
	if p.out("tracked") != "one" || p.out("peek") != "two" || p.out("refreshed") != "two" {
		t.Errorf("tracked %q peek %q refreshed %q", p.out("tracked"), p.out("peek"), p.out("refreshed"))
	}
	if _, rev, _ := p.m.SecretContent(uri); rev != 2 {
		t.Errorf("revision %d, want 2", rev)
	}
	if got := strings.Count(strings.Join(p.m.Hooks("b/0"), ","), "secret-changed"); got != 1 {
		t.Errorf("secret-changed ran %d times", got)
	}
	// A secret added in a failing hook never existed.
	p.script("a.update-status", "secret-add --label lost x-y=z >/dev/null\nexit 1\n")
	p.m.UpdateStatus()
	p.settle2()
	if got := p.m.Secrets(); len(got) != 1 {
		t.Errorf("secrets after failed hook %v", got)
	}
	if strings.Contains(p.m.TimelineString(), "password=one") {
		t.Error("secret value in the timeline")
	}
}

func TestUserSecretAndTimeline(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.settle()
	uri, err := p.m.AddSecret(map[string]string{"secret-key": "canary-XYZ"}, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.exec("a/0", "secret-get "+uri+" secret-key"); got != "canary-XYZ" {
		t.Errorf("user secret read %q", got)
	}
	p.exec("a/0", "relation-set -r 0 secret-key=canary-XYZ plain=visible")
	tl := p.m.TimelineString()
	if strings.Contains(tl, "canary-XYZ") {
		t.Errorf("credential in timeline:\n%s", tl)
	}
	if !strings.Contains(tl, "+plain=visible") {
		t.Errorf("databag change missing from timeline:\n%s", tl)
	}
}
