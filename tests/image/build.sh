#!/usr/bin/env bash
# Build the container image with docker or podman, whichever works here
# (make image runs this):
#
#   tests/image/build.sh TAG [IIDFILE]
#
# The Debian 12 base is debian:12-slim, or where no registry is reachable
# one made from this machine's apt sources (tests/image/mkbase.sh).  The
# image id is written to IIDFILE when given.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 TAG [IIDFILE]" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/image/engine.sh
. "$ROOT/tests/image/engine.sh"

if ! engine_pick; then
	echo "$0: $ENGINE_WHY" >&2
	echo "$0: as root, make deps-image installs podman" >&2
	exit 1
fi
engine_base
iid=${2:-$(mktemp)}
echo "$0: $ENGINE build, FROM $BASE_IMAGE" >&2
"$ENGINE" build "${ENGINE_BUILD[@]}" --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --iidfile "$iid" -t "$1" "$ROOT"
echo "$0: built $1 ($(cut -c1-19 "$iid"))" >&2
[ $# -eq 2 ] || rm -f "$iid"
