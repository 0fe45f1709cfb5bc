// The demo's third part, "demo shell", shows the engine room on embedded defaults, as an admin
// would drive it from a shell: it starts a versitygw S3 server and, one
// after the other, a throwaway PostgreSQL and MariaDB on 127.0.0.1; for
// each it writes sample data, backs it up with `dbbackup backup`, lists
// and verifies it, breaks the data, restores it, shows it back, and shows
// that a damaged backup is refused with the database untouched, printing
// every command and statement it runs. It exits non-zero if any step
// misbehaves.
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
	fmt.Println("== starting a versitygw S3 server on 127.0.0.1")
	srv := testenv.StartVersityGW(p)
	srv.CreateBucket(p, "backups")
	cfg := srv.StorageConfig("backups")
	cfg.Path = "demo"
	cfgFile := filepath.Join(p.TempDir(), "s3.yaml")
	yaml := fmt.Sprintf("bucket: backups\npath: demo\nendpoint: %s\nregion: %s\ns3-uri-style: path\naccess-key: %s\nsecret-key: %s\n", cfg.Endpoint, cfg.Region, cfg.AccessKey, cfg.SecretKey)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		return err
	}
	fmt.Printf("$ cat %s\n%s", cfgFile, strings.NewReplacer(cfg.AccessKey, "***", cfg.SecretKey, "***").Replace(yaml))

	fmt.Println("\n== PostgreSQL: starting a server on 127.0.0.1")
	pg := testenv.StartPostgres(p)
	pg.SQL(p, "postgres", "CREATE DATABASE shop")
	err := shellEngine(p, bin, srv, cfgFile, shellDB{
		engine: "postgresql", url: pg.URL("shop"), password: "PGPASSWORD=" + pg.Password, secret: pg.Password,
		client: `psql shop -c "%s"`,
		sql:    func(q string) string { return pg.SQL(p, "shop", q) },
		create: `CREATE TABLE customers (id serial PRIMARY KEY, name text, city text);
INSERT INTO customers (name, city) VALUES ('Zoë', 'Zürich'), ('Ana', 'Lisboa'), ('Kenji', '東京');
INSERT INTO customers (name, city) SELECT 'customer ' || i, 'city ' || (i % 50) FROM generate_series(1, 50000) i;`,
		show: "SELECT count(*) || ' customers; first: ' || string_agg(name || ' in ' || city, ', ' ORDER BY id) FILTER (WHERE id <= 3) FROM customers",
	})
	if err != nil {
		return err
	}

	fmt.Println("\n== MariaDB: starting a server on 127.0.0.1")
	maria := testenv.StartMariaDB(p)
	maria.SQL(p, "", "CREATE DATABASE shop")
	err = shellEngine(p, bin, srv, cfgFile, shellDB{
		engine: "mysql", url: maria.URL("shop"), password: "MYSQL_PWD=" + maria.Password, secret: maria.Password,
		client: `mariadb shop -e "%s"`,
		sql:    func(q string) string { return maria.SQL(p, "shop", q) },
		create: `CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name text, city text) CHARACTER SET utf8mb4;
INSERT INTO customers (name, city) VALUES ('Zoë', 'Zürich'), ('Ana', 'Lisboa'), ('Kenji', '東京');
INSERT INTO customers (name, city) SELECT CONCAT('customer ', seq), CONCAT('city ', seq % 50) FROM seq_1_to_50000;`,
		show: "SELECT CONCAT(count(*), ' customers; first: ', GROUP_CONCAT(IF(id <= 3, CONCAT(name, ' in ', city), NULL) ORDER BY id SEPARATOR ', ')) FROM customers",
	})
	if err != nil {
		return err
	}
	fmt.Println("\ndemo shell: every step behaved as expected")
	return nil
}

// shellDB is one database server of the shell demo, with the SQL the demo
// runs on it.
type shellDB struct {
	engine, url string
	// password is the environment variable dbbackup reads it from, set.
	password, secret string
	// client prints a statement as an admin would type it.
	client string
	sql    func(string) string
	// create writes the sample data; show summarises it in one line.
	create, show string
}

// shellEngine backs up the sample data of db, lists and verifies the
// backup, breaks the data, restores it and checks it back, then shows a
// damaged backup refused with the database untouched.
func shellEngine(p *testenv.Program, bin string, srv *testenv.S3Server, cfgFile string, db shellDB) error {
	exec1 := func(q string) {
		fmt.Printf("$ "+db.client+"\n", strings.Join(strings.Fields(q), " "))
		db.sql(q)
	}
	show := func() string {
		fmt.Printf("$ "+db.client+"\n", "SELECT count(*), ... FROM customers")
		out := db.sql(db.show)
		fmt.Print(out)
		return out
	}
	exec1(db.create)
	before := show()

	env := append(os.Environ(), db.password)
	secrets := append(srv.StorageConfig("backups").Secrets(), db.secret)
	run := func(wantCode int, args ...string) string {
		fmt.Printf("\n$ %s dbbackup %s\n", db.password[:strings.IndexByte(db.password, '=')+1]+"***", strings.Join(args, " "))
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
	path := run(0, "backup", "--engine", db.engine, "--database-url", db.url, "--storage-config", cfgFile)
	path = path[strings.LastIndex(path, "\n")+1:]
	run(0, "list", "--storage-config", cfgFile)
	run(0, "verify", "--storage-config", cfgFile, "--artefact-path", path)

	fmt.Println("\n== breaking the data")
	exec1("DELETE FROM customers WHERE id % 3 = 0; UPDATE customers SET city = 'nowhere'")
	show()
	run(0, "restore", "--engine", db.engine, "--database-url", db.url, "--storage-config", cfgFile, "--artefact-path", path)
	if after := show(); after != before {
		p.Fatalf("the restored data differs from the data backed up")
	}

	fmt.Println("\n== flipping one byte of the stored backup, then restoring it")
	exec1("UPDATE customers SET city = 'changed after the backup' WHERE id = 1")
	changed := show()
	key, err := flipByte(srv.StorageConfig("backups"), path)
	if err != nil {
		return err
	}
	fmt.Printf("# one byte flipped in the middle of s3://backups/%s\n", key)
	run(1, "restore", "--engine", db.engine, "--database-url", db.url, "--storage-config", cfgFile, "--artefact-path", path)
	fmt.Println("# the refused restore left the data as it was:")
	if now := show(); now != changed {
		p.Fatalf("a refused restore changed the database")
	}
	return nil
}

// flipByte damages the middle of the backup's data object and returns its
// key.
func flipByte(cfg dbbackup.StorageConfig, prefix string) (string, error) {
	ctx := context.Background()
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		return "", err
	}
	for obj, err := range st.List(ctx, prefix, store.ListOptions{}) {
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(obj.Key, ".dbbk") {
			continue
		}
		rc, err := st.Get(ctx, obj.Key)
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		b[len(b)/2] ^= 0x01
		_, err = st.Put(ctx, obj.Key, bytes.NewReader(b), store.PutOptions{})
		return obj.Key, err
	}
	return "", fmt.Errorf("no data object under %s", prefix)
}
