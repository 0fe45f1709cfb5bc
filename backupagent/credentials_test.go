package backupagent

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

func TestResolveCredentials(t *testing.T) {
	const uri = "secret:d0abc1234567890abcde"
	plain := dbbackup.StorageConfig{Bucket: "b", Credentials: dbbackup.Credentials{AccessKey: "canary-ak", SecretKey: "canary-sk"}}
	masked := func(extra string) dbbackup.StorageConfig {
		c := dbbackup.StorageConfig{Bucket: "b", Credentials: dbbackup.Credentials{AccessKey: dbbackup.Mask, SecretKey: dbbackup.Mask}}
		if extra != "" {
			c.Extra = map[string]json.RawMessage{CredentialsSecretKey: json.RawMessage(extra)}
		}
		return c
	}
	get := func(u string) (map[string]string, error) {
		switch u {
		case uri:
			return map[string]string{"access-key": "canary-ak", "secret-key": "canary-sk"}, nil
		case "secret:empty":
			return map[string]string{"other": "x"}, nil
		}
		return nil, errors.New("permission denied")
	}
	tests := []struct {
		name    string
		storage dbbackup.StorageConfig
		wantAK  string
		problem string // part of the problem, "" for none
	}{
		{"plain keys", plain, "canary-ak", ""},
		{"secret", masked(`"` + uri + `"`), "canary-ak", ""},
		{"masked without secret", masked(""), dbbackup.Mask, "storage-config.credentials-secret is not set"},
		{"unreadable secret", masked(`"secret:nope"`), dbbackup.Mask, "storage-config.credentials-secret secret:nope cannot be read"},
		{"secret without keys", masked(`"secret:empty"`), dbbackup.Mask, "has no access-key or secret-key"},
		{"not a string", masked(`42`), dbbackup.Mask, "storage-config.credentials-secret is not a secret URI"},
		{"empty string", masked(`""`), dbbackup.Mask, "storage-config.credentials-secret is not a secret URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := dbbackup.Job{ID: "j1", Type: dbbackup.Backup, StorageInterface: dbbackup.StorageS3, Storage: tt.storage}
			got, problem := ResolveCredentials(job, get)
			if got.Storage.AccessKey != tt.wantAK {
				t.Errorf("access-key = %q, want %q", got.Storage.AccessKey, tt.wantAK)
			}
			if (problem == "") != (tt.problem == "") || !strings.Contains(problem, tt.problem) {
				t.Errorf("problem = %q, want containing %q", problem, tt.problem)
			}
			if strings.Contains(problem, "canary") {
				t.Errorf("problem leaks a credential: %q", problem)
			}
		})
	}
}
