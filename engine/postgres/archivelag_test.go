package postgres

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

func TestParseSlotState(t *testing.T) {
	tests := []struct {
		in      string
		want    SlotState
		wantErr bool
	}{
		{"0/3000148|16777216|1024|reserved", SlotState{ServerLSN: 0x3000148, SegSize: 16 << 20, Retained: 1024, Status: "reserved"}, false},
		{"1/0|16777216|-1|", SlotState{ServerLSN: 1 << 32, SegSize: 16 << 20, Retained: -1}, false},
		{"0/0|1000|0|", SlotState{}, true},                                // not a power of two
		{"0/0|16777216|-2|", SlotState{}, true},                           // below -1
		{"zz|16777216|0|", SlotState{}, true},                             // not a position
		{"0/0|16777216|0", SlotState{}, true},                             // a field short
		{"0/0|16777216|0|" + string(make([]byte, 40)), SlotState{}, true}, // too long
	}
	for _, tt := range tests {
		got, err := parseSlotState(strings.Split(tt.in, "|"))
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseSlotState(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// The end of the archive follows the newest upload: a whole segment ends
// where the next begins, a partial one at its last byte that is not zero;
// an older file uploaded again (the newest segment kept in the spool, a
// partial behind its finished copy) does not move it back.
func TestArchivedEnd(t *testing.T) {
	const seg = 16 << 20
	u := &uploader{}
	if _, ok := u.archivedEnd(seg); ok {
		t.Fatal("an end before any upload")
	}
	steps := []struct {
		name string
		end  int64
		want LSN
	}{
		{"000000010000000000000003", -1, 4 * seg},
		{"000000010000000000000004", 100, 4*seg + 100},
		{"000000010000000000000004", 50, 4*seg + 100},
		{"000000010000000000000003", -1, 4*seg + 100},
		{"000000010000000000000004", -1, 5 * seg},
		{"000000010000000000000004", 10, 5 * seg},
		{"000000020000000000000005", 8, 5*seg + 8}, // a new timeline goes on
		{"000000010000000100000000", -1, 0x100000000 + seg},
	}
	for _, s := range steps {
		u.noteUploaded(s.name, s.end)
		if got, ok := u.archivedEnd(seg); !ok || got != s.want {
			t.Errorf("after %s to %d: end %s, want %s", s.name, s.end, got, s.want)
		}
	}
}

func TestEndReader(t *testing.T) {
	data := append(append([]byte("wal"), make([]byte, 5000)...), append([]byte{7}, make([]byte, 70000)...)...)
	r := &endReader{r: bytes.NewReader(data)}
	if _, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if r.end != 5004 || r.n != int64(len(data)) {
		t.Errorf("end %d of %d, want 5004 of %d", r.end, r.n, len(data))
	}
}

func TestNotePendingKeepsTheOldest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &uploader{}
	u.notePending(t0.Add(time.Second))
	u.notePending(t0)
	u.notePending(t0.Add(2 * time.Second))
	if !u.pendingSince.Equal(t0) {
		t.Errorf("pending since %s, want %s", u.pendingSince, t0)
	}
}

// TestSlotOfASilentServerIsBounded: a server that accepts the connection
// and never answers holds the measurement only until its context ends,
// not for good.
func TestSlotOfASilentServerIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	e := New(engine.Conn{Host: "127.0.0.1", Port: port, User: "u", Password: "CANARY-pw"}, Options{BinDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = e.Slot(ctx, "s")
	if took := time.Since(start); err == nil || took > 10*time.Second {
		t.Fatalf("Slot of a silent server: %v after %s, want an error within the context's second", err, took)
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("the error repeats the password: %v", err)
	}
}

// TestEnvIsClipped: two commands that append their own variables to the
// environment of one engine never write each other's.
func TestEnvIsClipped(t *testing.T) {
	for _, pw := range []string{"", "pw"} {
		e := New(engine.Conn{Host: "127.0.0.1", Port: 5432, User: "u", Password: pw}, Options{})
		base := e.env("db")
		a := append(base, "A=1")
		b := append(base, "B=2")
		if a[len(a)-1] != "A=1" || b[len(b)-1] != "B=2" {
			t.Fatalf("password %q: appends to one environment share an element: %q and %q", pw, a, b)
		}
	}
}
