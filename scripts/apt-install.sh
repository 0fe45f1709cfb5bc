#!/usr/bin/env bash
# apt-install.sh installs the Debian packages named on its command line
# (the installers call it with those whose programs are missing) the one
# way this project installs from Debian:
#  - apt-get update only when the package lists are empty or lack a
#    package;
#  - --no-install-recommends --no-upgrade, and an installed package is
#    upgraded only when apt cannot install the new ones without it: if apt
#    would upgrade one, the install is simulated again with every installed
#    package pinned to its installed version (a preferences file of our
#    own, for this run only); if that works, the install is made that way;
#    if not (a new package depends on a newer version, as libdbi-perl,
#    which mariadb-server needs, depends on a perl security update a fresh
#    Debian 12 image lacks), each upgrade is named with apt's reason and
#    made. ALLOW_UPGRADES=no stops there instead;
#  - no service starts during the install (a policy-rc.d that exits 101,
#    added only if none is there), and every unit the install enables at
#    boot (a new link under /etc/systemd/system/*.wants) is disabled again
#    and stopped: the tests start servers of their own.
#
# Usage: scripts/apt-install.sh NAME PACKAGE...   (NAME prefixes messages)
set -euo pipefail
name=$1
shift
if [[ $# -eq 0 ]]; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
	echo "$name: missing $*; run as root to install them" >&2
	exit 1
fi

policy=/usr/sbin/policy-rc.d
added_policy=false
pins=""
cleanup() {
	if $added_policy; then rm -f "$policy"; fi
	if [[ -n $pins ]]; then rm -rf "$pins"; fi
}
trap cleanup EXIT
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	added_policy=true
fi

export DEBIAN_FRONTEND=noninteractive
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt-get install -s -q --no-install-recommends "$@" >/dev/null 2>&1; then
	apt-get update -q
fi
# What apt would do: "Inst name [installed version] (new ...)" is an upgrade.
apt_opts=(-q --no-install-recommends --no-upgrade)
upgrades=$(apt-get install -s "${apt_opts[@]}" "$@" | awk '/^Inst [^ ]+ \[/ {print $2" "$3" -> "$4}' | tr -d '[](')
if [[ -n $upgrades ]]; then
	pins=$(mktemp -d)
	dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' |
		awk '$1=="ii" {printf "Package: %s\nPin: version %s\nPin-Priority: 1001\n\n", $2, $3}' >"$pins/installed.pref"
	pinned=(-o "Dir::Etc::PreferencesParts=$pins" -o Dir::Etc::Preferences=/dev/null)
	if why=$(apt-get install -s "${apt_opts[@]}" "${pinned[@]}" "$@" 2>&1); then
		echo "$name: apt offered to upgrade installed packages it does not need to; installing with them held at their versions"
		apt_opts+=("${pinned[@]}")
	else
		echo "$name: $* cannot be installed without upgrading these installed packages:"
		echo "$upgrades" | sed 's/^/  /'
		echo "$name: because (apt, with every installed package held at its version):"
		echo "$why" | grep -E ': *(Depends|Breaks|PreDepends):|^ +(Depends|Breaks|PreDepends):' | sed 's/^ */  /' || true
		if [[ ${ALLOW_UPGRADES:-} == no ]]; then
			echo "$name: nothing installed (ALLOW_UPGRADES=no); upgrade them yourself or run again without it" >&2
			exit 1
		fi
		echo "$name: upgrading only those (ALLOW_UPGRADES=no stops here instead)"
	fi
fi

wants() { find /etc/systemd/system -path '*.wants/*' 2>/dev/null | sort; }
before=$(wants)
apt-get install -y "${apt_opts[@]}" "$@"
comm -13 <(echo "$before") <(wants) | while read -r link; do
	unit=$(basename "$link")
	if command -v systemctl >/dev/null && systemctl disable "$unit" >/dev/null 2>&1; then :; else rm -f "$link"; fi
	if command -v systemctl >/dev/null; then systemctl stop "$unit" >/dev/null 2>&1 || true; fi
	echo "$name: $unit stopped and disabled at boot (the tests start their own servers)"
done
echo "$name: installed $*"
