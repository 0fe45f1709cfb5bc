package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/store/s3"
)

// readStorageConfig reads a storage configuration file: YAML or JSON with
// the s3 interface's field names. Its errors never hold a credential.
func readStorageConfig(path string) (dbbackup.StorageConfig, error) {
	if path == "" {
		return dbbackup.StorageConfig{}, fmt.Errorf("--storage-config FILE is required")
	}
	data, err := bounded.ReadFile(path, "the storage configuration "+path, bounded.StorageConfig)
	if err != nil {
		return dbbackup.StorageConfig{}, err
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return dbbackup.StorageConfig{}, fmt.Errorf("storage configuration %s is neither JSON nor YAML", path)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return dbbackup.StorageConfig{}, fmt.Errorf("storage configuration %s: must be a mapping of strings", path)
	}
	cfg, ps := dbbackup.ParseStorageConfig(js)
	if len(ps) > 0 {
		return cfg, fmt.Errorf("storage configuration %s:\n%s", path, indent(ps.Error()))
	}
	return cfg, nil
}

func openStore(path string) (*s3.Store, dbbackup.StorageConfig, error) {
	return openStoreWith(path, s3.Options{})
}

// openStoreWith opens the store of the configuration at path with opts.
func openStoreWith(path string, opts s3.Options) (*s3.Store, dbbackup.StorageConfig, error) {
	cfg, err := readStorageConfig(path)
	if err != nil {
		return nil, cfg, err
	}
	st, err := s3.New(cfg, opts)
	return st, cfg, err
}

// checkScope refuses a --scope that cannot name a folder of backups.
func checkScope(scope string) error {
	if err := artefact.CheckScope(scope); err != nil {
		return fmt.Errorf("invalid --scope: %w", err)
	}
	return nil
}

// checkJobID refuses a --job-id that cannot name a backup.
func checkJobID(id string) error {
	if err := artefact.CheckJobID(id); err != nil {
		return fmt.Errorf("invalid --job-id: %w", err)
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
