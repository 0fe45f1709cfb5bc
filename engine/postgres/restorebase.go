package postgres

import (
	"archive/tar"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// BaseRestoreSpec says where a physical backup is restored and how the
// server recovers from it.
type BaseRestoreSpec struct {
	// Dir is the data directory to write: an absolute path, absent or
	// empty (see CheckDataDir).
	Dir string
	// RestoreCommand is the restore_command the server runs to fetch each
	// archived WAL file ("%f" the file name, "%p" where to put it).
	RestoreCommand string
	// Target is the time to recover to; zero recovers to the end of the
	// archive.
	Target time.Time
	// Timeline is the timeline to recover along (RecoveryPlan.Timeline);
	// 0 means the newest.
	Timeline uint32
	// SystemID, when set, is the system identifier the manifest records
	// (engine.Physical.SystemID): the base's global/pg_control must carry
	// it, as the WAL segments recovery replays do.
	SystemID string
	// ServerVersion is the backed-up server's version (the manifest's
	// engine.server-version), e.g. "15.18 (Debian 15.18-0+deb12u1)".
	ServerVersion string
	// Log receives pg_verifybackup's output and our own lines.
	Log io.Writer
}

// major returns the major version in a version string: "15" of "15.18
// (Debian ...)" or of "pg_verifybackup (PostgreSQL) 15.18".
func major(v string) string {
	for _, f := range strings.Fields(v) {
		if f != "" && f[0] >= '0' && f[0] <= '9' {
			m, _, _ := strings.Cut(f, ".")
			return m
		}
	}
	return ""
}

// CheckDataDir refuses a data directory that is not an absolute path, or
// that exists and is not an empty directory.
func CheckDataDir(dir string) error {
	if dir == "" || !filepath.IsAbs(dir) {
		return fmt.Errorf("data directory %q must be an absolute path", dir)
	}
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot read data directory %s: %w", dir, err)
	case len(ents) > 0:
		return fmt.Errorf("data directory %s is not empty (it holds %s%s)", dir, ents[0].Name(), more(len(ents)-1))
	}
	return nil
}

func more(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// RestoreBase writes the base backup read from r (FormatBaseTar) into
// spec.Dir, checks it with pg_verifybackup against PostgreSQL's own
// backup_manifest, and writes the recovery settings: recovery.signal, and
// in postgresql.auto.conf the restore_command, the target time with
// recovery_target_action=promote, and the timeline. Started, the server
// recovers to the target and becomes a read-write primary.
//
// When the directory exists and we run as root, what is written is given
// to the directory's owner (the server's user). On any failure the
// directory is left empty (or absent, if it was).
func (e *Engine) RestoreBase(ctx context.Context, spec BaseRestoreSpec, r io.Reader) (err error) {
	if err := CheckDataDir(spec.Dir); err != nil {
		return err
	}
	if strings.ContainsAny(spec.RestoreCommand, "\n\r\x00") || spec.RestoreCommand == "" {
		return fmt.Errorf("cannot restore: restore_command is empty or spans lines")
	}
	uid, gid, existed, err := dirOwner(spec.Dir)
	if err != nil {
		return err
	}
	if !existed {
		if err := os.Mkdir(spec.Dir, 0o700); err != nil {
			return fmt.Errorf("cannot make data directory %s: %w", spec.Dir, err)
		}
	}
	defer func() {
		if err != nil {
			if cerr := emptyDir(spec.Dir, !existed); cerr != nil {
				err = fmt.Errorf("%w (and the data directory could not be emptied: %v)", err, cerr)
			}
		}
	}()
	if err := os.Chmod(spec.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot restrict data directory %s: %w", spec.Dir, err)
	}
	logf(spec.Log, "dbbackup: extracting the base backup into %s", spec.Dir)
	if err := extractTar(r, spec.Dir); err != nil {
		return fmt.Errorf("cannot restore the base backup into %s: %w", spec.Dir, err)
	}
	if err := checkControl(spec.Dir, spec.SystemID); err != nil {
		return fmt.Errorf("cannot restore: %w", err)
	}
	logf(spec.Log, "dbbackup: pg_verifybackup %s", spec.Dir)
	p, err := e.verifyPath()
	if err != nil {
		return err
	}
	args := []string{"--quiet", spec.Dir}
	if v, verr := tool.Version(ctx, p); verr == nil && spec.ServerVersion != "" && major(v) != major(spec.ServerVersion) {
		// Its pg_waldump reads only its own major's WAL; the WAL's
		// frames were checked as the base was read.
		logf(spec.Log, "dbbackup: %s is not of the server's major version (%s): it checks the files but not the WAL", v, spec.ServerVersion)
		args = append([]string{"--no-parse-wal"}, args...)
	}
	c := tool.Cmd{Path: p, Args: args, Log: spec.Log}
	if err := tool.Run(ctx, c); err != nil {
		return fmt.Errorf("cannot restore: the base backup does not match its backup_manifest: %w", err)
	}
	if err := writeRecovery(spec); err != nil {
		return err
	}
	if os.Geteuid() == 0 && existed && uid != 0 {
		if err := chownTree(spec.Dir, uid, gid); err != nil {
			return fmt.Errorf("cannot give data directory %s to its owner: %w", spec.Dir, err)
		}
	}
	return nil
}

// writeRecovery writes recovery.signal and appends the recovery settings
// to postgresql.auto.conf.
func writeRecovery(spec BaseRestoreSpec) error {
	if err := os.WriteFile(filepath.Join(spec.Dir, "recovery.signal"), nil, 0o600); err != nil {
		return fmt.Errorf("cannot write recovery.signal: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n# Written by dbbackup restore: recover from the WAL archive.\n")
	fmt.Fprintf(&b, "restore_command = %s\n", confQuote(spec.RestoreCommand))
	if spec.Timeline != 0 {
		fmt.Fprintf(&b, "recovery_target_timeline = '%d'\n", spec.Timeline)
	}
	if !spec.Target.IsZero() {
		fmt.Fprintf(&b, "recovery_target_time = %s\n", confQuote(spec.Target.UTC().Format("2006-01-02 15:04:05.999999-07")))
		fmt.Fprintf(&b, "recovery_target_action = 'promote'\n")
	}
	f, err := os.OpenFile(filepath.Join(spec.Dir, "postgresql.auto.conf"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write postgresql.auto.conf: %w", err)
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Close()
		return fmt.Errorf("cannot write postgresql.auto.conf: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write postgresql.auto.conf: %w", err)
	}
	return nil
}

// confQuote quotes s as a postgresql.conf string.
func confQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// extractTar writes the tar read from r under dir: directories and
// regular files only, every name inside dir.
func extractTar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("tar entry %q is outside the data directory", h.Name)
		}
		if name == "." {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return err
			}
			if err := writeFile(target, tr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("tar entry %q is of type %q, not a file or directory (a tablespace outside the data directory?)", h.Name, h.Typeflag)
		}
	}
}

func writeFile(target string, r io.Reader) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// dirOwner returns the owner of dir, and whether it exists.
func dirOwner(dir string) (uid, gid int, exists bool, err error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("cannot read data directory %s: %w", dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid), true, nil
	}
	return 0, 0, true, nil
}

// chownTree gives dir and everything under it to uid:gid.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// emptyDir removes everything in dir, and dir itself when remove is set.
func emptyDir(dir string, remove bool) error {
	if remove {
		return os.RemoveAll(dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// verifyPath finds pg_verifybackup: in Options.BinDir when set, else on
// PATH, else in the newest /usr/lib/postgresql/<major>/bin (Debian and
// Ubuntu put no wrapper for it on PATH).
func (e *Engine) verifyPath() (string, error) {
	p, err := e.path("pg_verifybackup")
	if err == nil || e.opts.BinDir != "" {
		return p, err
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, aerr := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if aerr != nil || major <= bestMajor {
			continue
		}
		if _, serr := os.Stat(filepath.Join(d, "pg_verifybackup")); serr == nil {
			best, bestMajor = filepath.Join(d, "pg_verifybackup"), major
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w (nor in /usr/lib/postgresql/*/bin)", err)
	}
	return best, nil
}

// checkControl checks that the data directory's global/pg_control
// starts with the system identifier want (when set).
func checkControl(dir, want string) error {
	if want == "" {
		return nil
	}
	id, err := ParseSystemID(want)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "global", "pg_control"))
	if err != nil {
		return fmt.Errorf("the base backup has no global/pg_control: %w", err)
	}
	defer f.Close()
	var b [8]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return fmt.Errorf("cannot read global/pg_control: %w", err)
	}
	if got := binary.LittleEndian.Uint64(b[:]); got != id {
		return fmt.Errorf("the base backup is of another cluster: its pg_control has system identifier %d, its manifest %d", got, id)
	}
	return nil
}
