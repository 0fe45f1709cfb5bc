package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// The runner serves the unit's facts on metrics-address after a backup;
// an unusable address blocks the unit and the jobs still run; a fixed one
// clears the status.
func TestMetricsServedAndBadAddressBlocks(t *testing.T) {
	w, _ := postgresWorld(t, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := w.m.Config(w.ctx, "agent", map[string]string{"metrics-address": addr}); err != nil {
		t.Fatal(err)
	}
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Success {
		t.Fatalf("b1 = %+v", b1)
	}
	want := `dbbackup_last_job_outcome{application="agent",outcome="success",type="backup",unit="agent/0"} 1`
	var body string
	w.waitFor("the backup served", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, want)
	})
	if !strings.Contains(body, `dbbackup_last_job_raw_bytes{application="agent",type="backup",unit="agent/0"}`) {
		t.Errorf("no stream size served:\n%s", body)
	}
	if err := w.m.Config(w.ctx, "agent", map[string]string{"metrics-address": "db.example.com:9569"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("blocked on the address", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "blocked" && strings.HasPrefix(msg, "invalid config: metrics-address: ")
	})
	w.request(w.backup("b2"))
	if b2 := w.wait("b2")["b2"]; b2.Status != dbbackup.Success {
		t.Fatalf("with a bad metrics address, b2 = %+v", b2)
	}
	if err := w.m.Config(w.ctx, "agent", map[string]string{"metrics-address": addr}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("active idle", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "active" && msg == "idle"
	})
	w.checkNoSecrets()
}
