#!/usr/bin/env bash
# install-databases.sh installs the PostgreSQL and MariaDB servers and tools
# the real-database tests drive (initdb, pg_dump, pg_restore, mariadbd,
# mariadb-dump, mariadb, mariadb-backup), and Prometheus with promtool, which
# the metrics tests scrape and query. It installs only the Debian packages
# whose programs are missing (postgresql, mariadb-server, mariadb-backup,
# mariadb-client, prometheus) and upgrades nothing: it runs apt-get
# update only when a package is missing, installs with --no-upgrade, and
# stops before the install if apt would upgrade an installed package (set
# ALLOW_UPGRADES=yes to let it). It never starts a service (a policy-rc.d
# during the install) and leaves none running or enabled at boot (the services the
# new packages enable are disabled again): the tests start throwaway
# servers of their own in temporary folders.
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
# apt-get update only when the package lists are empty or the packages
# cannot be found in them.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || ! apt-get install -s -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
	apt-get update -q
fi
# What apt would do: "Inst name [installed version] (new ...)" is an upgrade.
upgrades=$(apt-get install -s -q --no-install-recommends --no-upgrade "${missing[@]}" | awk '/^Inst [^ ]+ \[/ {print $2}')
if [[ -n $upgrades && ${ALLOW_UPGRADES:-} != yes ]]; then
	echo "install-databases: installing ${missing[*]} would upgrade these installed packages:" >&2
	echo "$upgrades" | sed 's/^/  /' >&2
	echo "install-databases: nothing installed; upgrade them yourself, or run again with ALLOW_UPGRADES=yes" >&2
	exit 1
fi
# The service units present before the install keep their state; those the
# new packages bring are disabled after it, and stopped in case one started
# despite the policy.
units=(postgresql.service mariadb.service mysql.service prometheus.service prometheus-node-exporter.service)
had=()
for u in "${units[@]}"; do
	if [[ -e /lib/systemd/system/$u || -e /etc/systemd/system/$u ]]; then had+=("$u"); fi
done
apt-get install -y -q --no-install-recommends --no-upgrade "${missing[@]}"
for u in "${units[@]}"; do
	if [[ " ${had[*]} " == *" $u "* ]]; then continue; fi
	if [[ -e /lib/systemd/system/$u ]] && command -v systemctl >/dev/null; then
		systemctl disable "$u" >/dev/null 2>&1 || true
		systemctl stop "$u" >/dev/null 2>&1 || true
		echo "install-databases: $u stopped and disabled at boot (the tests start their own servers)"
	fi
done
echo "install-databases: installed ${missing[*]}"
