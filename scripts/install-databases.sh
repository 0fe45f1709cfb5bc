#!/usr/bin/env bash
# install-databases.sh installs the PostgreSQL and MariaDB servers and tools
# the real-database tests drive (initdb, pg_dump, pg_restore, mariadbd,
# mariadb-dump, mariadb, mariadb-backup), and Prometheus with promtool, which
# the metrics tests scrape and query. It installs only the Debian packages
# whose programs are missing (postgresql, mariadb-server, mariadb-backup,
# mariadb-client, prometheus), through scripts/apt-install.sh: an
# installed package is upgraded only when apt cannot install them without
# it (named, with apt's reason; ALLOW_UPGRADES=no stops instead), no
# service is started, and none is left enabled at boot. The tests start
# throwaway servers of their own in temporary folders.
set -euo pipefail

missing=()
pg_ok=false
for d in /usr/lib/postgresql/*/bin; do
	if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then pg_ok=true; fi
done
if ! $pg_ok || ! command -v pg_dump >/dev/null || ! command -v pg_restore >/dev/null || ! command -v psql >/dev/null; then
	missing+=(postgresql)
fi
if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
	missing+=(mariadb-server)
fi
if ! command -v mariadb-backup >/dev/null; then
	missing+=(mariadb-backup)
fi
if ! command -v mariadb-dump >/dev/null && ! command -v mysqldump >/dev/null; then
	missing+=(mariadb-client)
fi

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	missing+=(prometheus)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-databases: PostgreSQL, MariaDB and Prometheus tools already installed"
	exit 0
fi

exec bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" install-databases "${missing[@]}"
