package artefact

import (
	"errors"
	"io"
	"sync"
)

// asyncWriter decouples the producer from the rest of the pipeline: Write
// copies into a chunk and queues it for a goroutine that writes it to w, so
// the goroutine draining the dump tool's pipe returns at once and the tool
// keeps dumping while the previous chunks are hashed, compressed, sealed
// and uploaded. Without it the tool waits, its 64 KiB pipe full, for every
// chunk to go through compression: the backup then takes about the dump's
// time plus the pipeline's instead of the longer of the two.
//
// At most chunks chunks of chunkSize bytes are in flight (the memory
// bound). Write must not be called concurrently; Close or abort must be
// called once, after the last Write.
type asyncWriter struct {
	w     io.Writer
	buf   []byte        // the chunk being filled
	queue chan []byte   // filled chunks, to the writer goroutine
	free  chan []byte   // written chunks, back from it
	done  chan struct{} // closed when the goroutine has returned

	mu  sync.Mutex
	err error // the first error of w, or errAborted
}

var errAborted = errors.New("the pipeline was stopped")

func newAsyncWriter(w io.Writer, chunkSize, chunks int) *asyncWriter {
	a := &asyncWriter{
		w:     w,
		queue: make(chan []byte, chunks),
		free:  make(chan []byte, chunks+1),
		done:  make(chan struct{}),
	}
	for range chunks + 1 {
		a.free <- make([]byte, 0, chunkSize)
	}
	a.buf = <-a.free
	go a.run()
	return a
}

// run writes the queued chunks to w in order. After an error it keeps
// taking chunks (dropping them) so that Write never blocks on a dead
// pipeline; Write reports the error.
func (a *asyncWriter) run() {
	defer close(a.done)
	for b := range a.queue {
		if a.failed() == nil {
			if _, err := a.w.Write(b); err != nil {
				a.setErr(err)
			}
		}
		a.free <- b[:0]
	}
}

func (a *asyncWriter) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *asyncWriter) setErr(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	if err := a.failed(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		k := copy(a.buf[len(a.buf):cap(a.buf)], p)
		a.buf = a.buf[:len(a.buf)+k]
		p, n = p[k:], n+k
		if len(a.buf) == cap(a.buf) {
			a.queue <- a.buf
			a.buf = <-a.free
		}
	}
	return n, nil
}

// Close writes what is buffered, waits for every chunk to reach w, and
// returns w's first error.
func (a *asyncWriter) Close() error {
	if len(a.buf) > 0 {
		a.queue <- a.buf
	}
	a.buf = nil
	close(a.queue)
	<-a.done
	return a.failed()
}

// abort drops what is not yet written and waits for the goroutine, so that
// w may be closed safely after it.
func (a *asyncWriter) abort() {
	a.setErr(errAborted)
	a.buf = nil
	close(a.queue)
	<-a.done
}
