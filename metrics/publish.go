package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// A charm's facts are known in its hooks, and its metrics are served by a
// process that outlives them (the manager's ticker, the agent's runner).
// The hooks hand the facts over in one file, a Published document written
// whole (replaced, never edited in place); the process follows the file
// (Follow) and serves what it last read. A scrape reads memory only.

// MaxPublishedBytes bounds the published file the serving process reads.
const MaxPublishedBytes = 4 << 20

// Published is what a charm's hooks hand to its serving process: where to
// serve and what.
type Published struct {
	// Address is the listen address (checked by ParseAddress); empty
	// means DefaultAddress.
	Address string `json:"address"`
	// Snapshot is served as it is.
	Snapshot Snapshot `json:"snapshot"`
	// Counted holds, per application or unit, the end of the last job
	// counted into the snapshot's Counts: the hooks count each finished
	// job once, so the counters only grow (see CountJobs).
	Counted map[string]time.Time `json:"counted,omitempty"`
}

// ParsePublished reads and validates a published document.
func ParsePublished(b []byte) (Published, error) {
	var p Published
	if len(b) > MaxPublishedBytes {
		return p, fmt.Errorf("cannot read the published metrics: %d bytes, at most %d", len(b), MaxPublishedBytes)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Published{}, fmt.Errorf("cannot read the published metrics: %w", err)
	}
	if _, err := ParseAddress(p.Address); err != nil {
		return Published{}, fmt.Errorf("cannot read the published metrics: %w", err)
	}
	if err := p.Snapshot.Validate(); err != nil {
		return Published{}, fmt.Errorf("cannot read the published metrics: %w", err)
	}
	return p, nil
}

// Marshal returns the document to write, after the checks ParsePublished
// makes, so that a hook never hands over what the process would refuse.
func (p Published) Marshal() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("cannot write the published metrics: %w", err)
	}
	if _, err := ParsePublished(b); err != nil {
		return nil, err
	}
	return b, nil
}

// ReadPublished reads the published file at path; a missing file gives
// an empty document and os.ErrNotExist.
func ReadPublished(path string) (Published, error) {
	b, err := readPublishedBytes(path)
	if err != nil {
		return Published{}, err
	}
	return ParsePublished(b)
}

// readPublishedBytes reads at most one byte more than MaxPublishedBytes
// of the file at path (ParsePublished refuses the excess).
func readPublishedBytes(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPublishedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the published metrics: %w", err)
	}
	return b, nil
}

// followEvery is how often Follow looks at the file; a variable for tests.
var followEvery = time.Second

// Follow serves the snapshot of the published file at path on the
// address it names, until ctx is done. It reads the file at every look
// (it is small and bounded) and acts when its bytes change, since two
// writes within the file system's clock tick can leave the same size and
// modification time: a new snapshot replaces the served one, a
// new address moves the server. A file that does not read leaves what was
// served; a file that goes stops the server (nothing is known any more).
// An address that cannot be bound is logged and tried again after a
// while; the process it runs in goes on with its own work regardless.
func Follow(ctx context.Context, path string, log io.Writer) {
	var (
		st      State
		seen    []byte // the file's bytes at the last look, nil when absent
		addr    string
		stop    context.CancelFunc
		done    chan error
		retryAt time.Time
	)
	halt := func() {
		if stop != nil {
			stop()
			<-done
			stop, done = nil, nil
		}
	}
	defer halt()
	for {
		b, err := readPublishedBytes(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			halt()
			seen, addr = nil, ""
		case err != nil:
			logf(log, "metrics: %v", err)
		case seen == nil || !bytes.Equal(b, seen):
			seen = b
			p, err := ParsePublished(b)
			if err != nil {
				logf(log, "metrics: %v; serving the previous facts", err)
				break
			}
			_ = st.Set(p.Snapshot) // validated by ReadPublished
			a, _ := ParseAddress(p.Address)
			if a != addr {
				halt()
				addr, retryAt = a, time.Time{}
			}
		}
		if addr != "" && stop == nil && !time.Now().Before(retryAt) {
			sctx, cancel := context.WithCancel(ctx)
			ch := make(chan error, 1)
			go func(a string) { ch <- Serve(sctx, a, &st) }(addr)
			stop, done = cancel, ch
		}
		select {
		case <-ctx.Done():
			return
		case err := <-done:
			// The server ended by itself: the port is taken, or gone.
			logf(log, "metrics: %v; trying again in %v", err, followRetry)
			stop()
			stop, done, retryAt = nil, nil, time.Now().Add(followRetry)
		case <-time.After(followEvery):
		}
	}
}

// followRetry spaces the attempts to bind a taken address.
var followRetry = 30 * time.Second

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().UTC().Format(time.RFC3339)}, args...)...)
	}
}
