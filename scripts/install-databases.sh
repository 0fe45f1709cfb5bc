#!/usr/bin/env bash
# install-databases.sh installs the PostgreSQL and MariaDB servers and tools
# the real-database tests drive (initdb, pg_dump, pg_restore, mariadbd,
# mariadb-dump, mariadb, mariadb-backup). It is idempotent: it does nothing
# when every binary is already there, runs apt-get update only when a package
# is missing, and never starts a system service (the tests start throwaway
# servers of their own in temporary folders).
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

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-databases: PostgreSQL and MariaDB tools already installed"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "install-databases: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

# Keep apt from starting the servers: the tests start their own. A
# policy-rc.d that exits 101 forbids service starts during the install; we
# add one only if none is there and remove it afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	added_policy=true
fi
cleanup() { if $added_policy; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# apt-get update only when the package lists are empty or the install fails
# for lack of them.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
	apt-get update -q
fi
if ! apt-get install -y -q --no-install-recommends postgresql mariadb-server mariadb-backup mariadb-client; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends postgresql mariadb-server mariadb-backup mariadb-client
fi

# A Debian install may still have started a server where no policy-rc.d
# existed before; the tests never use it, so leave it be.
echo "install-databases: installed ${missing[*]}"
