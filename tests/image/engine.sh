# Sourced by tests/image/build.sh and the image tests: which container
# engine works on this machine, the options it needs here, and the Debian
# 12 base image the Dockerfile builds on.
#
#   engine_pick    ENGINE (docker or podman), ENGINE_RUN and ENGINE_BUILD
#                  (arrays of options for run and build); 1 with the reason
#                  in ENGINE_WHY when neither can run containers
#   engine_base    BASE_IMAGE: debian:12-slim if it is here or can be
#                  pulled, else the one tests/image/mkbase.sh makes (kept,
#                  so later runs are fast; REBASE=1 makes it again)
#
# CONTAINER_ENGINE=podman (or docker) chooses; BASE_IMAGE=NAME skips the
# search.

ENGINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENGINE_LOCAL_BASE=localhost/falconet-base:bookworm-slim
ENGINE=
ENGINE_WHY=
ENGINE_RUN=()
ENGINE_BUILD=()

engine_pick()
{
	local e out

	for e in ${CONTAINER_ENGINE:-docker podman}; do
		if ! command -v "$e" >/dev/null 2>&1; then
			ENGINE_WHY="$ENGINE_WHY $e: not installed;"
			continue
		fi
		# A docker client without a daemon fails here.
		if out=$("$e" info 2>&1 >/dev/null); then
			ENGINE=$e
			break
		fi
		ENGINE_WHY="$ENGINE_WHY $e info: $(printf '%s' "$out" |
		    tr -s '\n' ' ' | cut -c1-300);"
	done
	if [ -z "$ENGINE" ]; then
		ENGINE_WHY="no container engine works:$ENGINE_WHY"
		return 1
	fi
	ENGINE_RUN=()
	ENGINE_BUILD=()
	if [ "$ENGINE" = podman ]; then
		engine_podman_options
	fi
	return 0
}

# Podman 4.3 (Debian 12) on hosts like CI's: crun refuses mixed cgroup
# hierarchies, where runc works.  Podman's default limits (a million open
# files, four million processes) exceed such hosts' hard limits, and runc
# then fails with "error setting rlimits": containers get the host's hard
# limits instead, processes capped at kernel.pid_max (runc is refused
# more there).  Only the docker format keeps the HEALTHCHECK instruction.
engine_podman_options()
{
	local nofile nproc pidmax

	if command -v runc >/dev/null 2>&1; then
		ENGINE_RUN+=(--runtime runc)
		ENGINE_BUILD+=(--runtime runc)
	fi
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	pidmax=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo unlimited)
	if [ "$pidmax" != unlimited ] &&
	    { [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ]; }; then
		nproc=$pidmax
	fi
	if [ "$nofile" != unlimited ]; then
		ENGINE_RUN+=(--ulimit "nofile=$nofile:$nofile")
		ENGINE_BUILD+=(--ulimit "nofile=$nofile:$nofile")
	fi
	if [ "$nproc" != unlimited ]; then
		ENGINE_RUN+=(--ulimit "nproc=$nproc:$nproc")
		ENGINE_BUILD+=(--ulimit "nproc=$nproc:$nproc")
	fi
	ENGINE_BUILD+=(--format docker)
}

engine_base()
{
	if [ -n "${BASE_IMAGE:-}" ]; then
		return 0
	fi
	# Fully qualified: podman may refuse short names it cannot resolve.
	if "$ENGINE" image inspect docker.io/library/debian:12-slim \
	    >/dev/null 2>&1; then
		BASE_IMAGE=docker.io/library/debian:12-slim
		return 0
	fi
	if [ -z "${REBASE:-}" ] &&
	    "$ENGINE" image inspect "$ENGINE_LOCAL_BASE" >/dev/null 2>&1; then
		BASE_IMAGE=$ENGINE_LOCAL_BASE
		return 0
	fi
	if [ -z "${REBASE:-}" ] &&
	    timeout 120 "$ENGINE" pull -q docker.io/library/debian:12-slim \
	    >/dev/null 2>&1; then
		BASE_IMAGE=docker.io/library/debian:12-slim
		return 0
	fi
	echo "engine: debian:12-slim cannot be pulled; making" \
	    "$ENGINE_LOCAL_BASE with mmdebstrap" >&2
	if [ -n "${REBASE:-}" ]; then
		"$ENGINE" rmi "$ENGINE_LOCAL_BASE" >/dev/null 2>&1
	fi
	"$ENGINE_DIR/mkbase.sh" "$ENGINE" "$ENGINE_LOCAL_BASE" || return 1
	BASE_IMAGE=$ENGINE_LOCAL_BASE
}
