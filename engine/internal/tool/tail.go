package tool

import (
	"bufio"
	"io"
	"strings"
	"sync"

	"github.com/dbbackup/dbbackup/internal/secret"
)

// maxLine bounds one log line; the rest of a longer line is dropped.
const maxLine = 8 << 10

// tail copies log lines to an optional writer, masking secrets, and keeps
// the last few for the error message.
type tail struct {
	mu      sync.Mutex
	max     int
	keep    []string
	log     io.Writer
	secrets []string
}

func newTail(max int, log io.Writer, secrets []string) *tail {
	if max <= 0 {
		max = 20
	}
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	return &tail{max: max, log: log, secrets: s}
}

// consume reads r to its end, line by line.
func (t *tail) consume(r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(line) < maxLine {
			line = append(line, chunk[:min(len(chunk), maxLine-len(line))]...)
		}
		if err == nil && isPrefix {
			continue
		}
		if err == nil || len(line) > 0 {
			t.add(string(line))
		}
		line = line[:0]
		if err != nil {
			return
		}
	}
}

// add records one line.
func (t *tail) add(line string) {
	line = secret.Scrub(line, t.secrets)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.log != nil {
		_, _ = io.WriteString(t.log, line+"\n")
	}
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(t.keep) == t.max {
		copy(t.keep, t.keep[1:])
		t.keep = t.keep[:t.max-1]
	}
	t.keep = append(t.keep, line)
}

// lines returns a copy of the kept lines.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.keep...)
}
