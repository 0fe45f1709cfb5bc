package charmpack

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Write writes the .charm zip of files with binary as dispatch (mode
// 0755) to w; the YAML files get mode 0644. Entries carry Unix modes, as
// Juju's archive reader expects.
func Write(w io.Writer, files Files, binary string, now time.Time) error {
	man, err := manifestYAML(now, files.Bases)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{{"manifest.yaml", man}, {"metadata.yaml", files.Metadata}, {"actions.yaml", files.Actions}, {"config.yaml", files.Config}}
	for _, e := range entries {
		if e.data == nil {
			continue
		}
		if err := writeEntry(zw, e.name, 0o644, now, func(dst io.Writer) error {
			_, err := dst.Write(e.data)
			return err
		}); err != nil {
			return err
		}
	}
	bin, err := os.Open(binary)
	if err != nil {
		return fmt.Errorf("cannot pack dispatch: %w", err)
	}
	defer bin.Close()
	if err := writeEntry(zw, "dispatch", 0o755, now, func(dst io.Writer) error {
		_, err := io.Copy(dst, bin)
		return err
	}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	return nil
}

func writeEntry(zw *zip.Writer, name string, mode os.FileMode, now time.Time, fill func(io.Writer) error) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now}
	h.SetMode(mode)
	dst, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("cannot pack %s: %w", name, err)
	}
	if err := fill(dst); err != nil {
		return fmt.Errorf("cannot pack %s: %w", name, err)
	}
	return nil
}

// ReadDir reads and splits the charmcraft.yaml in dir.
func ReadDir(dir string) (Files, error) {
	b, err := os.ReadFile(filepath.Join(dir, "charmcraft.yaml"))
	if err != nil {
		return Files{}, fmt.Errorf("cannot read charm: %w", err)
	}
	f, err := Split(b)
	if err != nil {
		return Files{}, fmt.Errorf("cannot read charm in %s: %w", dir, err)
	}
	return f, nil
}

// Pack writes outDir/<name>.charm from the charm folder dir and its built
// binary and returns its path. The file appears whole or not at all.
func Pack(dir, binary, outDir string) (string, error) {
	files, err := ReadDir(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	tmp, err := os.CreateTemp(outDir, "."+files.Name+"-*.charm")
	if err != nil {
		return "", fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := Write(tmp, files, binary, time.Now()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	out := filepath.Join(outDir, files.Name+".charm")
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("cannot pack %s: %w", files.Name, err)
	}
	return out, nil
}
