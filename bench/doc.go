// Package bench holds the end-to-end benchmarks of dbbackup: the dbbackup
// binary, built once per run, timed as a subprocess against the baselines
// measured in the same run on the same servers (pg_dump -Fc -Z0 to
// /dev/null, pg_restore from a local file, mariadb-dump to /dev/null, and
// pgBackRest's full backup to the same S3 server when installed). Each
// benchmark prints its ratios against the targets of docs/performance.md.
//
//	DBBACKUP_BENCH_SCALE=10 go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench
//
// The package has no code outside its tests.
package bench
