// Package bench holds the end-to-end benchmarks of dbbackup: the dbbackup
// binary, built once per run, timed as a subprocess against baselines
// measured in the same run, on the same servers, in rounds whose order
// alternates: pg_dump -Fc -Z0 and mariadb-dump to /dev/null, the floor
// pipelines (the dump tool | zstd -1 -T1 | one streamed multipart upload to
// the same S3 server), pg_restore and the mariadb client from a local file,
// pgBackRest's full backup of a cluster of its own, `dbbackup list` in a
// fresh process, and point-in-time recovery: the archivers under a write
// load (peak RSS, lag) and restores to a time, MariaDB's against
// mariadb-binlog, PostgreSQL's (physical base backup and restore) against
// pgBackRest's. Every restore is checked by content checksums; peak RSS
// is the sum of the command's process tree. Each benchmark prints its
// ratios against the targets of docs/performance.md and fails on a missed
// one unless BENCH_TARGETS=report.
//
//	DBBACKUP_BENCH_SCALE=10 go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench
//
// The package has no code outside its tests.
package bench
