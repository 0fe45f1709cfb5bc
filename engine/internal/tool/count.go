package tool

import "io"

// CountingWriter counts the bytes written through it and reports the total
// to an optional progress callback.
type CountingWriter struct {
	W        io.Writer   // where the bytes go
	N        int64       // bytes written so far
	Progress func(int64) // called with N after each write; may be nil
}

// Write writes p to the underlying writer.
func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	if c.Progress != nil && n > 0 {
		c.Progress(c.N)
	}
	return n, err
}

// CountingReader counts the bytes read through it and reports the total to
// an optional progress callback.
type CountingReader struct {
	R        io.Reader   // where the bytes come from
	N        int64       // bytes read so far
	Progress func(int64) // called with N after each read; may be nil
}

// Read reads from the underlying reader.
func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	if c.Progress != nil && n > 0 {
		c.Progress(c.N)
	}
	return n, err
}
