package artefact

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"unsafe"
)

// recorder keeps what it is written and the first byte's address of every
// write, to tell a slice handed on from a copy of it.
type recorder struct {
	bytes.Buffer
	starts []*byte
}

func (r *recorder) Write(p []byte) (int, error) {
	if len(p) > 0 {
		r.starts = append(r.starts, unsafe.SliceData(p))
	}
	return r.Buffer.Write(p)
}

// frameLengths returns the payload length and final flag of every frame
// of a part.
func frameLengths(t *testing.T, part []byte, overhead int) (lengths []int, finals []bool) {
	t.Helper()
	for off := headerSize; off < len(part); {
		if off+5 > len(part) {
			t.Fatalf("frame head cut at %d", off)
		}
		n := int(binary.BigEndian.Uint32(part[off:]))
		lengths, finals = append(lengths, n-overhead), append(finals, part[off+4] == 1)
		off += 5 + n
	}
	return lengths, finals
}

// TestFrameWriterHandsLargeWritesOnWithoutCopying writes large and small
// pieces and checks that a large write reaches the part's writer as the
// caller's own slice (no copy), that every frame stays within the frame
// size (small writes gathered into frames of frameGather at most), that
// only the last frame is final, and that the part reads back whole,
// unkeyed and under a key, with a flipped byte in a direct frame refused.
func TestFrameWriterHandsLargeWritesOnWithoutCopying(t *testing.T) {
	big := make([]byte, 2*DefaultFrameSize+12345)
	rand.Read(big)
	mid := make([]byte, 300<<10)
	rand.Read(mid)
	small := bytes.Repeat([]byte("small write\n"), 100)
	key := bytes.Repeat([]byte{9}, KeySize)
	for _, c := range []struct {
		name string
		key  []byte
	}{{"crc32c", nil}, {"aes-256-gcm", key}} {
		t.Run(c.name, func(t *testing.T) {
			var rec recorder
			fw, err := newFrameWriter(&rec, c.key, DefaultFrameSize)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			write := func(p []byte) {
				if n, err := fw.Write(p); n != len(p) || err != nil {
					t.Fatalf("write of %d: %d, %v", len(p), n, err)
				}
				want.Write(p)
			}
			write(mid) // nothing gathered: framed in place
			for range 300 {
				write(small) // gathered: 360 KB, one full frame of frameGather and a rest
			}
			write(big) // the rest fills a gathered frame first, then frames in place
			write(mid)
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := fw.Write(small); err == nil {
				t.Error("a write after Close was taken")
			}
			part := rec.Bytes()
			if c.key == nil {
				handedOn := map[*byte]bool{}
				for _, s := range rec.starts {
					handedOn[s] = true
				}
				if !handedOn[unsafe.SliceData(mid)] {
					t.Error("a 300 KiB write was copied before it reached the writer")
				}
			}
			lengths, finals := frameLengths(t, part, fw.s.overhead())
			for i, n := range lengths {
				if n < 0 || n > DefaultFrameSize {
					t.Errorf("frame %d holds %d bytes, frame size %d", i, n, DefaultFrameSize)
				}
				if finals[i] != (i == len(lengths)-1) {
					t.Errorf("frame %d of %d: final %v", i, len(lengths), finals[i])
				}
			}
			if lengths[0] != len(mid) || lengths[1] != frameGather {
				t.Errorf("first frames hold %v, want %d (in place) then %d (gathered)", lengths[:2], len(mid), frameGather)
			}
			fr, err := newFrameReader(bytes.NewReader(part), c.key, fw.salt())
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(fr)
			if err != nil || !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("read back %d bytes (want %d), err %v", len(got), want.Len(), err)
			}
			bad := bytes.Clone(part)
			bad[headerSize+5+1000] ^= 1
			if fr, err = newFrameReader(bytes.NewReader(bad), c.key, fw.salt()); err == nil {
				_, err = io.ReadAll(fr)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("flipped byte in the first frame: err %v, want ErrCorrupt", err)
			}
		})
	}
}
