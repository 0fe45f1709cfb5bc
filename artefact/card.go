package artefact

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
)

// cardsDir is the folder, beside a scope's backup folders and its index,
// holding one empty object per complete backup whose key carries the
// backup's summary: "<scope>/_cards/<job-id>/<summary>" (Ref.cardFolder).
// An object store's listing returns keys, so a listing reads every
// summary of a scope from one flat listing of its cards, with no object
// read and no cache to go stale: 10,000 backups are ten pages of a
// listing. The summary is the card format's JSON, deflated and in
// unpadded base64url, cut into segments of at most cardSegment characters
// (a file-backed S3 server keeps each segment as a file or folder name,
// at most 255 bytes).
//
// A card is written after the backup's manifest and index entry, and
// deleted first; like the index it only speeds a listing up: a backup
// without a usable card (lost, damaged, too long for a key, two for one
// backup, or written before cards existed) is listed from its index entry
// or its folder, and a listing that may repair writes its card.
const cardsDir = "_cards"

const (
	// cardSegment is the longest segment of a card's key.
	cardSegment = 200
	// cardMaxKey bounds a card's key (from the storage path), leaving room
	// for a storage path within S3's 1,024 bytes.
	cardMaxKey = 700
	// cardMaxJSON bounds the summary a card inflates to.
	cardMaxJSON = 4096
	// cardVersion is the version of the card format.
	cardVersion = 1
)

// card is a backup's summary as its card's key carries it, in short names.
type card struct {
	Version     int                    `json:"v"`
	Engine      engine.Kind            `json:"e"`
	Method      engine.Method          `json:"m"`
	Databases   []string               `json:"d,omitempty"`
	Started     int64                  `json:"s"`
	Finished    int64                  `json:"f"`
	Raw         int64                  `json:"r"`
	Stored      int64                  `json:"b"`
	Compression string                 `json:"c,omitempty"`
	Encryption  string                 `json:"x,omitempty"`
	Key         string                 `json:"k,omitempty"`
	Server      string                 `json:"sv,omitempty"`
	Binlog      *engine.BinlogPosition `json:"bl,omitempty"`
}

// cardsFolder is the folder of scope's cards, "<scope>/_cards/".
func cardsFolder(scope string) string { return ScopeFolder(scope) + cardsDir + "/" }

// cardFolder is the folder of the backup's card, "<scope>/_cards/<job-id>/",
// from the store rooted at the storage path.
func (r Ref) cardFolder() string { return InBucket(r.Root, cardsFolder(r.Scope)+r.JobID+"/") }

// cardKey returns the key of the card of the complete backup s, or an
// error when its summary does not fit in a key.
func cardKey(s Summary) (string, error) {
	c := card{Version: cardVersion, Engine: s.Engine, Method: s.Method, Databases: s.Databases,
		Started: unixNano(s.StartedAt), Finished: unixNano(s.FinishedAt), Raw: s.RawBytes, Stored: s.StoredBytes,
		Compression: s.Compression, Encryption: s.Encryption, Key: s.KeyFingerprint, Server: s.ServerVersion, Binlog: s.Binlog}
	js, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression) // the level is valid
	_, _ = w.Write(js)                                 // a bytes.Buffer takes every write
	_ = w.Close()
	enc := base64.RawURLEncoding.EncodeToString(z.Bytes())
	var segs []string
	for len(enc) > cardSegment {
		segs, enc = append(segs, enc[:cardSegment]), enc[cardSegment:]
	}
	key := s.Ref().cardFolder() + strings.Join(append(segs, enc), "/")
	if len(key) > cardMaxKey {
		return "", fmt.Errorf("the summary of backup %s takes %d bytes as a key, more than %d", s.Prefix, len(key), cardMaxKey)
	}
	return key, nil
}

// errBadCard is the error of a card that cannot be read.
var errBadCard = errors.New("not a backup's card")

// parseCard reads the summary a card's key carries; rest is the key after
// the folder of its scope's cards ("<job-id>/<summary>"). The summary is
// that of a complete backup of scope; anything odd makes the card unusable.
func parseCard(scope, rest string) (Summary, error) {
	id, enc, ok := strings.Cut(rest, "/")
	if !ok || !namePattern.MatchString(id) || enc == "" {
		return Summary{}, fmt.Errorf("%w: no job id and summary", errBadCard)
	}
	segs := strings.Split(enc, "/")
	for i, seg := range segs {
		if seg == "" || len(seg) > cardSegment || (i < len(segs)-1 && len(seg) != cardSegment) {
			return Summary{}, fmt.Errorf("%w: segment %d", errBadCard, i)
		}
	}
	z, err := base64.RawURLEncoding.Strict().DecodeString(strings.Join(segs, ""))
	if err != nil {
		return Summary{}, fmt.Errorf("%w: %v", errBadCard, err)
	}
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), cardMaxJSON+1))
	if err != nil || len(js) > cardMaxJSON {
		return Summary{}, fmt.Errorf("%w: the summary does not inflate within %d bytes", errBadCard, cardMaxJSON)
	}
	var c card
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return Summary{}, fmt.Errorf("%w: the summary is not the card format", errBadCard)
	}
	if err := c.validate(); err != nil {
		return Summary{}, fmt.Errorf("%w: %v", errBadCard, err)
	}
	s := Summary{Scope: scope, JobID: id, Prefix: Ref{Scope: scope, JobID: id}.Path(), Complete: true,
		Engine: c.Engine, Method: c.Method, Databases: c.Databases,
		StartedAt: fromUnixNano(c.Started), FinishedAt: fromUnixNano(c.Finished),
		RawBytes: c.Raw, StoredBytes: c.Stored, Compression: c.Compression, Encryption: c.Encryption,
		KeyFingerprint: c.Key, ServerVersion: c.Server, Binlog: c.Binlog}
	return s, nil
}

// validate checks what a card says as a manifest's validation would.
func (c card) validate() error {
	short := func(s string) bool { return len(s) <= 256 }
	switch {
	case c.Version != cardVersion:
		return fmt.Errorf("version %d", c.Version)
	case c.Engine != engine.PostgreSQL && c.Engine != engine.MySQL:
		return fmt.Errorf("engine %q", c.Engine)
	case c.Method == "" || !short(string(c.Method)):
		return errors.New("method")
	case c.Started <= 0 || c.Finished < c.Started:
		return errors.New("times")
	case c.Raw < 0 || c.Stored < 0:
		return errors.New("sizes")
	case c.Compression != CompressionZstd && c.Compression != CompressionNone:
		return fmt.Errorf("compression %q", c.Compression)
	case c.Encryption != EncryptionNone && c.Encryption != EncryptionAES:
		return fmt.Errorf("encryption %q", c.Encryption)
	case (c.Encryption == EncryptionAES) != (c.Key != "") || !short(c.Key) || !short(c.Server):
		return errors.New("key fingerprint")
	case c.Binlog != nil && (c.Engine != engine.MySQL || c.Binlog.Validate() != nil):
		return errors.New("binary log position")
	}
	for _, d := range c.Databases {
		if d == "" || !short(d) {
			return errors.New("database name")
		}
	}
	return nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }

// scopeCards is what one listing of a scope's cards found: per job id the
// keys of its cards and, for one usable card, its summary.
type scopeCards struct {
	keys map[string][]string
	sums map[string]Summary
}

// listCards lists the cards of scope; an unusable card is left out of sums.
func listCards(ctx context.Context, st store.Store, scope string) (scopeCards, error) {
	cs := scopeCards{keys: map[string][]string{}, sums: map[string]Summary{}}
	folder := cardsFolder(scope)
	for obj, err := range st.List(ctx, folder, store.ListOptions{Recursive: true}) {
		if err != nil {
			return cs, fmt.Errorf("cannot list the backup cards of %s: %w", scope, err)
		}
		rest := strings.TrimPrefix(obj.Key, folder)
		id, _, _ := strings.Cut(rest, "/")
		cs.keys[id] = append(cs.keys[id], obj.Key)
		if s, err := parseCard(scope, rest); err == nil && obj.Size == 0 {
			s.LastModified = obj.ModTime
			cs.sums[id] = s
		}
	}
	for id, keys := range cs.keys {
		if len(keys) != 1 {
			delete(cs.sums, id) // two cards for one backup: neither is trusted
		}
	}
	return cs, nil
}

// writeCard stores the card of the complete backup s, deleting first the
// other card objects of the backup in stale. A summary too long for a key
// is no error (the backup is listed from its index entry); a store that
// refuses the write is.
func writeCard(ctx context.Context, st store.Store, s Summary, stale []string) error {
	key, err := cardKey(s)
	if err != nil {
		return nil
	}
	for _, k := range stale {
		if k != key {
			if err := st.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	_, err = st.Put(ctx, key, bytes.NewReader(nil), store.PutOptions{})
	return err
}

// deleteCards removes every card object of the backup ref.
func deleteCards(ctx context.Context, st store.Store, ref Ref) (int, error) {
	n := 0
	for obj, err := range st.List(ctx, ref.cardFolder(), store.ListOptions{Recursive: true}) {
		if err != nil {
			return n, fmt.Errorf("cannot list the card of %s: %w", ref.Path(), err)
		}
		if err := st.Delete(ctx, obj.Key); err != nil {
			return n, fmt.Errorf("cannot delete the card of %s: %w", ref.Path(), err)
		}
		n++
	}
	return n, nil
}

// ListingEntries returns how many objects the backup ref has outside its
// folder, for listings: its index entry and its card objects.
func ListingEntries(ctx context.Context, st store.Store, ref Ref) (int, error) {
	n := 0
	if _, err := st.Stat(ctx, ref.IndexKey()); err == nil {
		n++
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("cannot look up the index entry of %s: %w", ref.Path(), err)
	}
	for _, err := range st.List(ctx, ref.cardFolder(), store.ListOptions{Recursive: true}) {
		if err != nil {
			return 0, fmt.Errorf("cannot list the card of %s: %w", ref.Path(), err)
		}
		n++
	}
	return n, nil
}
