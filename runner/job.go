package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// run runs one job and records each of its transitions.
func (r *runner) run(ctx context.Context, rec Record) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.active, rec.JobID)
		r.mu.Unlock()
		r.notify()
	}()
	job, err := rec.Job()
	if err != nil {
		rec.Status, rec.Message, rec.Finished = dbbackup.Error, err.Error(), r.opts.Now().UTC()
		r.put(rec)
		return
	}
	rec.Status, rec.Started = dbbackup.Running, r.opts.Now().UTC()
	if !r.put(rec) {
		return
	}
	r.notify()
	fmt.Fprintf(r.opts.Log, "job %s: %s started\n", rec.JobID, rec.Type)

	var mu sync.Mutex
	var bytes, total int64
	progress := func(b, t int64) {
		mu.Lock()
		bytes, total = b, t
		mu.Unlock()
	}
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(r.opts.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				rec.Bytes, rec.Total = bytes, total
				mu.Unlock()
				rec.Message = Progress(rec, r.opts.Now())
				if r.put(rec) {
					r.notify()
				}
			}
		}
	}()
	path, err := r.opts.Executor.Run(ctx, job, progress)
	close(stop)
	<-ticked
	mu.Lock()
	rec.Bytes, rec.Total = bytes, total
	mu.Unlock()
	rec.Finished = r.opts.Now().UTC()
	switch {
	case err == nil:
		rec.Status, rec.Message, rec.ArtefactPath = dbbackup.Success, "", path
	case ctx.Err() != nil:
		rec.Status, rec.Message = dbbackup.Error, MsgInterrupted
	default:
		rec.Status, rec.Message = dbbackup.Error, oneLine(secret.Guard(err, job.Storage.Secrets()).Error())
		if job.Type == dbbackup.Restore {
			rec.ArtefactPath = job.ArtefactPath
		}
	}
	r.put(rec)
	fmt.Fprintf(r.opts.Log, "job %s: %s %s\n", rec.JobID, rec.Status, rec.Message)
}

// put writes rec and logs a failure.
func (r *runner) put(rec Record) bool {
	if err := r.opts.Journal.Put(rec); err != nil {
		fmt.Fprintf(r.opts.Log, "%v\n", err)
		return false
	}
	return true
}

// oneLine joins the lines of a message, for a databag and a status.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
