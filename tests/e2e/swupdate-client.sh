#!/bin/bash
# Run one real SWUpdate (suricatta/hawkBit) client against a DDI server.
#
# Environment:
#   URL            server, scheme://host:port (no path, no trailing slash)   [required]
#   CERT           certificate that verifies the .swu signatures (PEM)       [required]
#   CONTROLLER_ID  device id                                   (dev-001)
#   TENANT         hawkBit tenant                              (DEFAULT)
#   TOKEN          TargetToken          } at most one; none = no
#   GATEWAY_TOKEN  GatewayToken         }   Authorization header
#   HW             board:revision for -H                       (testboard:1.1)
#   IDENTIFY       identify entries k=v,k=v (sent as configData); unset =
#                  hw_boardname=<board>,hw_revision=<rev> from HW; "" = none
#   CONFIRM        2 = report the previous install as successful, 3 = failed
#   DURATION       seconds before the client is stopped        (60)
#   STOP_ON        extended regex; stop as soon as the log matches it
#                  (exit 1 if it never did)
#   LOG            swupdate's output (stdout+stderr); default: scratch, kept
#                  only on failure (printed path)
#   WORKDIR        parent of the scratch directory             ($TMPDIR or /tmp)
#   EXTRA_SURICATTA_ARGS  appended to swupdate's -u "..." (e.g. "-n 64k")
#   CAFILE SSLCERT SSLKEY  HTTPS: the CA that verifies the server, the
#                  client certificate and its key (suricatta's cafile,
#                  sslcert, sslkey); unset = none
#   RETRY RETRYWAIT CONNECTION_TIMEOUT RESEND_PERIOD  suricatta settings
#                  (3, 1, 10, 1)
#
# swupdate runs in its own session/process group with a private TMPDIR; it is
# stopped by group (SIGTERM, then SIGKILL after 3 s) and the scratch dir removed.
# Exit: 0 = STOP_ON matched (or DURATION elapsed without STOP_ON),
#       1 = STOP_ON never matched, 2 = usage/setup error.

set -u

die() { echo "# swupdate-client: $*" >&2; exit 2; }

: "${URL:?URL is required}" "${CERT:?CERT is required}"
[ -r "$CERT" ] || die "CERT $CERT is not readable"
CONTROLLER_ID=${CONTROLLER_ID:-dev-001}
TENANT=${TENANT:-DEFAULT}
TOKEN=${TOKEN:-}
GATEWAY_TOKEN=${GATEWAY_TOKEN:-}
HW=${HW:-testboard:1.1}
CONFIRM=${CONFIRM:-}
DURATION=${DURATION:-60}
STOP_ON=${STOP_ON:-}
WORKDIR=${WORKDIR:-${TMPDIR:-/tmp}}
EXTRA_SURICATTA_ARGS=${EXTRA_SURICATTA_ARGS:-}
RETRY=${RETRY:-3}
RETRYWAIT=${RETRYWAIT:-1}
CONNECTION_TIMEOUT=${CONNECTION_TIMEOUT:-10}
RESEND_PERIOD=${RESEND_PERIOD:-1}
SWUPDATE=${SWUPDATE:-swupdate}

case $HW in *:*) ;; *) die "HW must be board:revision, got '$HW'" ;; esac
if [ -z "${IDENTIFY+set}" ]; then
	IDENTIFY="hw_boardname=${HW%%:*},hw_revision=${HW#*:}"
fi
[ -n "$TOKEN" ] && [ -n "$GATEWAY_TOKEN" ] && die "TOKEN and GATEWAY_TOKEN are exclusive"
IFS=, read -r -a PAIRS <<< "$IDENTIFY"
for kv in "${PAIRS[@]}"; do
	case $kv in ''|?*=*) ;; *) die "IDENTIFY entry '$kv' is not k=v" ;; esac
done
case $CONFIRM in ''|1|2|3) ;; *) die "CONFIRM must be 1, 2 or 3" ;; esac
case $DURATION in ''|*[!0-9]*) die "DURATION must be whole seconds" ;; esac
command -v "$SWUPDATE" >/dev/null || die "$SWUPDATE not found"

mkdir -p "$WORKDIR" || die "cannot create $WORKDIR"
SCRATCH=$(mktemp -d "$WORKDIR/swupdate-client.XXXXXX") || die "mktemp failed"
mkdir "$SCRATCH/tmp"
OWN_LOG=
if [ -z "${LOG:-}" ]; then
	LOG=$SCRATCH/swupdate.log
	OWN_LOG=1
fi
: > "$LOG" || die "cannot write $LOG"

# libconfig string: escape backslash and double quote
cstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

CFG=$SCRATCH/swupdate.cfg
{
	printf 'globals : {\n'
	printf '\tverbose = true;\n\tloglevel = 6;\n'
	printf '\tpublic-key-file = %s;\n' "$(cstr "$CERT")"
	printf '};\n'
	if [ -n "$IDENTIFY" ]; then
		printf 'identify : (\n'
		sep=
		for kv in "${PAIRS[@]}"; do
			[ -n "$kv" ] || continue
			printf '%s\t{ name = %s; value = %s; }' "$sep" \
				"$(cstr "${kv%%=*}")" "$(cstr "${kv#*=}")"
			sep=$',\n'
		done
		printf '\n);\n'
	fi
	printf 'suricatta : {\n'
	printf '\ttenant = %s;\n' "$(cstr "$TENANT")"
	printf '\tid = %s;\n' "$(cstr "$CONTROLLER_ID")"
	printf '\turl = %s;\n' "$(cstr "$URL")"
	[ -n "$TOKEN" ] && printf '\ttargettoken = %s;\n' "$(cstr "$TOKEN")"
	[ -n "$GATEWAY_TOKEN" ] && printf '\tgatewaytoken = %s;\n' "$(cstr "$GATEWAY_TOKEN")"
	[ -n "${CAFILE:-}" ] && printf '\tcafile = %s;\n' "$(cstr "$CAFILE")"
	[ -n "${SSLCERT:-}" ] && printf '\tsslcert = %s;\n' "$(cstr "$SSLCERT")"
	[ -n "${SSLKEY:-}" ] && printf '\tsslkey = %s;\n' "$(cstr "$SSLKEY")"
	printf '\tretry = %d;\n' "$RETRY"
	# swupdate 2022.12 reads retrywait as a string; an int would be ignored
	printf '\tretrywait = "%d";\n' "$RETRYWAIT"
	printf '\tconnection-timeout = %d;\n' "$CONNECTION_TIMEOUT"
	printf '\tinitial-report-resend-period = %d;\n' "$RESEND_PERIOD"
	printf '};\n'
} > "$CFG"

SU_ARGS="-t $TENANT -i $CONTROLLER_ID"
[ -n "$CONFIRM" ] && SU_ARGS="$SU_ARGS -c $CONFIRM"
[ -n "$EXTRA_SURICATTA_ARGS" ] && SU_ARGS="$SU_ARGS $EXTRA_SURICATTA_ARGS"

PID=
PGID=
stop_client() {
	[ -n "$PID" ] || return 0
	local target=$PID i
	[ -n "$PGID" ] && target=-$PGID
	kill -TERM -- "$target" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		kill -0 -- "$target" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 -- "$target" 2>/dev/null; then
		echo "# swupdate-client: $CONTROLLER_ID did not stop on SIGTERM, killing" >&2
		kill -KILL -- "$target" 2>/dev/null
		for ((i = 0; i < 30; i++)); do
			kill -0 -- "$target" 2>/dev/null || break
			sleep 0.1
		done
	fi
	wait "$PID" 2>/dev/null
	PID=
}
cleanup() {
	stop_client
	if [ -n "$OWN_LOG" ] && [ "${RESULT:-1}" != 0 ]; then
		# keep the log of a failed run next to the scratch dir
		cp "$LOG" "$SCRATCH.log" 2>/dev/null &&
			echo "# swupdate-client: log kept in $SCRATCH.log" >&2
	fi
	rm -rf "$SCRATCH"
}
RESULT=1
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "# swupdate-client: $CONTROLLER_ID: swupdate -f $CFG -H $HW -u \"$SU_ARGS\"" >> "$LOG"
# Without job control a background job is not a process-group leader, so
# setsid(1) execs swupdate directly: $! is swupdate's pid and its pgid.
TMPDIR=$SCRATCH/tmp setsid "$SWUPDATE" -f "$CFG" -H "$HW" -u "$SU_ARGS" \
	>> "$LOG" 2>&1 < /dev/null &
PID=$!
for ((i = 0; i < 20; i++)); do
	PGID=$(ps -o pgid= -p "$PID" 2>/dev/null | tr -d ' ')
	[ "$PGID" = "$PID" ] && break
	sleep 0.05
done
[ "$PGID" = "$PID" ] || PGID=   # fall back to the pid alone

# milliseconds since the epoch (EPOCHREALTIME: bash >= 5)
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}
# STOP_ON seen in swupdate's output (our own "# swupdate-client:" lines do
# not count)
stop_seen() {
	grep -E -- "$STOP_ON" "$LOG" 2>/dev/null | grep -qv '^# swupdate-client:'
}

matched=
start=$(now_ms)
deadline=$((start + DURATION * 1000))
while (($(now_ms) < deadline)); do
	if [ -n "$STOP_ON" ] && stop_seen; then
		matched=1
		break
	fi
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$matched" ] && [ -n "$STOP_ON" ] && stop_seen; then
	matched=1
fi
alive=
kill -0 "$PID" 2>/dev/null && alive=1
stop_client

ms=$(($(now_ms) - start))
elapsed=$((ms / 1000)).$((ms % 1000 / 100))
if [ -n "$STOP_ON" ]; then
	if [ -n "$matched" ]; then
		echo "# swupdate-client: $CONTROLLER_ID: matched '$STOP_ON' after ${elapsed}s" >&2
		RESULT=0
	else
		why=
		[ -z "$alive" ] && why=" (swupdate exited early)"
		echo "# swupdate-client: $CONTROLLER_ID: '$STOP_ON' not seen in ${elapsed}s$why" >&2
		RESULT=1
	fi
elif [ -n "$alive" ]; then
	RESULT=0
else
	echo "# swupdate-client: $CONTROLLER_ID: swupdate exited after ${elapsed}s" >&2
	RESULT=1
fi
exit $RESULT
