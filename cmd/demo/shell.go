// The demo's third part, "demo shell", shows the engine room on embedded defaults, as an admin
// would drive it from a shell: it starts a throwaway PostgreSQL and a
// versitygw S3 server on 127.0.0.1, writes sample data, backs it up with
// `dbbackup backup`, lists and verifies it, breaks the data, restores it,
// shows it back, and shows that a damaged backup is refused with the
// database untouched. It exits non-zero if any step misbehaves.
//
// Usage: go run ./cmd/demo shell PATH-TO-DBBACKUP-BINARY
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// shellMain runs the shell demo with the dbbackup binary bin and returns
// the exit code.
func shellMain(bin string) int {
	if err := testenv.Run(func(p *testenv.Program) error { return shellDemo(p, bin) }); err != nil {
		fmt.Fprintf(os.Stderr, "demo shell: FAILED: %v\n", err)
		return 1
	}
	return 0
}

func shellDemo(p *testenv.Program, bin string) error {
	fmt.Println("== starting PostgreSQL and a versitygw S3 server on 127.0.0.1")
	pg := testenv.StartPostgres(p)
	srv := testenv.StartVersityGW(p)
	srv.CreateBucket(p, "backups")
	cfg := srv.StorageConfig("backups")
	cfg.Path = "demo"
	cfgFile := filepath.Join(p.TempDir(), "s3.yaml")
	yaml := fmt.Sprintf("bucket: backups\npath: demo\nendpoint: %s\nregion: %s\ns3-uri-style: path\naccess-key: %s\nsecret-key: %s\n", cfg.Endpoint, cfg.Region, cfg.AccessKey, cfg.SecretKey)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		return err
	}
	secrets := append(cfg.Secrets(), pg.Password)
	env := append(os.Environ(), "PGPASSWORD="+pg.Password)
	psql := func(sql string) string { return pg.SQL(p, "shop", sql) }
	pg.SQL(p, "postgres", "CREATE DATABASE shop")
	psql(`CREATE TABLE customers (id serial PRIMARY KEY, name text, city text);
INSERT INTO customers (name, city) VALUES ('Zoë', 'Zürich'), ('Ana', 'Lisboa'), ('Kenji', '東京');
INSERT INTO customers (name, city) SELECT 'customer ' || i, 'city ' || (i % 50) FROM generate_series(1, 50000) i;`)
	show := func() string {
		return psql("SELECT count(*) || ' customers; first: ' || string_agg(name || ' in ' || city, ', ' ORDER BY id) FILTER (WHERE id <= 3) FROM customers")
	}
	before := show()
	fmt.Printf("data: %s", before)

	run := func(wantCode int, args ...string) string {
		fmt.Printf("\n$ dbbackup %s\n", strings.Join(args, " "))
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		text := out.String()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				p.Fatalf("dbbackup printed a credential")
			}
		}
		fmt.Print(text)
		if code != wantCode {
			p.Fatalf("dbbackup %s exited %d, want %d", args[0], code, wantCode)
		}
		return strings.TrimSpace(text)
	}
	path := run(0, "backup", "--engine", "postgresql", "--database-url", pg.URL("shop"), "--storage-config", cfgFile)
	path = path[strings.LastIndex(path, "\n")+1:]
	run(0, "list", "--storage-config", cfgFile)
	run(0, "verify", "--storage-config", cfgFile, "--artefact-path", path)

	fmt.Println("\n== breaking the data")
	psql("DELETE FROM customers WHERE id % 3 = 0; UPDATE customers SET city = 'nowhere'")
	fmt.Printf("data: %s", show())
	run(0, "restore", "--engine", "postgresql", "--database-url", pg.URL("shop"), "--storage-config", cfgFile, "--artefact-path", path)
	after := show()
	fmt.Printf("data: %s", after)
	if after != before {
		p.Fatalf("the restored data differs from the data backed up")
	}

	fmt.Println("\n== flipping one byte of the stored backup, then restoring it")
	psql("UPDATE customers SET city = 'changed after the backup' WHERE id = 1")
	changed := show()
	if err := flipByte(srv.StorageConfig("backups"), path); err != nil {
		return err
	}
	run(1, "restore", "--engine", "postgresql", "--database-url", pg.URL("shop"), "--storage-config", cfgFile, "--artefact-path", path)
	if now := show(); now != changed {
		p.Fatalf("a refused restore changed the database")
	}
	fmt.Printf("data (untouched): %s", changed)
	fmt.Println("\ndemo shell: every step behaved as expected")
	return nil
}

// flipByte damages the middle of the backup's data object.
func flipByte(cfg dbbackup.StorageConfig, prefix string) error {
	ctx := context.Background()
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		return err
	}
	for obj, err := range st.List(ctx, prefix, store.ListOptions{}) {
		if err != nil {
			return err
		}
		if !strings.HasSuffix(obj.Key, ".dbbk") {
			continue
		}
		rc, err := st.Get(ctx, obj.Key)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		b[len(b)/2] ^= 0x01
		_, err = st.Put(ctx, obj.Key, bytes.NewReader(b), store.PutOptions{})
		return err
	}
	return fmt.Errorf("no data object under %s", prefix)
}
