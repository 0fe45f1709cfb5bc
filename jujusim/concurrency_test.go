package jujusim_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// span is a hook's run as the hook itself timed it.
type span struct {
	name       string
	start, end int64
}

// readSpans parses lines "START NAME" / "END NAME" with nanosecond stamps
// written by the hooks.
func readSpans(t *testing.T, path string) []span {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spans []span
	open := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad line %q", line)
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		switch f[0] {
		case "START":
			open[f[2]] = ns
		case "END":
			spans = append(spans, span{f[2], open[f[2]], ns})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	return spans
}

const timed = `echo "START $(date +%s%N) ${JUJU_ACTION_NAME:-${JUJU_HOOK_NAME:-exec}}-$$" >> $OUT/spans-$JUJU_MACHINE_ID
sleep 0.02
echo "END $(date +%s%N) ${JUJU_ACTION_NAME:-${JUJU_HOOK_NAME:-exec}}-$$" >> $OUT/spans-$JUJU_MACHINE_ID
`

func TestHooksNeverOverlapOnAUnit(t *testing.T) {
	var doneTriggers atomic.Bool
	p := newProbe(t)
	p.script("any", timed)
	p.deploy("a", 2)
	p.settle()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(1)
	go func() { // the model's own hooks, settling as triggers arrive
		defer wg.Done()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := p.m.Step(p.ctx); err != nil {
				errs <- err
				return
			}
			if len(p.m.Pending("a/0")) == 0 && len(p.m.Pending("a/1")) == 0 && doneTriggers.Load() {
				return
			}
		}
	}()
	var triggers sync.WaitGroup
	for i := range 4 {
		triggers.Add(3)
		go func() {
			defer triggers.Done()
			if _, err := p.m.RunAction(p.ctx, "a/"+strconv.Itoa(i%2), "run", map[string]any{"what": "x"}); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer triggers.Done()
			if _, err := p.m.Exec(p.ctx, "a/"+strconv.Itoa(i%2), ". "+filepath.Join(p.scripts, "any")); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer triggers.Done()
			p.m.UpdateStatus()
			if err := p.m.Config(p.ctx, "a", map[string]string{"port": strconv.Itoa(6000 + i)}); err != nil {
				errs <- err
			}
		}()
	}
	triggers.Wait()
	doneTriggers.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	p.settle()
	for _, mach := range []string{"0", "1"} {
		spans := readSpans(t, filepath.Join(p.scripts, "out", "spans-"+mach))
		if len(spans) < 10 {
			t.Errorf("machine %s: only %d hooks ran", mach, len(spans))
		}
		for i := 1; i < len(spans); i++ {
			if spans[i].start < spans[i-1].end {
				t.Errorf("machine %s: %s overlaps %s", mach, spans[i].name, spans[i-1].name)
			}
		}
	}
}

func TestJujuExecWaitsForRunningHookAndIsRefusedInHooks(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.settle()
	p.script("update-status", `echo "START $(date +%s%N) hook" >> $OUT/spans
sleep 0.3
juju-exec a/0 true 2> $OUT/inner-err; echo $? > $OUT/inner-code
echo "END $(date +%s%N) hook" >> $OUT/spans
`)
	p.m.UpdateStatus()
	stepped := make(chan error, 1)
	go func() { _, err := p.m.Step(p.ctx); stepped <- err }()
	// Start juju-exec from an outside process once the hook is running.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(p.scripts, "out", "spans")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd := exec.CommandContext(p.ctx, p.m.JujuExecPath(), "a/0", `echo "START $(date +%s%N) exec" >> `+p.scripts+`/out/spans; echo "END $(date +%s%N) exec" >> `+p.scripts+`/out/spans; is-leader`)
	cmd.Env = append(os.Environ(), p.m.ExecEnv()...)
	cmd.Env = append(cmd.Env, "JUJU_CONTEXT_ID=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("juju-exec: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "True" {
		t.Errorf("juju-exec output %q, want True", got)
	}
	if err := <-stepped; err != nil {
		t.Fatal(err)
	}
	spans := readSpans(t, filepath.Join(p.scripts, "out", "spans"))
	if len(spans) != 2 || spans[0].name != "hook" || spans[1].start < spans[0].end {
		t.Errorf("juju-exec did not wait for the hook: %+v", spans)
	}
	if got := p.out("inner-code"); got != "1" {
		t.Errorf("juju-exec inside a hook exit %s, want 1", got)
	}
	if got := p.out("inner-err"); !strings.Contains(got, "cannot be called from within a hook") {
		t.Errorf("juju-exec inside a hook: %q", got)
	}
}
