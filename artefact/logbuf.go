package artefact

import (
	"bytes"
	"fmt"
)

// logBuffer keeps a job log within a bound: the first head bytes and the
// last tail bytes, with a note of what was left out between them.
type logBuffer struct {
	head, tail []byte
	headMax    int
	tailMax    int
	dropped    int64
}

func newLogBuffer(headMax, tailMax int) *logBuffer {
	return &logBuffer{headMax: headMax, tailMax: tailMax}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.headMax - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	b.tail = append(b.tail, p...)
	if over := len(b.tail) - b.tailMax; over > 0 {
		b.dropped += int64(over)
		b.tail = append(b.tail[:0], b.tail[over:]...)
	}
	return n, nil
}

// Bytes returns the kept log.
func (b *logBuffer) Bytes() []byte {
	var out bytes.Buffer
	out.Write(b.head)
	if b.dropped > 0 {
		fmt.Fprintf(&out, "\n[... %d bytes of log left out ...]\n", b.dropped)
	}
	out.Write(b.tail)
	return out.Bytes()
}
