package jujusim_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
)

// probe is a model running the probe shell charm, whose hooks are the
// scripts a test writes.
type probe struct {
	t       *testing.T
	m       *jujusim.Model
	clock   *jujusim.ManualClock
	scripts string
	ctx     context.Context
}

func newProbe(t *testing.T) *probe {
	t.Helper()
	scripts := t.TempDir()
	clock := jujusim.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	m, err := jujusim.NewModel(jujusim.Options{Clock: clock, Env: []string{"PROBE_SCRIPTS=" + scripts}, HookTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline:\n%s\nstatus:\n%s", m.TimelineString(), m.Status())
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &probe{t: t, m: m, clock: clock, scripts: scripts, ctx: ctx}
}

// script writes the hook script run for name ("hook", "app.hook" or
// "app-0.hook"); $OUT is a folder for the script's results.
func (p *probe) script(name, body string) {
	p.t.Helper()
	body = "OUT=" + p.scripts + "/out\nmkdir -p $OUT\n" + body
	if err := os.WriteFile(filepath.Join(p.scripts, name), []byte(body), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *probe) unscript(name string) {
	p.t.Helper()
	if err := os.Remove(filepath.Join(p.scripts, name)); err != nil {
		p.t.Fatal(err)
	}
}

// out reads a result file a script wrote, trimmed.
func (p *probe) out(name string) string {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.scripts, "out", name))
	if err != nil {
		p.t.Fatalf("script output %s: %v", name, err)
	}
	return strings.TrimSpace(string(b))
}

func (p *probe) deploy(name string, units int) {
	p.t.Helper()
	if err := p.m.Deploy(p.ctx, name, jujusim.Charm{Dir: "testdata/probe"}, units); err != nil {
		p.t.Fatalf("Deploy: %v", err)
	}
}

func (p *probe) settle() {
	p.t.Helper()
	if err := p.m.Settle(p.ctx, 500); err != nil {
		p.t.Fatalf("Settle: %v", err)
	}
}

func (p *probe) integrate(a, b string) int {
	p.t.Helper()
	id, err := p.m.Integrate(p.ctx, a, b)
	if err != nil {
		p.t.Fatalf("Integrate: %v", err)
	}
	return id
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func jujusimCharm(dir string) jujusim.Charm { return jujusim.Charm{Dir: dir} }

func itoa(n int) string { return strconv.Itoa(n) }
