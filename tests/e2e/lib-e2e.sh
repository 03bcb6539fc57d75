# shellcheck shell=bash disable=SC2034
# Helpers for the end-to-end tests (tests/e2e/tNNNN-*.sh), sourced by each.
#
# Builds on tests/http/lib.sh (start_server, stop_server, $BASE, req/api/
# api_json/ddi with STATUS and BODY, check, expect_status CODE [NAME],
# finish printing "N passed, N failed") and adds what the real-client tests
# need: e2e settings, signed images (mkswu), real SWUpdate clients through
# swupdate-client.sh, the device's newest action, and processes killed by
# PID when the script ends.
#
# Env: FALCONET (build/test/falconet), MKSWU (build/test/tools/mkswu),
#      KEEP=1 keeps the temp dir (lib.sh), E2E_KEEP_FAILED=1 keeps it only
#      when something failed.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
cd "$E2E_ROOT" || exit 1
FALCONET=${FALCONET:-build/test/falconet}
MKSWU=${MKSWU:-build/test/tools/mkswu}
export FALCONET MKSWU

# shellcheck source=../http/lib.sh
. "$E2E_ROOT/tests/http/lib.sh"

CLIENT=$E2E_DIR/swupdate-client.sh
PY=/usr/bin/python3
E2E_PIDS=()
E2E_START=$SECONDS
SERVER_LOG=$T/server.log

for tool in "$FALCONET" "$MKSWU"; do
	if [ ! -x "$tool" ]; then
		fail "$tool is built"
		finish
	fi
done
for tool in swupdate setsid "$PY"; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is installed"
		finish
	fi
done

note() { echo "# $*"; }

# failv NAME [LINE...]: a failure with detail lines as comments.
failv() {
	local name=$1 l
	shift
	fail "$name"
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#     /'; done
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		failv "$1" "got:  $2" "want: $3"
	fi
}

# jbody [jq args] FILTER: jq -r over $BODY.
jbody() { printf '%s' "$BODY" | jq -r "$@" 2>/dev/null; }

# ------------------------------------------------------------- processes

# Background processes the test started: killed by PID at the end.
track_pid() { E2E_PIDS+=("$1"); }

kill_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

e2e_kill_all() {
	local pid
	for pid in "${E2E_PIDS[@]}"; do kill_pid "$pid"; done
	E2E_PIDS=()
}

# lib.sh's finish and exit trap, with our processes stopped first.
eval "lib_$(declare -f finish)"
finish() {
	e2e_kill_all
	if [ "$FAILED" -gt 0 ] && [ -f "$SERVER_LOG" ]; then
		echo "# server log tail:"
		tail -n 20 "$SERVER_LOG" | sed 's/^/#   /'
		[ -n "${E2E_KEEP_FAILED:-}" ] && KEEP=1
	fi
	note "$(basename "$0" .sh) took $((SECONDS - E2E_START))s"
	lib_finish
}
e2e_exit() {
	e2e_kill_all
	cleanup
}
trap e2e_exit EXIT

# ---------------------------------------------------------------- server

# e2e_start_server [YAML...]: the daemon with 1 s poll intervals and the
# access log on, plus overrides (lib.sh's two-level merge); a management
# token in TOKEN for api/api_json.
e2e_start_server() {
	start_server "$(printf '%s\n' \
		'poll:' \
		'  interval: "00:00:01"' \
		'  running_interval: "00:00:01"' \
		'log:' \
		'  level: info' \
		'  access: true')" "$@"
	TOKEN=$(make_token "e2e-$TEST_NAME" | tail -n1 | awk '{print $NF}')
	if [ -z "$TOKEN" ]; then
		failv "management token created" "$(cat "$T/cli.log" 2>/dev/null)"
		finish
	fi
	note "server pid $SERVER_PID at $BASE"
}

# ---------------------------------------------------------- API helpers

# poll_as CID [AUTHORIZATION]: the device's root poll; STATUS and BODY.
poll_as() {
	DDI_AUTH=${2:-} ddi GET "$1"
}

# create_rollout SW_ID [FEED]: ROLLOUT_ID on 201.
create_rollout() {
	api_json POST /api/v1/rollouts "{\"feed\":\"${2:-default}\",\"software_id\":$1}"
	ROLLOUT_ID=$(jbody '.id // empty')
}

# action_json CID: the device's newest action (highest id) as JSON, with
# (up to 1,000 of) its newest history entries and log lines.
action_json() {
	local a id h l
	api GET "/api/v1/devices/$1/actions"
	a=$(printf '%s' "$BODY" | jq -c '(.actions // []) | max_by(.id)' 2>/dev/null)
	id=$(printf '%s' "$a" | jq -r '.id // empty' 2>/dev/null)
	if [ -z "$id" ]; then
		printf '%s' "$a"
		return
	fi
	api GET "/api/v1/actions/$id/history?limit=1000"
	h=$BODY
	api GET "/api/v1/actions/$id/log?limit=1000"
	l=$BODY
	printf '%s' "$a" | jq -c --argjson h "${h:-null}" --argjson l "${l:-null}" \
	    '.history = ($h.history // []) | .log = ($l.log // [])' 2>/dev/null
}

# action_status_is CID STATUS: the device's newest action has STATUS.
action_status_is() {
	local a
	a=$(action_json "$1")
	[ "$(printf '%s' "$a" | jq -r '.status // empty' 2>/dev/null)" = "$2" ]
}

# ----------------------------------------------------------------- images

# make_swu OUT VERSION [mkswu args...]: a signed image; sets SWU_SIZE,
# SWU_SHA256 and CERT (the signing certificate next to OUT).
make_swu() {
	local out=$1 version=$2 line
	shift 2
	mkdir -p "$(dirname "$out")"
	if ! line=$("$MKSWU" -o "$out" -v "$version" "$@" 2>"$T/mkswu.err"); then
		echo "# mkswu failed: $(head -n3 "$T/mkswu.err")"
		return 1
	fi
	set -- $line
	SWU_SIZE=${2:-0}
	SWU_SHA256=${3:-}
	CERT=$(dirname "$out")/swu-signing/signing.cert.pem
	[ -r "$CERT" ] || { echo "# no $CERT"; return 1; }
}

# swu_member SWU NAME OUT: extract one member of a newc/crc cpio archive.
swu_member() {
	"$PY" - "$1" "$2" "$3" <<-'EOF'
		import sys
		swu, want, out = sys.argv[1:4]
		data = open(swu, "rb").read()
		off = 0
		while off + 110 <= len(data):
		    hdr = data[off:off + 110]
		    if hdr[:6] not in (b"070701", b"070702"):
		        sys.exit("bad cpio magic at %d" % off)
		    fsize = int(hdr[54:62], 16)
		    nsize = int(hdr[94:102], 16)
		    name = data[off + 110:off + 110 + nsize - 1].decode()
		    doff = (off + 110 + nsize + 3) & ~3
		    if name == "TRAILER!!!":
		        break
		    if name == want:
		        open(out, "wb").write(data[doff:doff + fsize])
		        sys.exit(0)
		    off = (doff + fsize + 3) & ~3
		sys.exit("%s not in %s" % (want, swu))
		EOF
}

# ----------------------------------------------------------------- client

# run_client VAR=value ...: one swupdate run through swupdate-client.sh
# (URL=$BASE, CERT=$CERT, WORKDIR=$T unless given); its exit code.
run_client() {
	env -u TOKEN URL="$BASE" CERT="$CERT" WORKDIR="$T" "$@" "$CLIENT"
}

# start_client VAR=value ...: the same in the background; CLIENT_PID is the
# wrapper's pid (SIGTERM to it stops swupdate and removes its scratch dir).
start_client() {
	env -u TOKEN URL="$BASE" CERT="$CERT" WORKDIR="$T" "$@" "$CLIENT" &
	CLIENT_PID=$!
	track_pid "$CLIENT_PID"
}

# show_log FILE [N]: the last N lines of a client log, as comments.
show_log() {
	echo "#   --- ${1##*/} (last ${2:-25} lines)"
	grep -vE 'print_registered_|lua_report_exception|^$' "$1" 2>/dev/null |
		tail -n "${2:-25}" | sed 's/^/#   /'
}

# client_ok NAME RC LOG [N]: pass if RC is 0, else fail showing the log.
client_ok() {
	if [ "$2" -eq 0 ]; then
		pass "$1"
	else
		failv "$1" "client exit $2"
		show_log "$3" "${4:-30}"
	fi
}
