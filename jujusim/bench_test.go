package jujusim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
)

// BenchmarkHookGoops times one update-status hook of a trivial goops charm,
// from dispatch to exit, with three tool calls (config-get, is-leader,
// status-set); it reports the median and p99 in milliseconds.
func BenchmarkHookGoops(b *testing.B) {
	charm := buildGoopsCharm(b)
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.Deploy(ctx, "g", charm, 1); err != nil {
		b.Fatal(err)
	}
	if err := m.Settle(ctx, 20); err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	for b.Loop() {
		m.UpdateStatus()
		start := time.Now()
		ran, err := m.Step(ctx)
		times = append(times, time.Since(start))
		if err != nil || !ran {
			b.Fatalf("step: ran %v, %v", ran, err)
		}
	}
	if st, _ := m.UnitStatus("g/0"); st != "active" {
		b.Fatalf("unit status %s", st)
	}
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[len(times)/2]), "median-ms")
	b.ReportMetric(ms(times[min(len(times)-1, len(times)*99/100)]), "p99-ms")
}
