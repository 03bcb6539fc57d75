#!/usr/bin/env bash
# The container image: built from this tree with docker or podman, run on a
# free loopback port with a volume, as a non-root user; an upload, a device
# poll and download, the data kept across a restart, a backup into a second
# volume, and the HEALTHCHECK.  Its containers, volumes and image are removed
# at exit; the base image and the build cache are kept, so a second run is
# quick.
#
# Needs a working container engine: as root, `make deps-image` installs
# Debian's podman.  A machine where none can run containers fails here,
# with the reason, rather than skipping.
. "$(dirname "$0")/../http/lib.sh"
. "$(dirname "$0")/engine.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=localhost/falconet-test:$$
NAME=falconet-test-$$
VOLUME=falconet-test-data-$$
BACKUP_VOLUME=falconet-test-backup-$$
IMAGE_MAX_BYTES=40000000 # compressed: save | gzip | wc -c
CONTAINER=
IMAGE_BUILT=
VOLUMES=()

image_cleanup()
{
	local v
	[ -n "$ENGINE" ] || return 0
	if [ -n "$CONTAINER" ]; then
		"$ENGINE" rm -f -t 2 "$CONTAINER" >/dev/null 2>&1 ||
		    "$ENGINE" rm -f "$CONTAINER" >/dev/null 2>&1
	fi
	for v in "${VOLUMES[@]}"; do
		"$ENGINE" volume rm -f "$v" >/dev/null 2>&1
	done
	# By the tag this test gave it: the image itself goes unless another
	# tag (make image's) names the same layers.
	[ -n "$IMAGE_BUILT" ] && "$ENGINE" rmi "$TAG" >/dev/null 2>&1
	return 0
}
trap 'image_cleanup; cleanup' EXIT

# ctr_exec ARGS...: run a command in the container.
ctr_exec()
{
	"$ENGINE" exec "$CONTAINER" "$@"
}

# Point lib.sh's requests at the container's published port.
container_base()
{
	local hp
	hp=$("$ENGINE" port "$CONTAINER" 8080/tcp 2>/dev/null | head -1)
	PORT=${hp##*:}
	BASE=http://127.0.0.1:$PORT
}

# wait_healthy SECONDS: /healthz answers 200 through the published port.
wait_healthy()
{
	local n=$(($1 * 5)) st
	while [ "$n" -gt 0 ]; do
		container_base
		if [ -n "$PORT" ]; then
			st=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' \
			    "$BASE/healthz" 2>/dev/null)
			[ "$st" = 200 ] && return 0
		fi
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

container_logs()
{
	"$ENGINE" logs "$CONTAINER" 2>&1 | tail -n "${1:-15}" | sed 's/^/#   /'
}

# --- An engine, the image ------------------------------------------------
if ! engine_pick; then
	fail "a container engine runs containers here" "$ENGINE_WHY"
	echo "# as root, 'make deps-image' installs Debian's podman"
	finish
fi
pass "container engine: $ENGINE ($("$ENGINE" --version 2>/dev/null | head -1))"

start=$(date +%s)
if "$ROOT/tests/image/build.sh" "$TAG" "$T/iid" >"$T/build.log" 2>&1; then
	IMAGE_BUILT=1
	pass "the image builds ($(($(date +%s) - start)) s; $(grep -m1 'build, FROM' "$T/build.log" | sed 's/.*build, //'))"
else
	fail "the image builds" "see the build log below"
	tail -n 25 "$T/build.log" | sed 's/^/#   /'
	finish
fi
IID=$(cat "$T/iid")

inspect()
{
	"$ENGINE" image inspect --format "$1" "$IID" 2>/dev/null
}
check "the image runs as uid 10001 (USER $(inspect '{{.Config.User}}'))" \
    [ "$(inspect '{{.Config.User}}')" = falconet ]
hc=$(inspect '{{json .Config.Healthcheck}}')
check "the image has a HEALTHCHECK running falconet health ($hc)" \
    sh -c "printf '%s' '$hc' | grep -q '\"falconet\",\"health\"'"
check "the working directory holds settings.yaml ($(inspect '{{.Config.WorkingDir}}'))" \
    [ "$(inspect '{{.Config.WorkingDir}}')" = /etc/falconet ]

bytes=$("$ENGINE" save "$IID" 2>/dev/null | gzip | wc -c)
check "the image is at most $IMAGE_MAX_BYTES bytes compressed ($bytes)" \
    [ "$bytes" -gt 1000000 -a "$bytes" -le "$IMAGE_MAX_BYTES" ]

# What is (not) in the image: no curl, no apt lists, the uid for bind
# mounts, the libraries falconet loads at run time resolve.
# (One-off containers run without the health check: podman, without
# systemd, complains that it cannot schedule it.)
ONEOFF=(run --rm --no-healthcheck "${ENGINE_RUN[@]}")
out=$("$ENGINE" "${ONEOFF[@]}" --entrypoint sh "$IID" -c '
	command -v curl >/dev/null && echo curl
	ls /var/lib/apt/lists | grep -v "^partial$" | grep -q . && echo apt-lists
	[ "$(id -u falconet):$(id -g falconet)" = 10001:10001 ] || echo uid
	ldd /usr/local/bin/falconet /usr/lib/*/libarchive.so.13 \
	    /usr/lib/*/libcurl.so.4 | grep "not found"
	true' 2>"$T/oneoff.err")
check "no curl, no apt lists, falconet is 10001:10001, every library resolves (${out:-clean})" \
    [ -z "$out" ]

# --- Run it -------------------------------------------------------------
for v in "$VOLUME" "$BACKUP_VOLUME"; do
	"$ENGINE" volume create "$v" >/dev/null && VOLUMES+=("$v")
done
if CONTAINER=$("$ENGINE" run -d "${ENGINE_RUN[@]}" --name "$NAME" \
    -p 127.0.0.1::8080 -v "$VOLUME:/data" "$IID" 2>"$T/run.err"); then
	CONTAINER=$(printf '%s' "$CONTAINER" | tail -n 1)
	pass "the container starts"
else
	CONTAINER=
	fail "the container starts" "$(tail -n 3 "$T/run.err" | tr '\n' ' ')"
	finish
fi
if wait_healthy 30; then
	pass "/healthz answers 200 on 127.0.0.1:$PORT"
else
	fail "/healthz answers 200 on a loopback port" "port '$PORT'"
	container_logs
	finish
fi

uid=$(ctr_exec awk '/^Uid:/ { print $2 }' /proc/1/status 2>/dev/null)
check "the server (pid 1) runs as uid 10001, not root (uid $uid)" [ "$uid" = 10001 ]
mode=$(ctr_exec stat -c '%a %u' /data/falconet.db 2>/dev/null)
check "the database is mode 0600, owned by the server ($mode)" [ "$mode" = "600 10001" ]
check "the first start logs the set-up link for the first admin" \
    sh -c "'$ENGINE' logs '$CONTAINER' 2>&1 | grep -q 'ui/#/setup?token='"

# token create without -c: the working directory's settings.yaml.
TOKEN=$(ctr_exec falconet token create admin 2>"$T/token.err")
check "falconet token create works without -c" [ ${#TOKEN} -ge 20 ]

# --- Upload, poll, download ----------------------------------------------
mkimg "$T/img.swu" 2.0.0 '1.0' -s 300K
upload "$T/img.swu" image-2.0.0.swu
expect_status 201 "upload a .swu (libarchive loads in the image)"
SW=$SW_ID
check "the upload's sha256 is the file's" \
    [ "$(jq -r '.hashes.sha256 // empty' <"$T/body")" = "$IMG_SHA256" ]

ddi GET dev-c
expect_status 200 "a device polls"
config_data dev-c '{"hw_revision":"1.0"}'
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW}"
expect_status 201 "a rollout"
ddi GET dev-c
DB=$(link deploymentBase)
check "the device is offered the update" [ -n "$DB" ]
req GET "$DB"
expect_status 200 "deploymentBase"
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href // empty' <"$T/body")
DLPATH=/${DL#http*://*/}
req GET "$DLPATH"
expect_status 200 "the artifact downloads"
check "the download's sha256 is the image's" \
    [ "$(sha256sum <"$T/body" | cut -d' ' -f1)" = "$IMG_SHA256" ]

# --- Restart: the volume keeps everything --------------------------------
start=$(date +%s)
"$ENGINE" stop -t 20 "$CONTAINER" >/dev/null 2>&1
secs=$(($(date +%s) - start))
code=$("$ENGINE" inspect --format '{{.State.ExitCode}}' "$CONTAINER" 2>/dev/null)
check "the server stops on SIGTERM with status 0 in ${secs}s (status $code)" \
    [ "$code" = 0 -a "$secs" -lt 15 ]
check "the log says it shut down" \
    sh -c "'$ENGINE' logs '$CONTAINER' 2>&1 | grep -q 'shutting down'"
"$ENGINE" start "$CONTAINER" >/dev/null 2>"$T/start.err"
if wait_healthy 30; then
	pass "the container starts again (port $PORT)"
else
	fail "the container starts again" "$(tail -n 2 "$T/start.err")"
	container_logs
	finish
fi
api GET /api/v1/devices/dev-c
expect_status 200 "the device is still there after the restart"
api GET "/api/v1/software/$SW"
expect_status 200 "the software is still there after the restart"
req GET "$DLPATH"
expect_status 200 "the artifact downloads after the restart"
check "with the same sha256" \
    [ "$(sha256sum <"$T/body" | cut -d' ' -f1)" = "$IMG_SHA256" ]
ctr_exec falconet token create second >/dev/null 2>"$T/token.err"
ctr_exec falconet token create admin >/dev/null 2>"$T/token2.err"
check "tokens persisted: 'admin' exists after the restart" \
    grep -q 'exists' "$T/token2.err"

# --- Backup into a second volume, as the README shows ---------------------
if "$ENGINE" "${ONEOFF[@]}" --volumes-from "$CONTAINER" \
    -v "$BACKUP_VOLUME:/backup" "$IID" backup /backup/b1 \
    >"$T/backup.out" 2>&1; then
	pass "falconet backup into a second volume ($(tail -n 1 "$T/backup.out" | cut -c1-100))"
else
	fail "falconet backup into a second volume" "$(tail -n 2 "$T/backup.out")"
fi
n=$("$ENGINE" "${ONEOFF[@]}" -v "$BACKUP_VOLUME:/backup" \
    --entrypoint sh "$IID" -c 'ls /backup/b1/artifacts | wc -l' 2>/dev/null)
check "the backup holds the artifact ($n files)" [ "${n:-0}" -ge 1 ]

# --- The health check -----------------------------------------------------
if [ "$ENGINE" = podman ]; then
	"$ENGINE" healthcheck run "$CONTAINER" >"$T/hc.out" 2>&1
	rc=$?
	check "podman healthcheck run: healthy (exit $rc)" [ "$rc" -eq 0 ]
	st=$("$ENGINE" inspect --format '{{.State.Health.Status}}' "$CONTAINER")
else
	# docker runs the check itself, every 30 s.
	for i in $(seq 1 90); do
		st=$("$ENGINE" inspect --format '{{.State.Health.Status}}' "$CONTAINER")
		[ "$st" = healthy ] && break
		sleep 1
	done
fi
check "the container's health status is healthy ($st)" [ "$st" = healthy ]
ctr_exec falconet health
check "falconet health in the container exits 0" [ $? -eq 0 ]
ctr_exec sh -c 'sed "s/^  port: 8080/  port: 8081/" settings.yaml >/tmp/other.yaml &&
    falconet -c /tmp/other.yaml health' >/dev/null 2>"$T/health.err"
rc=$?
check "falconet health exits 1 where nothing listens ($(head -c 80 "$T/health.err"))" \
    [ "$rc" -eq 1 ]

finish
