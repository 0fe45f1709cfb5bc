package artefact

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os/exec"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// hexRows is like the random-text benchmark table: rows of random hex.
func hexRows(n int) []byte {
	var b bytes.Buffer
	row := make([]byte, 64)
	for i := 1; b.Len() < n; i++ {
		rand.Read(row)
		fmt.Fprintf(&b, "%d\t%s\n", i, hex.EncodeToString(row))
	}
	return b.Bytes()[:n]
}

// repetitive is like pgbench's rows: long runs of the same few bytes.
func repetitive(n int) []byte {
	var b bytes.Buffer
	for i := 1; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d\t%d\t0\t                                                                                  \n", i, 1+i/100000)
	}
	return b.Bytes()[:n]
}

func compress(t testing.TB, data []byte, writes int) ([]byte, *compressor) {
	t.Helper()
	var out bytes.Buffer
	c, err := newCompressor(&out)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += writes {
		if _, err := c.Write(data[off:min(off+writes, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), c
}

func decompress(t testing.TB, b []byte) []byte {
	t.Helper()
	dec, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	got, err := io.ReadAll(dec)
	if err != nil {
		t.Fatalf("cannot decompress: %v", err)
	}
	return got
}

func TestCompressorRoundTrip(t *testing.T) {
	random := make([]byte, 3<<20)
	rand.Read(random)
	mixed := append(append(append(hexRows(3<<20), repetitive(3<<20)...), random[:1<<20]...), hexRows(2<<20)...)
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{'x'}},
		{"17 bytes", []byte("0123456789abcdef0")},
		{"1023 bytes of hex", hexRows(1023)},
		{"1024 bytes of hex", hexRows(1024)},
		{"one block of hex", hexRows(zstdBlock)},
		{"one block and a byte", hexRows(zstdBlock + 1)},
		{"a run (RLE)", bytes.Repeat([]byte{'a'}, 300<<10)},
		{"random (raw blocks)", random},
		{"hex rows", hexRows(5<<20 + 3)},
		{"repetitive rows", repetitive(5<<20 + 3)},
		{"mixed", mixed},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, writes := range []int{7919, 256 << 10} {
				b, _ := compress(t, c.data, writes)
				if got := decompress(t, b); !bytes.Equal(got, c.data) {
					t.Fatalf("writes of %d: %d bytes back, want the %d written", writes, len(got), len(c.data))
				}
			}
		})
	}
}

func TestCompressorChoosesTheModeByMeasuring(t *testing.T) {
	for _, c := range []struct {
		name        string
		data        []byte
		wantMatches bool
		minRatio    float64
	}{
		{"hex rows: literals only", hexRows(20 << 20), false, 1.8},
		{"repetitive rows: matches", repetitive(20 << 20), true, 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, comp := compress(t, c.data, 256<<10)
			if comp.matches != c.wantMatches {
				t.Fatalf("matches = %v, want %v", comp.matches, c.wantMatches)
			}
			if ratio := float64(len(c.data)) / float64(len(b)); ratio < c.minRatio {
				t.Fatalf("ratio %.2f, want at least %.1f", ratio, c.minRatio)
			}
		})
	}
}

// TestCompressorOutputIsStandardZstd decodes with the zstd command.
func TestCompressorOutputIsStandardZstd(t *testing.T) {
	path, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("the zstd command is not installed")
	}
	data := append(append(hexRows(3<<20), repetitive(2<<20)...), bytes.Repeat([]byte{0}, 200<<10)...)
	b, _ := compress(t, data, 256<<10)
	cmd := exec.Command(path, "-d", "-c", "-q")
	cmd.Stdin = bytes.NewReader(b)
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd -d: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("zstd -d gave %d bytes, want the %d written", len(got), len(data))
	}
}

func FuzzCompressor(f *testing.F) {
	f.Add([]byte("hello"), uint16(3), int64(1))
	f.Add(hexRows(5000), uint16(1000), int64(2))
	f.Fuzz(func(t *testing.T, seed []byte, repeat uint16, shuffle int64) {
		// Grow the seed past a block and a chunk now and then.
		data := bytes.Repeat(seed, int(repeat)%400+1)
		data = data[:min(len(data), compressChunk+zstdBlock+77)]
		if len(data) > 0 {
			r := mrand.New(mrand.NewPCG(uint64(shuffle), 0))
			for range len(data) / 64 {
				data[r.IntN(len(data))] = byte(r.IntN(256))
			}
		}
		b, _ := compress(t, data, 4096)
		if got := decompress(t, b); !bytes.Equal(got, data) {
			t.Fatalf("%d bytes back, want the %d written", len(got), len(data))
		}
	})
}

func BenchmarkCompressor(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"hex", hexRows(16 << 20)},
		{"repetitive", repetitive(16 << 20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				compress(b, c.data, 256<<10)
			}
		})
	}
}

// TestCompressorTakesWholeChunksWhereTheyLie writes whole chunks (as
// Backup's queue hands them over), misaligned large writes and small ones:
// each stream decompresses to its input, whole chunks are compressed
// without being gathered (the compressor's buffer holds only the short
// last chunk), and gathering never takes more than a chunk.
func TestCompressorTakesWholeChunksWhereTheyLie(t *testing.T) {
	const tail = 12345
	data := append(hexRows(2*compressChunk), repetitive(compressChunk+tail)...)
	for _, c := range []struct {
		name      string
		writes    int
		maxBuffer int
	}{
		{"whole chunks", compressChunk, tail},
		{"misaligned", compressChunk + 1000, compressChunk},
		{"small", 7919, compressChunk},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, comp := compress(t, data, c.writes)
			if got := decompress(t, b); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes back, want the %d written", len(got), len(data))
			}
			if cap(comp.buf) > c.maxBuffer {
				t.Errorf("the compressor gathered in a buffer of %d bytes, want at most %d", cap(comp.buf), c.maxBuffer)
			}
		})
	}
}
