package artefact

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A key file is read with a bound: a device that never ends or a huge file
// is refused at once, by name, without its bytes in the error.
func TestReadKeyFileBounds(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.key")
	if err := os.WriteFile(huge, []byte("CANARY-KEY-BYTES"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 2<<30); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.key")
	os.WriteFile(big, append([]byte(strings.Repeat("ab", KeySize)), bytes.Repeat([]byte{' '}, maxKeyFile+1-2*KeySize)...), 0o600)
	padded := filepath.Join(dir, "padded.key")
	os.WriteFile(padded, append([]byte(strings.Repeat("ab", KeySize)), bytes.Repeat([]byte{'\n'}, maxKeyFile-2*KeySize)...), 0o600)
	for _, path := range []string{"/dev/zero", huge, big} {
		start := time.Now()
		k, err := ReadKeyFile(path)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %v", path, took)
		}
		if err == nil || k != nil {
			t.Fatalf("%s: read a key", path)
		}
		if want := "encryption key file " + path + ": larger than 4096 bytes, not a key"; err.Error() != want {
			t.Errorf("%s: err = %q, want %q", path, err, want)
		}
		if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s: the error repeats the file's bytes: %v", path, err)
		}
	}
	k, err := ReadKeyFile(padded)
	if err != nil || !bytes.Equal(k, bytes.Repeat([]byte{0xab}, KeySize)) {
		t.Fatalf("a key padded to the bound: %x, %v", k, err)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing.key")); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Fatalf("missing file: err = %v, want one naming it", err)
	}
}
