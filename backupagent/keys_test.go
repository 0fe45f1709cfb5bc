package backupagent

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
)

func TestRestoreKey(t *testing.T) {
	a, b := bytes.Repeat([]byte{0xa}, 32), bytes.Repeat([]byte{0xb}, 32)
	withKeys := func(ks ...[]byte) dbbackup.Job {
		j := dbbackup.Job{ID: "j1", Type: dbbackup.Restore, ArtefactPath: "backups/pg/job-1/"}
		if ks != nil {
			raw, _ := json.Marshal(artefact.Keys(ks).Text())
			j.Storage.Extra = map[string]json.RawMessage{KeysField: raw}
		}
		return j
	}
	enc := func(k []byte) artefact.Manifest {
		return artefact.Manifest{Encryption: artefact.EncryptionAES, KeyFingerprint: artefact.Fingerprint(k)}
	}
	tests := []struct {
		name    string
		job     dbbackup.Job
		m       artefact.Manifest
		want    []byte
		problem string
	}{
		{"not encrypted", withKeys(a), artefact.Manifest{Encryption: artefact.EncryptionNone}, nil, ""},
		{"no encryption field", withKeys(a), artefact.Manifest{}, nil, ""},
		{"the old key", withKeys(b, a), enc(a), a, ""},
		{"the current key", withKeys(b, a), enc(b), b, ""},
		{"key missing", withKeys(b), enc(a), nil, "encrypted with the key of fingerprint " + artefact.Fingerprint(a) + ", which is not in the job's encryption secret (it holds keys[" + artefact.Fingerprint(b) + "])"},
		{"no secret", withKeys(), enc(a), nil, "encrypted with the key of fingerprint " + artefact.Fingerprint(a) + ", and the job names no encryption secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := restoreKey(tt.job, tt.m)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("key = %x, want %x", got, tt.want)
			}
			if (err == nil) != (tt.problem == "") || (err != nil && !strings.Contains(err.Error(), tt.problem)) {
				t.Errorf("error = %v, want containing %q", err, tt.problem)
			}
			if err != nil && (strings.Contains(err.Error(), hex.EncodeToString(a)) || strings.Contains(err.Error(), hex.EncodeToString(b))) {
				t.Errorf("error shows a key: %v", err)
			}
		})
	}
}
