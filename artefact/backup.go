package artefact

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/store"
)

// Producer writes one backup stream into w and the tool's log into log, and
// describes what it wrote. engine.Engine.Backup fits it.
type Producer func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error)

// BackupOptions says where and how to store one backup.
type BackupOptions struct {
	// Scope and JobID name the backup folder <scope>/<job-id>/.
	Scope, JobID string
	// Engine and Method say what the producer writes; they name the data
	// object, so a listing tells the engine without reading manifests.
	Engine engine.Kind
	Method engine.Method
	// Compression compresses the data with zstd.
	Compression bool
	// Key, when set, encrypts the data and the log with AES-256-GCM.
	Key []byte
	// FrameSize is the largest payload of one frame (the part header
	// records it); 0 means DefaultFrameSize.
	FrameSize int
	// Secrets are scrubbed from the log before it is stored.
	Secrets []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var errUploadEnded = errors.New("the upload ended early")

// ErrExists is returned when a backup with the same scope and job id was
// started before, whether it is running, failed or complete: Backup then
// writes nothing.
var ErrExists = errors.New("a backup with this job id already exists")

// Backup streams what produce writes through compression, framing and
// checksums (and encryption) into the store, never holding the whole
// backup in memory or on disk; then stores the log; then the manifest, the
// commit point. On failure it removes the partial data, keeps the log for
// the post-mortem, and writes no manifest.
func Backup(ctx context.Context, st store.Store, opts BackupOptions, produce Producer) (Manifest, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ref, err := NewRef(opts.Scope, opts.JobID)
	if err != nil {
		return Manifest{}, err
	}
	prefix := ref.Path()
	if opts.Method == "" {
		opts.Method = engine.MethodLogical
	}
	if opts.Engine != engine.PostgreSQL && opts.Engine != engine.MySQL {
		return Manifest{}, fmt.Errorf("engine %q: want %s or %s", opts.Engine, engine.PostgreSQL, engine.MySQL)
	}
	if _, err := st.Stat(ctx, prefix+ManifestName); err == nil {
		return Manifest{}, fmt.Errorf("cannot start backup %s: %w (complete); give this backup another job id", prefix, ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Manifest{}, fmt.Errorf("cannot check for an existing backup: %w", err)
	}
	m := Manifest{
		FormatVersion: ManifestVersion, JobID: opts.JobID, Scope: opts.Scope,
		StartedAt: now().UTC(), Compression: CompressionNone, Encryption: EncryptionNone,
	}
	if opts.Compression {
		m.Compression = CompressionZstd
	}
	if opts.Key != nil {
		if len(opts.Key) != KeySize {
			return Manifest{}, fmt.Errorf("an encryption key must be %d bytes", KeySize)
		}
		m.Encryption, m.KeyFingerprint, m.RawDigest = EncryptionAES, Fingerprint(opts.Key), RawDigestHMAC
		m.FormatVersion = ManifestVersionKeyed
	}
	// The start marker makes a backup that dies midway (even by SIGKILL,
	// before any part is complete) show in listings as incomplete. It is
	// created only if absent: it claims the folder, so that of two backups
	// with one job id the second writes nothing (and deletes nothing) there,
	// whether the first is running, failed or complete.
	marker := fmt.Sprintf("{\"job-id\":%q,\"engine\":%q,\"started-at\":%q}\n", opts.JobID, opts.Engine, m.StartedAt.Format(time.RFC3339Nano))
	if _, err := store.Create(ctx, st, prefix+StartedName, strings.NewReader(marker), store.PutOptions{ContentType: "application/json"}); errors.Is(err, store.ErrExists) {
		return Manifest{}, fmt.Errorf("cannot start backup %s: %w (running, failed or complete); give this backup another job id", prefix, ErrExists)
	} else if err != nil {
		return Manifest{}, fmt.Errorf("cannot start backup %s: %w", prefix, err)
	}
	// From here on the folder is this backup's: a failure removes only the
	// data object this call wrote there.
	log := newLogBuffer(1<<20, 3<<20)
	data, res, err := writeData(ctx, st, prefix, opts, produce, log)
	logPart, logErr := putLog(ctx, st, prefix, opts, log.Bytes())
	if err != nil {
		_ = st.Delete(context.WithoutCancel(ctx), prefix+data.Name)
		return Manifest{}, err
	}
	if logErr != nil {
		return Manifest{}, logErr
	}
	if res.Kind != opts.Engine {
		_ = st.Delete(context.WithoutCancel(ctx), prefix+data.Name)
		return Manifest{}, fmt.Errorf("the %s engine reported a %q backup", opts.Engine, res.Kind)
	}
	m.Engine, m.Parts, m.Log = res, []Part{data}, logPart
	m.RawSHA256, m.RawBytes, m.StoredBytes = data.RawSHA256, data.RawBytes, data.StoredBytes
	m.FinishedAt = now().UTC()
	if opts.Key != nil {
		if err := m.seal(opts.Key); err != nil {
			return Manifest{}, fmt.Errorf("cannot commit backup %s: %w", prefix, err)
		}
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("cannot commit backup %s: %w", prefix, err)
	}
	b, err := m.Marshal()
	if err != nil {
		return Manifest{}, err
	}
	if _, err := st.Put(ctx, prefix+ManifestName, bytes.NewReader(b), store.PutOptions{ContentType: "application/json"}); err != nil {
		_ = st.Delete(context.WithoutCancel(ctx), prefix+data.Name)
		return Manifest{}, fmt.Errorf("cannot store the manifest of %s: %w", prefix, err)
	}
	// The backup is committed; its index entry and card only speed up
	// listings (a listing restores missing ones), so their failure is not
	// the backup's.
	_, _ = writeIndex(ctx, st, ref, m)
	_ = writeCard(ctx, st, m.summary(), nil)
	return m, nil
}

// dataName names the data object: engine, method, compression, e.g.
// "postgresql-logical.zst.dbbk".
func dataName(opts BackupOptions) string {
	name := string(opts.Engine) + "-" + string(opts.Method)
	if opts.Compression {
		name += ".zst"
	}
	return name + dataSuffix
}

// dataSuffix ends the name of every data object.
const dataSuffix = ".dbbk"

// engineOf reads the engine kind back from a data object's name.
func engineOf(name string) engine.Kind {
	kind, _, ok := strings.Cut(name, "-")
	if !ok || !strings.HasSuffix(name, dataSuffix) {
		return ""
	}
	return engine.Kind(kind)
}

// The producer's writes are queued in asyncChunks chunks of asyncChunkSize
// bytes (see asyncWriter): one compressor chunk each, which the compressor
// takes where it lies, without gathering it in a buffer of its own.
const (
	asyncChunkSize = compressChunk
	asyncChunks    = 2
)

// writeData runs the producer into the store through the pipeline.
func writeData(ctx context.Context, st store.Store, prefix string, opts BackupOptions, produce Producer, log io.Writer) (Part, engine.Result, error) {
	part := Part{Name: dataName(opts), Container: ContainerFramed}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	type putResult struct {
		obj store.Object
		err error
	}
	done := make(chan putResult, 1)
	stored := newDigest()
	var producerDone, uploadFailedFirst atomic.Bool
	go func() {
		obj, err := st.Put(ctx, prefix+part.Name, teeReader{r: pr, d: stored}, store.PutOptions{})
		if err != nil {
			uploadFailedFirst.Store(!producerDone.Load())
			pr.CloseWithError(errUploadEnded) // unblock the producer
		}
		done <- putResult{obj, err}
	}()
	frameSize := opts.FrameSize
	if frameSize == 0 {
		frameSize = DefaultFrameSize
	}
	raw, err := backupRawDigest(opts)
	if err != nil {
		return part, engine.Result{}, err
	}
	res, err := func() (engine.Result, error) {
		fw, err := newFrameWriter(pw, opts.Key, frameSize)
		if err != nil {
			return engine.Result{}, err
		}
		part.Salt = partSalt(opts, fw)
		var sink io.Writer = fw
		var zw *compressor
		if opts.Compression {
			// One compressor goroutine (the async writer's): the dump tool
			// and the S3 upload need the other core. See compressor for
			// how it keeps up with the dump on high-entropy data.
			if zw, err = newCompressor(fw); err != nil {
				return engine.Result{}, err
			}
			sink = zw
		}
		aw := newAsyncWriter(teeWriter{w: sink, d: raw}, asyncChunkSize, asyncChunks)
		res, err := produce(ctx, aw, log)
		if err != nil {
			aw.abort()
			if zw != nil {
				zw.Close()
			}
			return res, err
		}
		if err := aw.Close(); err != nil {
			if zw != nil {
				zw.Close()
			}
			return res, err
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return res, fmt.Errorf("cannot finish compression: %w", err)
			}
		}
		return res, fw.Close()
	}()
	producerDone.Store(true)
	if err != nil {
		pw.CloseWithError(err)
		put := <-done
		if uploadFailedFirst.Load() && put.err != nil {
			return part, res, fmt.Errorf("cannot store %s%s: %w", prefix, part.Name, put.err)
		}
		return part, res, err
	}
	pw.Close()
	put := <-done
	if put.err != nil {
		return part, res, fmt.Errorf("cannot store %s%s: %w", prefix, part.Name, put.err)
	}
	part.RawBytes, part.RawSHA256 = raw.n, raw.sum()
	part.StoredBytes, part.SHA256 = stored.n, stored.sum()
	return part, res, nil
}

// putLog stores the job log, scrubbed of secrets; encrypted backups get an
// encrypted log.
func putLog(ctx context.Context, st store.Store, prefix string, opts BackupOptions, log []byte) (Part, error) {
	text := secret.Scrub(string(log), opts.Secrets)
	p := Part{Name: LogName, Container: ContainerPlain}
	raw, err := backupRawDigest(opts)
	if err != nil {
		return p, err
	}
	raw.Write([]byte(text))
	stored := newDigest()
	var body bytes.Buffer
	if opts.Key != nil {
		p.Container = ContainerFramed
		fw, err := newFrameWriter(&body, opts.Key, DefaultFrameSize)
		if err != nil {
			return p, err
		}
		p.Salt = partSalt(opts, fw)
		fw.Write([]byte(text))
		if err := fw.Close(); err != nil {
			return p, err
		}
	} else {
		body.WriteString(text)
	}
	stored.Write(body.Bytes())
	if _, err := st.Put(ctx, prefix+p.Name, bytes.NewReader(body.Bytes()), store.PutOptions{ContentType: "text/plain; charset=utf-8"}); err != nil {
		return p, fmt.Errorf("cannot store the log of %s: %w", prefix, err)
	}
	p.RawBytes, p.RawSHA256 = raw.n, raw.sum()
	p.StoredBytes, p.SHA256 = stored.n, stored.sum()
	return p, nil
}

// backupRawDigest returns the digest of a part's raw bytes: keyed when the
// backup is encrypted (see RawDigestHMAC).
func backupRawDigest(opts BackupOptions) (*digest, error) {
	m := Manifest{Scope: opts.Scope, JobID: opts.JobID, Encryption: EncryptionNone}
	if opts.Key != nil {
		m.Encryption = EncryptionAES
	}
	return newRawDigest(m, opts.Key)
}

// partSalt returns the salt the manifest records for a part written by fw:
// its header's, for encrypted backups only.
func partSalt(opts BackupOptions, fw *frameWriter) string {
	if opts.Key == nil {
		return ""
	}
	return hex.EncodeToString(fw.salt())
}
