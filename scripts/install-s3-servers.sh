#!/usr/bin/env bash
# install-s3-servers.sh builds the two S3 servers the tests run against
# (versitygw and MinIO) with `go install` at pinned versions into the
# gitignored .cache/bin of this repository. It is idempotent: a binary
# already built at its pinned version (recorded in a stamp file beside it)
# is kept. MinIO's first build takes several minutes.
#
# Usage: scripts/install-s3-servers.sh [versitygw|minio]...   (default: both)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/.cache/bin"
mkdir -p "${bin}"

declare -A pkg=(
	[versitygw]="github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	[minio]="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
)

install_one() {
	local name="$1" want="${pkg[$1]}"
	local stamp="${bin}/${name}.version"
	if [[ -x "${bin}/${name}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
		echo "install-s3-servers: ${name} already built at ${want}"
		return 0
	fi
	echo "install-s3-servers: building ${want} (this may take minutes)"
	rm -f "${stamp}"
	# Outside the module: GOFLAGS from the repo must not apply, and the
	# install must not touch this repository's go.mod.
	(cd "${bin}" && GOBIN="${bin}" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "${want}")
	echo "${want}" >"${stamp}"
	echo "install-s3-servers: ${name} ready at ${bin}/${name}"
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
	names=(versitygw minio)
fi
for n in "${names[@]}"; do
	if [[ -z "${pkg[$n]:-}" ]]; then
		echo "install-s3-servers: unknown server ${n} (want versitygw or minio)" >&2
		exit 2
	fi
	install_one "$n"
done
