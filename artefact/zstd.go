package artefact

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/klauspost/compress/huff0"
	"github.com/klauspost/compress/zstd"
)

// compressor writes a standard zstd stream: one zstd frame per chunk of
// input, each frame made one of two ways, chosen by measuring both now and
// then:
//
//   - matches: klauspost's encoder at its fastest level (LZ77 matches and
//     entropy coding); what repetitive data (pgbench's, 117x) needs, and at
//     1 GB/s it costs little there;
//   - literals: every byte a Huffman-coded literal, no match search; about
//     5x faster on high-entropy text (random hex: 790 against 140-235 MB/s
//     per core), where matches gain only 7% (ratio 2.04 against 1.91) and
//     the match search takes most of the time.
//
// Every chunkTrialMax chunks at most (more often after a change), the
// start of a chunk (trialSample bytes) is compressed both ways: matches win
// unless they save less than a tenth (matchShare) over literals, when the
// cheaper literals do. That chunk and the ones up to the next trial are
// compressed in the winning mode.
//
// Any zstd decoder reads the result (concatenated frames are part of the
// format), so backups written this way restore with older versions of
// this program and with the zstd command.
type compressor struct {
	w    io.Writer
	enc  *zstd.Encoder
	huff huff0.Scratch
	buf  []byte // gathered input of small writes, at most compressChunk
	out  []byte // the literal frame's output buffer
	mout []byte // the match frame's output buffer

	matches  bool // the mode between trials
	untilTry int  // chunks before the next trial
	interval int  // chunks between trials, doubling while the mode holds
	closed   bool
}

// Tuning of the compressor.
const (
	// compressChunk is the input of one zstd frame: the history matches
	// can reach (the window of the previous stream encoder, 1 MiB).
	compressChunk = 1 << 20
	// chunkTrialMax bounds the chunks between two trials of both modes.
	chunkTrialMax = 16
	// trialSample is how much of a chunk a trial compresses both ways: a
	// quarter of it, so that trials cost little beside the chunks.
	trialSample = 256 << 10
	// matchShare: matches are kept only when their frame is smaller than
	// this share of the literal frame's size.
	matchShare = 0.9
	// zstdBlock is zstd's largest block.
	zstdBlock = 128 << 10
)

func newCompressor(w io.Writer) (*compressor, error) {
	// WithLowerEncoderMem: a history buffer of 1.1 MiB instead of 2 MiB,
	// the same output (EncodeAll keeps no history between frames).
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(compressChunk), zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("cannot start compression: %v", err)
	}
	c := &compressor{w: w, enc: enc, interval: 1}
	c.huff.Reuse = huff0.ReusePolicyNone
	return c, nil
}

// Write compresses p. A whole chunk arriving while nothing is gathered
// (Backup's queue hands over chunks of exactly compressChunk bytes) is
// compressed where it lies; smaller writes are gathered in a buffer that
// grows up to a chunk as they come.
func (c *compressor) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if len(c.buf) == 0 && len(p) >= compressChunk {
			if err := c.frame(p[:compressChunk]); err != nil {
				return n, err
			}
			p, n = p[compressChunk:], n+compressChunk
			continue
		}
		k := min(len(p), compressChunk-len(c.buf))
		if len(c.buf)+k > cap(c.buf) {
			c.buf = append(make([]byte, 0, min(compressChunk, max(2*cap(c.buf), len(c.buf)+k))), c.buf...)
		}
		c.buf = append(c.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(c.buf) == compressChunk {
			if err := c.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Close writes the last frame. It does not close the underlying writer.
func (c *compressor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.flush()
	c.enc.Close()
	return err
}

// flush writes the gathered chunk as one frame.
func (c *compressor) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := c.frame(c.buf)
	c.buf = c.buf[:0]
	return err
}

// frame writes chunk as one zstd frame.
func (c *compressor) frame(chunk []byte) error {
	if c.untilTry == 0 {
		sample := chunk[:min(len(chunk), trialSample)]
		c.mout = c.enc.EncodeAll(sample, c.mout[:0])
		c.out = c.literalFrame(c.out[:0], sample)
		matches := float64(len(c.mout)) < matchShare*float64(len(c.out))
		if matches == c.matches {
			c.interval = min(2*c.interval, chunkTrialMax)
		} else {
			c.interval = 1
		}
		c.matches, c.untilTry = matches, c.interval
	}
	var frame []byte
	if c.matches {
		c.mout = c.enc.EncodeAll(chunk, c.mout[:0])
		frame = c.mout
	} else {
		c.out = c.literalFrame(c.out[:0], chunk)
		frame = c.out
	}
	c.untilTry--
	_, err := c.w.Write(frame)
	return err
}

// literalFrame appends to dst a zstd frame holding src as Huffman-coded
// literals only (RFC 8878: single-segment frame with its content size, no
// checksum; compressed blocks of literals and zero sequences, or raw and
// RLE blocks where those are smaller).
func (c *compressor) literalFrame(dst, src []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, 0xFD2FB528)
	// Frame header descriptor: 4-byte content size, single segment.
	dst = append(dst, 2<<6|1<<5)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	for len(src) > 0 {
		n := min(len(src), zstdBlock)
		dst = c.literalBlock(dst, src[:n], n == len(src))
		src = src[n:]
	}
	return dst
}

// Block types and literal section types of RFC 8878.
const (
	blockRaw        = 0
	blockRLE        = 1
	blockCompressed = 2
	literalsHuffman = 2
)

func appendBlockHeader(dst []byte, last bool, typ int, size int) []byte {
	h := uint32(size)<<3 | uint32(typ)<<1
	if last {
		h |= 1
	}
	return append(dst, byte(h), byte(h>>8), byte(h>>16))
}

// literalBlock appends one block of src (at most zstdBlock bytes).
func (c *compressor) literalBlock(dst, src []byte, last bool) []byte {
	var (
		out    []byte
		err    error
		single bool
	)
	switch {
	case len(src) >= 1024:
		out, _, err = huff0.Compress4X(src, &c.huff)
	case len(src) > 16:
		single = true
		out, _, err = huff0.Compress1X(src, &c.huff)
	default:
		err = huff0.ErrIncompressible
	}
	var lh []byte
	if err == nil {
		lh = literalsHeader(len(out), len(src), single)
		if len(lh)+len(out)+1 >= len(src) {
			err = huff0.ErrIncompressible
		}
	}
	switch err {
	case nil:
		dst = appendBlockHeader(dst, last, blockCompressed, len(lh)+len(out)+1)
		dst = append(dst, lh...)
		dst = append(dst, out...)
		return append(dst, 0) // no sequences
	case huff0.ErrUseRLE:
		dst = appendBlockHeader(dst, last, blockRLE, len(src))
		return append(dst, src[0])
	default: // incompressible
		dst = appendBlockHeader(dst, last, blockRaw, len(src))
		return append(dst, src...)
	}
}

// literalsHeader returns the literals section header of Huffman-coded
// literals: regenerated size n, compressed size (table and streams) comp.
func literalsHeader(comp, n int, single bool) []byte {
	h := uint64(literalsHuffman)
	size := 0
	switch cb, nb := bits.Len(uint(comp)), bits.Len(uint(n)); {
	case cb <= 10 && nb <= 10:
		if !single {
			h |= 1 << 2
		}
		h |= uint64(n)<<4 | uint64(comp)<<14
		size = 3
	case cb <= 14 && nb <= 14:
		h |= 2<<2 | uint64(n)<<4 | uint64(comp)<<18
		size = 4
	default: // at most 18 bits each: blocks are at most 128 KiB
		h |= 3<<2 | uint64(n)<<4 | uint64(comp)<<22
		size = 5
	}
	b := binary.LittleEndian.AppendUint64(nil, h)
	return b[:size]
}
