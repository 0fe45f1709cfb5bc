package backupagent

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
)

func TestResolveEncryption(t *testing.T) {
	const uri = "secret:d0abc1234567890abcde"
	cur, old := bytes.Repeat([]byte{0xc1}, 32), bytes.Repeat([]byte{0x01}, 32)
	curHex, oldHex := hex.EncodeToString(cur), hex.EncodeToString(old)
	get := func(u string) (map[string]string, error) {
		switch u {
		case uri:
			return map[string]string{"key": curHex, "previous-keys": oldHex}, nil
		case "secret:nokey":
			return map[string]string{"previous-keys": oldHex}, nil
		case "secret:badkey":
			return map[string]string{"key": curHex[:30]}, nil
		}
		return nil, errors.New("permission denied")
	}
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	tests := []struct {
		name     string
		typ      dbbackup.JobType
		extra    map[string]json.RawMessage
		wantKeys []string // fingerprints the journal gets, in order; nil: no keys field
		problem  string
	}{
		{"no encryption", dbbackup.Backup, nil, nil, ""},
		{"backup with the current key", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: str(uri)}, []string{artefact.Fingerprint(cur)}, ""},
		{"backup with a fingerprint", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: str(uri), EncryptionFingerprintKey: str(artefact.Fingerprint(old))},
			[]string{artefact.Fingerprint(old)}, ""},
		{"backup with an unknown fingerprint", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: str(uri), EncryptionFingerprintKey: str("0000000000000000")},
			nil, "cannot encrypt: the key of fingerprint 0000000000000000 is not in encryption-secret " + uri},
		{"fingerprint without a secret", dbbackup.Backup, map[string]json.RawMessage{EncryptionFingerprintKey: str("0000000000000000")}, nil, "encryption-key-fingerprint is set and encryption-secret is not"},
		{"restore gets every key", dbbackup.Restore, map[string]json.RawMessage{EncryptionSecretKey: str(uri)}, []string{artefact.Fingerprint(cur), artefact.Fingerprint(old)}, ""},
		{"unreadable secret", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: str("secret:nope")}, nil, "encryption-secret secret:nope cannot be read"},
		{"secret without key", dbbackup.Restore, map[string]json.RawMessage{EncryptionSecretKey: str("secret:nokey")}, nil, `the secret has no "key"`},
		{"bad key", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: str("secret:badkey")}, nil, `the secret's "key": an encryption key must be`},
		{"not a string", dbbackup.Backup, map[string]json.RawMessage{EncryptionSecretKey: json.RawMessage(`42`)}, nil, "encryption-secret is not a secret URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := dbbackup.Job{ID: "j1", Type: tt.typ, StorageInterface: dbbackup.StorageS3, Extra: tt.extra,
				Storage: dbbackup.StorageConfig{Bucket: "b", Extra: map[string]json.RawMessage{"other": str("kept")}}}
			got, problem := ResolveEncryption(job, get)
			if (problem == "") != (tt.problem == "") || !strings.Contains(problem, tt.problem) {
				t.Errorf("problem = %q, want containing %q", problem, tt.problem)
			}
			for _, k := range []string{curHex, oldHex, curHex[:30]} {
				if strings.Contains(problem, k) {
					t.Errorf("problem shows a key: %q", problem)
				}
			}
			raw, has := got.Storage.Extra[KeysField]
			if has != (tt.wantKeys != nil) {
				t.Fatalf("keys field present = %v, want %v", has, tt.wantKeys != nil)
			}
			if _, ok := job.Storage.Extra[KeysField]; ok {
				t.Errorf("the job passed in was changed")
			}
			if !has {
				return
			}
			if string(got.Storage.Extra["other"]) != `"kept"` {
				t.Errorf("storage-config extra lost: %v", got.Storage.Extra)
			}
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				t.Fatal(err)
			}
			ks, err := artefact.ParseKeyList(text)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ks.Fingerprints(), " "); got != strings.Join(tt.wantKeys, " ") {
				t.Errorf("keys = %s, want %s", got, strings.Join(tt.wantKeys, " "))
			}
			// The resolved job, printed or marshalled as JSON, shows no key.
			for _, out := range []string{got.Storage.String(), mustJSON(t, got.Storage)} {
				if strings.Contains(out, curHex) || strings.Contains(out, oldHex) {
					t.Errorf("the resolved storage-config shows a key: %s", out)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
