#!/usr/bin/env bash
# install-databases.sh installs the PostgreSQL and MariaDB servers and tools
# the real-database tests drive (initdb, pg_dump, pg_restore, mariadbd,
# mariadb-dump, mariadb, mariadb-backup), and Prometheus with promtool, which
# the metrics tests scrape and query. It installs only the Debian packages
# whose programs are missing (postgresql, mariadb-server, mariadb-backup,
# mariadb-client, prometheus) and upgrades only what they cannot be
# installed without: it runs apt-get update only when a package is missing
# and installs with --no-upgrade. If apt would upgrade an installed package,
# it first tries the install with every installed package pinned to its
# installed version; only if apt cannot install the new packages that way
# (a new package depends on a newer version, as libdbi-perl, which
# mariadb-server needs, depends on a perl security update a fresh Debian 12
# image lacks) does it upgrade, naming each package and apt's reason.
# ALLOW_UPGRADES=no stops instead. It never starts a service (a policy-rc.d
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
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt-get install -s -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
	apt-get update -q
fi
# What apt would do: "Inst name [installed version] (new ...)" is an upgrade.
apt_opts=(-q --no-install-recommends --no-upgrade)
upgrades=$(apt-get install -s "${apt_opts[@]}" "${missing[@]}" | awk '/^Inst [^ ]+ \[/ {print $2" "$3" -> "$4}' | tr -d '[](')
if [[ -n $upgrades ]]; then
	# Can apt do without them? Pin every installed package to its installed
	# version (a preferences file of our own, for this run only) and ask again.
	pins=$(mktemp -d)
	trap 'cleanup; rm -rf "$pins"' EXIT
	dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' |
		awk '$1=="ii" {printf "Package: %s\nPin: version %s\nPin-Priority: 1001\n\n", $2, $3}' >"$pins/installed.pref"
	pinned=(-o "Dir::Etc::PreferencesParts=$pins" -o Dir::Etc::Preferences=/dev/null)
	if why=$(apt-get install -s "${apt_opts[@]}" "${pinned[@]}" "${missing[@]}" 2>&1); then
		echo "install-databases: apt offered to upgrade installed packages it does not need to; installing with them held at their versions"
		apt_opts+=("${pinned[@]}")
		upgrades=""
	else
		echo "install-databases: ${missing[*]} cannot be installed without upgrading these installed packages:"
		echo "$upgrades" | sed 's/^/  /'
		echo "install-databases: because (apt, with every installed package held at its version):"
		echo "$why" | grep -E '^ .*: *Depends|^ .*: *Breaks|^ +Depends' | sed 's/^ */  /' || true
		if [[ ${ALLOW_UPGRADES:-} == no ]]; then
			echo "install-databases: nothing installed (ALLOW_UPGRADES=no); upgrade them yourself or run again without it" >&2
			exit 1
		fi
		echo "install-databases: upgrading only those (ALLOW_UPGRADES=no stops here instead)"
	fi
fi
# The service units present before the install keep their state; those the
# new packages bring are disabled after it, and stopped in case one started
# despite the policy.
units=(postgresql.service mariadb.service mysql.service prometheus.service prometheus-node-exporter.service)
had=()
for u in "${units[@]}"; do
	if [[ -e /lib/systemd/system/$u || -e /etc/systemd/system/$u ]]; then had+=("$u"); fi
done
apt-get install -y "${apt_opts[@]}" "${missing[@]}"
for u in "${units[@]}"; do
	if [[ " ${had[*]} " == *" $u "* ]]; then continue; fi
	if [[ -e /lib/systemd/system/$u ]] && command -v systemctl >/dev/null; then
		systemctl disable "$u" >/dev/null 2>&1 || true
		systemctl stop "$u" >/dev/null 2>&1 || true
		echo "install-databases: $u stopped and disabled at boot (the tests start their own servers)"
	fi
done
echo "install-databases: installed ${missing[*]}"
