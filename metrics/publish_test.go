package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func publish(t *testing.T, path string, p Published) {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// get returns the body of GET url, or the error.
func get(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}

// eventually polls cond for up to 10 seconds.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, s := cond()
		if ok {
			return
		}
		last = s
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within 10 s; last: %s", what, last)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Follow serves what the file says, follows a new snapshot and a new
// address, keeps the previous facts when the file turns bad, stops
// serving when the file goes, and frees the port when ctx ends.
func TestFollow(t *testing.T) {
	old := followEvery
	followEvery = 20 * time.Millisecond
	t.Cleanup(func() { followEvery = old })
	path := filepath.Join(t.TempDir(), "metrics.json")
	a1, a2 := freeAddr(t), freeAddr(t)
	snap := func(app string) Snapshot {
		return Snapshot{Apps: []App{{Application: app, LastSuccess: t0}}}
	}
	publish(t, path, Published{Address: a1, Snapshot: snap("pg-one")})
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Follow(ctx, path, &log); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Follow did not return within 10 s of the cancel")
		}
	})
	serves := func(addr, want string) func() (bool, string) {
		return func() (bool, string) {
			body, err := get("http://" + addr + Path)
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(body, want), body
		}
	}
	eventually(t, "the first snapshot served", serves(a1, `application="pg-one"`))

	publish(t, path, Published{Address: a1, Snapshot: snap("pg-two")})
	eventually(t, "the new snapshot served", serves(a1, `application="pg-two"`))

	// A file that does not read leaves the facts served.
	if err := os.WriteFile(path, []byte(`{"address": "nowhere", "snapshot": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal logged", func() (bool, string) {
		return strings.Contains(log.String(), "invalid metrics address"), log.String()
	})
	if body, err := get("http://" + a1 + Path); err != nil || !strings.Contains(body, `application="pg-two"`) {
		t.Fatalf("after a bad file: %v\n%s", err, body)
	}

	publish(t, path, Published{Address: a2, Snapshot: snap("pg-two")})
	eventually(t, "the new address served", serves(a2, `application="pg-two"`))
	eventually(t, "the old address freed", func() (bool, string) {
		_, err := get("http://" + a1 + Path)
		return err != nil, "still answers"
	})

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no server once the file is gone", func() (bool, string) {
		_, err := get("http://" + a2 + Path)
		return err != nil, "still answers"
	})
}

// A taken address is logged and tried again; the server comes up once
// the port is free.
func TestFollowRetriesATakenAddress(t *testing.T) {
	oldEvery, oldRetry := followEvery, followRetry
	followEvery, followRetry = 20*time.Millisecond, 200*time.Millisecond
	t.Cleanup(func() { followEvery, followRetry = oldEvery, oldRetry })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	path := filepath.Join(t.TempDir(), "metrics.json")
	publish(t, path, Published{Address: addr, Snapshot: Snapshot{Apps: []App{{Application: "pg", LastSuccess: t0}}}})
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Follow(ctx, path, &log); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the taken port logged", func() (bool, string) {
		return strings.Contains(log.String(), "trying again"), log.String()
	})
	ln.Close()
	eventually(t, "served once the port is free", func() (bool, string) {
		body, err := get("http://" + addr + Path)
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(body, `application="pg"`), body
	})
}

// Marshal refuses what the serving process would refuse.
func TestPublishedRefuses(t *testing.T) {
	bad := []Published{
		{Address: "example.com:80"},
		{Snapshot: Snapshot{Apps: []App{{Application: "pg postgres"}}}},
		{Snapshot: Snapshot{Apps: []App{{Application: "pg", Last: []Job{{Type: "backup", Outcome: "password=hunter2"}}}}}},
	}
	for i, p := range bad {
		if _, err := p.Marshal(); err == nil {
			t.Errorf("bad[%d] written", i)
		}
	}
	if _, err := ParsePublished(bytes.Repeat([]byte(" "), MaxPublishedBytes+1)); err == nil {
		t.Error("an oversized file read")
	}
	p := Published{Address: "127.0.0.1:9570", Snapshot: fullSnapshot(), Counted: map[string]time.Time{"pg": t0}}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePublished(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Address != p.Address || !back.Counted["pg"].Equal(t0) || len(back.Snapshot.Apps) != 2 ||
		back.Snapshot.Apps[0].MaxAge != 36*time.Hour || back.Snapshot.Apps[0].Bucket.StoredBytes != 2100 {
		t.Errorf("read back %+v", back)
	}
}

// Fill finds the last jobs and the last success, and counts each job once
// across hooks however the history is trimmed.
func TestFill(t *testing.T) {
	job := func(typ dbbackup.JobType, out dbbackup.Status, end int) Job {
		e := t0.Add(time.Duration(end) * time.Hour)
		return Job{Type: typ, Outcome: out, Started: e.Add(-time.Minute), Ended: e}
	}
	jobs := []Job{
		job(dbbackup.Backup, dbbackup.Success, 1),
		job(dbbackup.Backup, dbbackup.Error, 3),
		job(dbbackup.Restore, dbbackup.Success, 2),
		job(dbbackup.Backup, dbbackup.Success, 2),
		{Type: dbbackup.Backup, Outcome: "running", Started: t0},
	}
	var a App
	mark := a.Fill(jobs, App{}, time.Time{})
	if !a.LastSuccess.Equal(t0.Add(2*time.Hour)) || !mark.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("last success %v, mark %v", a.LastSuccess, mark)
	}
	if len(a.Last) != 2 || a.Last[0].Outcome != dbbackup.Error || a.Last[1].Type != dbbackup.Restore {
		t.Fatalf("last %+v", a.Last)
	}
	want := map[string]uint64{"backup success": 2, "backup error": 1, "restore success": 1}
	check := func(counts []Count) {
		t.Helper()
		got := map[string]uint64{}
		for _, c := range counts {
			got[string(c.Type)+" "+string(c.Outcome)] = c.Jobs
			if c.Seconds != float64(c.Jobs)*60 {
				t.Errorf("%s %s: %v s for %d jobs", c.Type, c.Outcome, c.Seconds, c.Jobs)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("counts %v, want %v", got, want)
		}
	}
	check(a.Counts)
	// The next hook: the history dropped its two oldest jobs and one more
	// backup succeeded; the jobs already counted are not counted again.
	var b App
	mark = b.Fill(append(jobs[1:3:3], job(dbbackup.Backup, dbbackup.Success, 4)), a, mark)
	want["backup success"] = 3
	check(b.Counts)
	if !mark.Equal(t0.Add(4 * time.Hour)) {
		t.Errorf("mark %v", mark)
	}
	// A journal that forgot every job: the last jobs, the last success and
	// the counts stand as published.
	var c App
	if m := c.Fill(nil, b, mark); !m.Equal(mark) || !c.LastSuccess.Equal(b.LastSuccess) || fmt.Sprint(c.Last) != fmt.Sprint(b.Last) {
		t.Errorf("after the jobs went: mark %v, %+v, want %+v", m, c, b)
	}
	check(c.Counts)
	if err := (Snapshot{Apps: []App{{Application: "pg", Last: b.Last, Counts: b.Counts}}}).Validate(); err != nil {
		t.Errorf("a filled entry does not validate: %v", err)
	}
}
