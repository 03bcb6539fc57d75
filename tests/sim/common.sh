# Helpers for the fleet simulator's users (tests/sim/soak.sh, demo.sh and
# tests/reliability/t*.sh), sourced after tests/http/lib.sh.
#
#   need_aiohttp            Debian's python3-aiohttp, installed when missing
#                           (as root); a "not ok" and finish otherwise
#   fleet ARGS...           run tests/sim/fleet.py with Debian's python (in the
#                           background use "$PY" "$FLEET" ..., so that $! is
#                           the simulator's own PID)
#   rss_start PID FILE [S]  sample VmRSS (kB) of PID every S seconds (1) into
#                           FILE as "SECONDS KB" lines, in the background
#   rss_stop                stop the sampler
#   kill_server_hard        kill -9 the daemon, wait for it, forget it
#   sim_start [YAML...]     start_server, remembering the settings
#   restart_server          start_server again: same settings, data and port
#   is_asan_build           the daemon is built with AddressSanitizer
#   sim_track PID...        kill these background processes at exit
#   SIM_EXIT_HOOK=FUNC      a test's own clean-up (unmounting), run at exit
#                           before lib.sh's cleanup

SIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter: a python3 earlier on PATH (pyenv, venv) does not
# see Debian's python3-aiohttp.
PY=${FLEET_PYTHON:-/usr/bin/python3}
FLEET=$SIM_DIR/fleet.py
RSS_PID=

need_aiohttp()
{
	if "$PY" -c 'import aiohttp' 2>/dev/null; then
		return 0
	fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "# installing python3-aiohttp"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    python3-aiohttp >"$T/apt.log" 2>&1 ||
		    { apt-get update -qq >>"$T/apt.log" 2>&1 &&
		      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		          python3-aiohttp >>"$T/apt.log" 2>&1; }
	fi
	if ! "$PY" -c 'import aiohttp' 2>/dev/null; then
		fail "python3-aiohttp is available to $PY" \
		    "as root: apt-get install -y python3-aiohttp"
		finish
	fi
}

fleet()
{
	"$PY" "$FLEET" "$@"
}

# Is the daemon built with AddressSanitizer?
is_asan_build()
{
	grep -qa '__asan_init' "$FALCONET" 2>/dev/null
}

rss_start()
{
	local pid=$1 file=$2 every=${3:-1}
	: >"$file"
	(
		start=$(date +%s%N)
		while [ -r "/proc/$pid/status" ]; do
			kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			now=$(date +%s%N)
			[ -n "$kb" ] && echo "$(((now - start) / 1000000000)) $kb" >>"$file"
			sleep "$every"
		done
	) &
	RSS_PID=$!
}

rss_stop()
{
	if [ -n "$RSS_PID" ]; then
		kill "$RSS_PID" 2>/dev/null
		wait "$RSS_PID" 2>/dev/null
		RSS_PID=
	fi
}

kill_server_hard()
{
	[ -z "$SERVER_PID" ] && return 0
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}

# sim_start [YAML...]: start_server, remembering the settings for
# restart_server.
SIM_ARGS=()
sim_start()
{
	SIM_ARGS=("$@")
	start_server "$@"
}

# restart_server: start again with the same settings, data and port, so
# that the URLs handed out (and the clients' base URL) stay valid.
restart_server()
{
	local port=$PORT
	start_server "${SIM_ARGS[@]}" "listen:
  port: $port"
}

# Background processes of a test (fleets, curls, samplers): killed by PID
# when the script exits, before lib.sh's cleanup stops the server.
SIM_PIDS=()
sim_track()
{
	SIM_PIDS+=("$@")
}

sim_cleanup()
{
	local p
	rss_stop
	for p in "${SIM_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${SIM_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	SIM_PIDS=()
	# A test's own clean-up (mounts), as a function name.
	[ -n "${SIM_EXIT_HOOK:-}" ] && "$SIM_EXIT_HOOK"
	cleanup
}
trap sim_cleanup EXIT
