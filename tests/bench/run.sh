#!/usr/bin/env bash
# tests/bench/run.sh BUILD: the benchmark behind `make bench`.
#
# A benchmark, not a test: it prints figures and a table of goals met or
# missed, and exits 0 whatever the figures are (non-zero only when the
# tooling itself broke).  It measures falconet (BUILD/falconet, built
# optimised without sanitizers) against nginx serving static files, in the
# same run, alternating the two, BENCH_ROUNDS rounds, medians:
#
#   poll       wrk + poll.lua: root polls spread at random over N devices
#              seeded with seed.sh (N = 1,000 and 1,000,000), against nginx
#              serving a static file holding falconet's poll answer (same
#              size, same Content-Type); req/s, p50, p99 at 64 and 1,000
#              connections.  Every poll records last-seen as in production.
#   download   wrk + download.lua: a 1 GiB artifact (a valid .swu from
#              mkswu), whole GETs and 1 MiB Range GETs at random offsets,
#              against nginx's sendfile of the same bytes; MB/s.
#   raucb      a verity RAUC bundle of the same size through the same
#              upload, its signature and dm-verity tree checked; MB/s
#              against cp, the CPU seconds of both (falconet's and curl's,
#              cp's: on a shared machine the MB/s follow the other load,
#              the CPU seconds much less), and the peak RSS above idle
#   upload     the same .swu through POST /api/v1/software with curl,
#              against cp of the file to the same disk; MB/s, and the
#              daemon's peak RSS above its idle RSS (VmHWM after the upload,
#              reset before it through /proc/PID/clear_refs).
#   footprint  idle RSS, RSS with 1,000 open device connections (helper.py
#              hold), RSS with 1,000,000 devices, binary size, start-up time
#              from exec to the first answered poll (helper.py start).
#   mgmt       operators cannot starve devices: wrk + poll.lua over 100,000
#              devices alone, then the same while helper.py mgmt logs a
#              user in 10 times a second (argon2 at the default cost) and
#              runs device lists sorted by state and searched, the audit
#              log, /api/v1/stats and /metrics; poll p50 and p99 with that
#              load against the polls alone, rounds alternating the two.
#              The management client runs under nice 10, as if on another
#              machine: its own CPU (a Python process) should not count.
#   tls        the poll over HTTPS (tls.cert, an EC P-256 certificate
#              made with openssl, served by falconet itself) against
#              nginx's HTTPS with the same certificate and key, 1,000
#              devices, BENCH_TLS_CONNS connections: with keep-alive, and
#              with a new connection and a full TLS handshake per request
#              (Connection: close; neither side resumes sessions).
#   rest       hawkBit's target list at scale: 1,000,000 devices seeded
#              with seed.sh, named, with an attribute each and a few
#              pending or failed; GET /rest/v1/targets?q=...&limit=50 for
#              filters on controllerId, name, updateStatus and an
#              attribute, BENCH_REST_REQUESTS each over one connection;
#              median and p99 per filter.
#   rollout    rollouts at scale: 1,000,000 devices on one feed, five
#              rollouts on it (the time each create takes); then
#              BENCH_ROLLOUT_FEEDBACKS devices poll, take the newest
#              rollout's update and report a failure (helper.py feedback:
#              the failed-feedback p50/p99, each recounting the rollout
#              against its failure threshold), and the rollout lists
#              (/api/v1/rollouts and /rest/v1/rollouts), BENCH_REST_REQUESTS
#              times each over one connection (helper.py lat).
#
# The table goes to stdout and to BUILD/bench-results.md, with the raw
# per-round figures.  Knobs (environment):
#   BENCH_PHASES="small large transfer raucb mgmt tls"
#                           the phases to run: small and large are the poll
#                           with 1,000 and 1,000,000 devices (with the
#                           footprint), transfer the upload and download,
#                           raucb the bundle upload, mgmt the polls under
#                           management load, tls the polls over HTTPS,
#                           rest (not run by default) the /rest/v1 target
#                           list, rollout (not run by default) failed
#                           feedback and the rollout lists at 1,000,000
#                           devices; the table has their rows
#                           only
#   BENCH_DURATION=10       seconds per wrk run
#   BENCH_ROUNDS=3          rounds (medians are taken over them)
#   BENCH_CONNS="64 1000"   poll connection counts
#   BENCH_DEVICES_SMALL=1000  BENCH_DEVICES_LARGE=1000000
#   BENCH_ARTIFACT=1G       artifact payload size (mkswu -s)
#   BENCH_DL_CONNS=4        connections for the download runs
#   BENCH_HOLD=1000         connections held for the RSS figure
#   BENCH_MGMT_DEVICES=100000  BENCH_MGMT_CONNS=64  the mgmt phase's polls
#   BENCH_MGMT_LOGINS=10    logins a second in the mgmt phase
#   BENCH_MGMT_LOOPS=2      clients asking for lists one after the other
#   BENCH_MGMT_SCRAPES=2    /api/v1/stats and /metrics, each, a second
#   BENCH_REST_DEVICES=1000000  BENCH_REST_REQUESTS=200  the rest phase
#   BENCH_ROLLOUT_DEVICES=1000000  BENCH_ROLLOUT_FEEDBACKS=1000  the rollout phase
#   BENCH_TLS_CONNS=64      connections of the tls phase's runs
#   BENCH_PERF=1            after the measured poll rounds, one extra
#                           falconet run per connection count under
#                           `perf record -g`; reports in BUILD/bench-perf-*
#   KEEP=1                  keep the temp directory
#
# Everything runs on 127.0.0.1 in a temp directory: falconet with its own
# settings.yaml (port 0, read back from its log), nginx with its own config
# from nginx.conf.in on a free port.  Both are stopped by PID on exit.

set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/tests/bench
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
FALCONET=$BUILD/falconet
MKSWU=$BUILD/tools/mkswu
PY=/usr/bin/python3
HELPER=$BENCH/helper.py

DUR=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-"64 1000"}
SMALL=${BENCH_DEVICES_SMALL:-1000}
LARGE=${BENCH_DEVICES_LARGE:-1000000}
ARTIFACT=${BENCH_ARTIFACT:-1G}
DL_CONNS=${BENCH_DL_CONNS:-4}
HOLD=${BENCH_HOLD:-1000}
PERF=${BENCH_PERF:-0}
PHASES=${BENCH_PHASES:-"small large transfer raucb mgmt tls"}
MGMT_DEVICES=${BENCH_MGMT_DEVICES:-100000}
MGMT_CONNS=${BENCH_MGMT_CONNS:-64}
MGMT_LOGINS=${BENCH_MGMT_LOGINS:-10}
MGMT_LOOPS=${BENCH_MGMT_LOOPS:-2}
MGMT_SCRAPES=${BENCH_MGMT_SCRAPES:-2}
MGMT_PASSWORD=bench-password-1
REST_DEVICES=${BENCH_REST_DEVICES:-1000000}
REST_REQUESTS=${BENCH_REST_REQUESTS:-200}
ROLLOUT_DEVICES=${BENCH_ROLLOUT_DEVICES:-1000000}
ROLLOUT_FEEDBACKS=${BENCH_ROLLOUT_FEEDBACKS:-1000}
TLS_CONNS=${BENCH_TLS_CONNS:-64}
RESULTS=$BUILD/bench-results.md
THREADS=2			# wrk threads
RANGE=1048576			# bytes per Range GET
CMDLINE="make bench"
[ "$#" -gt 0 ] && [ "${MAKELEVEL:-}" = "" ] && CMDLINE="tests/bench/run.sh $*"
[ -n "${BENCH_PHASES:-}" ] && CMDLINE="BENCH_PHASES=\"$PHASES\" $CMDLINE"

# phase_on NAME: is NAME in BENCH_PHASES?
phase_on() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
for p in $PHASES; do
	case $p in small | large | transfer | raucb | mgmt | tls | rest | rollout) ;;
	*) printf 'bench: unknown phase %s in BENCH_PHASES\n' "$p" >&2; exit 1 ;;
	esac
done

# Figures of phases that do not run.
SEEN_SMALL=- SEEN_LARGE=- START_SMALL_MS=- START_LARGE_MS=- POLL_BYTES=-

T=
NGINX_PID=
FPID=
FPY=
RAW=

say() { printf '%s\n' "$*"; }
note() { printf '  %s\n' "$*"; printf '%s\n' "$*" >>"$RAW"; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

cleanup()
{
	local rc=$?

	trap - EXIT INT TERM
	[ -n "$FPID" ] && stop_falconet
	if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
		kill -QUIT "$NGINX_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$NGINX_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${KEEP:-}" = 1 ]; then
			say "bench: kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# ---------------------------------------------------------------------------
# Tools

install_tools()
{
	local need=""

	command -v wrk >/dev/null || need="$need wrk"
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
	    need="$need nginx"
	command -v sqlite3 >/dev/null || need="$need sqlite3"
	command -v curl >/dev/null || need="$need curl"
	command -v jq >/dev/null || need="$need jq"
	command -v rauc >/dev/null || need="$need rauc"
	command -v mksquashfs >/dev/null || need="$need squashfs-tools"
	command -v openssl >/dev/null || need="$need openssl"
	[ -x "$PY" ] || need="$need python3"
	if [ "$PERF" = 1 ] && ! command -v perf >/dev/null; then
		need="$need linux-perf"
	fi
	[ -z "$need" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing tools; run: apt-get install$need"
	fi
	say "bench: installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	    --no-install-recommends $need >/dev/null ||
	    { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
	    apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	    --no-install-recommends $need >/dev/null; } ||
	    die "apt-get install$need failed"
}

NGINX_BIN=
find_nginx()
{
	NGINX_BIN=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
	[ -x "$NGINX_BIN" ] || die "nginx not found"
}

# ---------------------------------------------------------------------------
# Small utilities

now() { printf '%s' "$EPOCHREALTIME"; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
fsub2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# cp_mbps SRC DST BYTES [fsync]: MB/s of cp of SRC to DST (a cold start:
# sync first), with an fsync of the copy if asked; DST is removed after.
cp_mbps()
{
	local t0 t1

	sync
	t0=$(now)
	cp "$1" "$2" || return 1
	if [ "${4:-}" = fsync ]; then sync "$2" || return 1; fi
	t1=$(now)
	rm -f "$2"
	awk -v b="$3" -v s="$(fsub "$t1" "$t0")" 'BEGIN { printf "%.1f", b / s / 1e6 }'
}

# field FILE KEY: the value of KEY=... in the BENCH line of FILE.
field()
{
	sed -n "s/^BENCH .*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | tail -1
}

median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "nan";
		  else if (NR % 2) print v[(NR + 1) / 2];
		  else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# kids_cpu: KIDS_CPU := user + system CPU seconds of this shell's finished
# children (a command substitution's count as well).  Not itself called in
# one: a subshell starts from zero.
kids_cpu()
{
	times >"$T/times"
	KIDS_CPU=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) {
	    split($i, a, /[ms]/); s += a[1] * 60 + a[2] } }
	    END { printf "%.3f", s }' "$T/times")
}

# proc_cpu PID: user + system CPU seconds of PID, its ended threads too.
proc_cpu()
{
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
	    "/proc/$1/stat"
}

# status_kib PID KEY: VmRSS, VmHWM, Threads... from /proc/PID/status.
status_kib()
{
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# cpu_busy: percent of all cores busy over one second (run while our own
# servers are idle, it is the load of other processes on the machine).
cpu_busy()
{
	local a b
	a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ busy = $3 - $1; all = busy + $4 - $2;
	    printf "%.0f", (all > 0 ? 100 * busy / all : 0) }'
}

# phase_load NAME: note the machine's load before a phase.
BUSY_LIST=
phase_load()
{
	local b
	b=$(cpu_busy)
	BUSY_LIST="$BUSY_LIST${BUSY_LIST:+, }$1 $b%"
	note "other load before $1: ${b}% of the CPUs busy, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# ge A B: 0 if A >= B (floats).
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
yesno() { if "$@"; then echo yes; else echo "**no**"; fi; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
int() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
# commas 1000000 -> 1,000,000
commas() { printf '%s' "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }

# nginx RSS: master and workers, KiB.
nginx_rss()
{
	local sum=0 p

	for p in $NGINX_PID $(cat "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null); do
		sum=$((sum + $(status_kib "$p" VmRSS)))
	done
	echo "$sum"
}

# ---------------------------------------------------------------------------
# falconet and nginx

# write_settings DIR: a settings.yaml for an instance with data in DIR.
write_settings()
{
	cat >"$1/settings.yaml" <<EOF
# generated by tests/bench/run.sh
listen:
  address: 127.0.0.1
  port: 0
data_dir: $1/data
http:
  connection_limit: 4096
  per_ip_limit: 0	# wrk and the helpers: one host, many connections
log:
  level: info
  access: false
EOF
}

# start_falconet DIR DEVICE: start, wait for DEVICE's first 200 poll;
# sets FPID, FPORT, FSTART_MS.
start_falconet()
{
	local dir=$1 dev=$2 line

	: >"$dir/start.out"
	[ -f "$dir/falconet.log" ] && mv "$dir/falconet.log" "$dir/falconet.log.old"
	"$PY" "$HELPER" start "$dir/falconet.log" \
	    "/DEFAULT/controller/v1/$dev" -- \
	    "$FALCONET" -c "$dir/settings.yaml" >"$dir/start.out" &
	FPY=$!
	for _ in $(seq 1200); do
		line=$(head -1 "$dir/start.out")
		[ -n "$line" ] && break
		sleep 0.05
	done
	case $line in
	started\ *) ;;
	*)
		cat "$dir/falconet.log" >&2
		die "falconet did not start: ${line:-no answer}"
		;;
	esac
	set -- $line
	FPID=$2 FPORT=$3 FSTART_MS=$4
}

stop_falconet()
{
	[ -n "$FPID" ] || return 0
	kill -TERM "$FPID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$FPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$FPID" 2>/dev/null
	[ -n "$FPY" ] && wait "$FPY" 2>/dev/null
	FPID= FPY=
}

start_nginx()
{
	NPORT=$("$PY" "$HELPER" freeport) || die "no free port"
	mkdir -p "$T/nginx"
	sed -e "s|@DIR@|$T|g" -e "s|@PORT@|$NPORT|g" "$BENCH/nginx.conf.in" \
	    >"$T/nginx/nginx.conf"
	[ -f "$T/nginx/tls.conf" ] || : >"$T/nginx/tls.conf"
	"$NGINX_BIN" -p "$T/nginx" -c "$T/nginx/nginx.conf" \
	    -e "$T/nginx/error.log" &
	NGINX_PID=$!
	for _ in $(seq 100); do
		curl -fso /dev/null "http://127.0.0.1:$NPORT/poll.json" && return 0
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/nginx/error.log" >&2
	die "nginx did not start"
}

# need_nginx DEV: once, start nginx serving the static twin of the running
# falconet's poll answer for DEV: the very bytes falconet sends.
need_nginx()
{
	[ -n "$NGINX_PID" ] && return 0
	curl -fsS -o "$T/www/poll.json" ${CERTS:+--cacert "$CERTS/ca.crt"} \
	    "${FSCHEME:-http}://127.0.0.1:$FPORT/DEFAULT/controller/v1/$1" ||
	    die "poll failed"
	POLL_BYTES=$(stat -c %s "$T/www/poll.json")
	chmod 644 "$T/www/poll.json"
	note "poll answer: $POLL_BYTES bytes: $(cat "$T/www/poll.json")"
	start_nginx
	NGINX_POLL_BYTES=$(curl -fsS "http://127.0.0.1:$NPORT/DEFAULT/controller/v1/$1" | wc -c)
	NGINX_CT=$(curl -fsSI "http://127.0.0.1:$NPORT/DEFAULT/controller/v1/$1" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
	[ "$NGINX_POLL_BYTES" = "$POLL_BYTES" ] || die "nginx answers $NGINX_POLL_BYTES bytes, falconet $POLL_BYTES"
	note "nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //') on port $NPORT serves the same $POLL_BYTES bytes as $NGINX_CT"
	NGINX_IDLE_RSS=$(nginx_rss)
}

# ---------------------------------------------------------------------------
# Runs

# wrk_run OUT SCRIPT CONNS URL [ENV...]: one measured wrk run.
wrk_run()
{
	local out=$1 script=$2 c=$3 url=$4

	shift 4
	env "$@" wrk -t"$THREADS" -c"$c" -d"${DUR}s" --timeout 10s \
	    -s "$script" "$url" >"$out" 2>&1 ||
	    die "wrk failed: $(tail -3 "$out")"
	grep -q '^BENCH ' "$out" || die "wrk printed no figures: $(tail -3 "$out")"
	local errs
	errs=$(sed -n 's/^BENCH .*\(err_connect=.*\)/\1/p' "$out")
	case $errs in
	*=[1-9]*) note "    ($(basename "$out"): errors: $errs)" ;;
	esac
}

# poll_rounds PHASE DEVICES: ROUNDS x (falconet, nginx) x CONNS.
poll_rounds()
{
	local phase=$1 n=$2 r c who port f

	for c in $CONNS; do
		# Unmeasured warm-up of both at this connection count.
		for who in falconet nginx; do
			[ $who = falconet ] && port=$FPORT || port=$NPORT
			env BENCH_DEVICES="$n" wrk -t"$THREADS" -c"$c" -d2s \
			    --timeout 10s -s "$BENCH/poll.lua" \
			    "http://127.0.0.1:$port/" >/dev/null 2>&1
		done
	done
	for r in $(seq "$ROUNDS"); do
		for c in $CONNS; do
			for who in falconet nginx; do
				[ $who = falconet ] && port=$FPORT || port=$NPORT
				f=$T/res/poll-$phase-$who-c$c-r$r
				wrk_run "$f" "$BENCH/poll.lua" "$c" \
				    "http://127.0.0.1:$port/" BENCH_DEVICES="$n"
				note "$(printf 'poll %-5s %-8s c=%-5s round %s: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms' \
				    "$phase" "$who" "$c" "$r" "$(field "$f" rps)" \
				    "$(ms "$(field "$f" p50_us)")" "$(ms "$(field "$f" p99_us)")")"
			done
		done
	done
}

# poll_median PHASE WHO CONNS KEY
poll_median()
{
	local vals=() r

	for r in $(seq "$ROUNDS"); do
		vals+=("$(field "$T/res/poll-$1-$2-c$3-r$r" "$4")")
	done
	median "${vals[@]}"
}

perf_run()
{
	local phase=$1 n=$2 c out

	[ "$PERF" = 1 ] || return 0
	for c in $CONNS; do
		out=$BUILD/bench-perf-$phase-c$c
		perf record -F 999 -g -o "$out.data" -p "$FPID" -- \
		    sleep "$DUR" >/dev/null 2>"$out.log" &
		local pp=$!
		sleep 0.2
		wrk_run "$T/res/perf-$phase-c$c" "$BENCH/poll.lua" "$c" \
		    "http://127.0.0.1:$FPORT/" BENCH_DEVICES="$n"
		wait "$pp"
		perf report -i "$out.data" --stdio --no-children \
		    --sort dso,sym -g none 2>/dev/null | grep -v '^$' |
		    head -60 >"$out.txt"
		note "perf profile of falconet, $phase, c=$c: $out.txt"
	done
}

# ---------------------------------------------------------------------------
# Main

[ -x "$FALCONET" ] || die "$FALCONET is missing (run make bench)"
install_tools
find_nginx
if [ ! -x "$MKSWU" ]; then
	make -C "$ROOT" --no-print-directory BUILD="${BUILD#"$ROOT"/}" \
	    "${BUILD#"$ROOT"/}/tools/mkswu" >/dev/null ||
	    die "cannot build $MKSWU"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge $((HOLD + 1200)) ] 2>/dev/null ||
    say "bench: warning: only $(ulimit -n) file descriptors"

T=$(mktemp -d "${TMPDIR:-/tmp}/falconet-bench.XXXXXX") || die "mktemp"
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$T"		# nginx workers run as nobody
mkdir -p "$T/www" "$T/res" "$T/a" "$T/c" "$T/e" "$T/f" "$T/g" "$T/bin"
RAW=$T/raw.txt
: >"$RAW"
# Snapshot the binaries: every phase runs the same build even if the tree
# is rebuilt while the benchmark runs.
cp "$FALCONET" "$T/bin/falconet" && cp "$MKSWU" "$T/bin/mkswu" ||
    die "cannot copy the binaries"
FALCONET_SRC=$FALCONET
FALCONET=$T/bin/falconet
MKSWU=$T/bin/mkswu

# The tls phase's certificate, and nginx's HTTPS server with it (nginx
# starts once, in whichever phase needs it first).
if phase_on tls; then
	mkdir -p "$T/nginx"
	CERTS=$T/tls
	. "$ROOT/tests/http/certs.sh"
	{ certs_ca ca && certs_server srv ca; } ||
	    die "openssl failed: $(tail -3 "$CERTS/openssl.log")"
	chmod 644 "$CERTS"/*.key
	NTPORT=$("$PY" "$HELPER" freeport) || die "no free port"
	cat >"$T/nginx/tls.conf" <<EOF
server {
	listen 127.0.0.1:$NTPORT ssl;
	ssl_certificate $CERTS/srv-chain.crt;
	ssl_certificate_key $CERTS/srv.key;
	ssl_protocols TLSv1.2 TLSv1.3;
	# Every handshake a full one, as falconet's (no resumption).
	ssl_session_cache off;
	ssl_session_tickets off;
	root $T/www;
	location ^~ /DEFAULT/controller/v1/ {
		rewrite ^ /poll-tls.json break;
	}
}
EOF
fi

START=$(now)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench: falconet $FALCONET_SRC, $DUR s per run, $ROUNDS rounds, phases $PHASES, temp dir $T"

# Each phase runs when BENCH_PHASES names it.  Their bodies are not
# indented under their if, so that their history stays readable.

# Phase B's database grows from phase A's.
if phase_on small || phase_on large; then
	write_settings "$T/a"
	"$FALCONET" -c "$T/a/settings.yaml" migrate >/dev/null 2>"$T/a/migrate.log" ||
	    die "migrate failed: $(cat "$T/a/migrate.log")"
	"$BENCH/seed.sh" "$T/a/data/falconet.db" 1 "$SMALL" >/dev/null ||
	    die "seeding failed"
fi

# --- Phase A: 1,000 devices -------------------------------------------------
if phase_on small; then
say "== poll with $SMALL devices"
phase_load "poll ($SMALL devices)"
start_falconet "$T/a" dev-0000001
START_SMALL_MS=$FSTART_MS
note "falconet started in $FSTART_MS ms (exec to first 200 poll, $SMALL devices)"
sleep 1
IDLE_RSS=$(status_kib "$FPID" VmRSS)
IDLE_THREADS=$(status_kib "$FPID" Threads)
note "falconet idle: VmRSS $IDLE_RSS KiB, $IDLE_THREADS threads"

need_nginx dev-0000002

# Open device connections, held.
line=$("$PY" "$HELPER" hold "$FPORT" "$FPID" "$HOLD" /DEFAULT/controller/v1/dev-) ||
    die "holding $HOLD connections failed: $line"
HOLD_RSS=$(echo "$line" | sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p')
HOLD_THREADS=$(echo "$line" | sed -n 's/.*threads=\([0-9]*\).*/\1/p')
note "falconet with $HOLD open device connections: VmRSS $HOLD_RSS KiB, $HOLD_THREADS threads"

poll_rounds small "$SMALL"
SMALL_RSS_AFTER=$(status_kib "$FPID" VmRSS)
SMALL_HWM_AFTER=$(status_kib "$FPID" VmHWM)
note "falconet after the $SMALL-device poll runs: VmRSS $SMALL_RSS_AFTER KiB, VmHWM $SMALL_HWM_AFTER KiB"
perf_run small "$SMALL"
sleep 1.5	# one last-seen flush
SEEN_SMALL=$(sqlite3 "$T/a/data/falconet.db" "SELECT count(*) FROM device_seen WHERE at > unixepoch() - 600")
note "devices seen during the runs: $SEEN_SMALL of $SMALL"
stop_falconet
fi

# --- Phase B: 1,000,000 devices ---------------------------------------------
if phase_on large; then
say "== poll with $LARGE devices"
phase_load "poll ($LARGE devices)"
t0=$(now)
"$BENCH/seed.sh" "$T/a/data/falconet.db" $((SMALL + 1)) "$LARGE" >/dev/null ||
    die "seeding failed"
note "seeded $((LARGE - SMALL)) more devices in $(fsub "$(now)" "$t0") s; database $(du -m "$T/a/data/falconet.db" | cut -f1) MiB"
start_falconet "$T/a" "dev-$(printf %07d "$LARGE")"
START_LARGE_MS=$FSTART_MS
need_nginx dev-0000002
note "falconet started in $FSTART_MS ms ($LARGE devices)"
sleep 1
LARGE_IDLE_RSS=$(status_kib "$FPID" VmRSS)
note "falconet idle with $LARGE devices: VmRSS $LARGE_IDLE_RSS KiB"
poll_rounds large "$LARGE"
LARGE_RSS_AFTER=$(status_kib "$FPID" VmRSS)
LARGE_HWM_AFTER=$(status_kib "$FPID" VmHWM)
# VmRSS counts the database pages SQLite reads through mmap (page cache,
# shared, given back under memory pressure); RssAnon is the daemon's own.
LARGE_ANON_AFTER=$(status_kib "$FPID" RssAnon)
LARGE_THREADS=$(status_kib "$FPID" Threads)
note "falconet after the $LARGE-device poll runs: VmRSS $LARGE_RSS_AFTER KiB (RssAnon $LARGE_ANON_AFTER KiB), VmHWM $LARGE_HWM_AFTER KiB, $LARGE_THREADS threads"
perf_run large "$LARGE"
sleep 1.5
SEEN_LARGE=$(sqlite3 "$T/a/data/falconet.db" "SELECT count(*) FROM device_seen WHERE at > unixepoch() - 600")
note "devices seen during the runs: $SEEN_LARGE of $LARGE"
WAL_LARGE=$(stat -c %s "$T/a/data/falconet.db-wal" 2>/dev/null || echo 0)
note "WAL after the $LARGE-device runs: $((WAL_LARGE / 1048576)) MiB (database $(du -m "$T/a/data/falconet.db" | cut -f1) MiB)"
stop_falconet
fi
rm -rf "$T/a/data"

# --- Phase C: upload and download --------------------------------------------
if phase_on transfer; then
say "== upload and download of a $ARTIFACT artifact"
phase_load "upload/download"
write_settings "$T/c"
"$FALCONET" -c "$T/c/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
"$BENCH/seed.sh" "$T/c/data/falconet.db" 1 1 >/dev/null || die "seeding failed"
TOKEN=$("$FALCONET" -c "$T/c/settings.yaml" token create bench 2>/dev/null) ||
    die "token create failed"
AUTH="Authorization: Bearer $TOKEN"
SWU=$T/www/big.swu
"$MKSWU" -o "$SWU" -v 1.0.0 -s "$ARTIFACT" -U >"$T/mkswu.out" 2>&1 ||
    die "mkswu failed: $(cat "$T/mkswu.out")"
chmod 644 "$SWU"
SWU_SIZE=$(stat -c %s "$SWU")
note "artifact: $SWU_SIZE bytes (mkswu -s $ARTIFACT -U)"
start_falconet "$T/c" dev-0000001
need_nginx dev-0000001
API=http://127.0.0.1:$FPORT/api/v1

UP_MBPS=() CP_MBPS=() CPS_MBPS=() UP_EXTRA=()
for r in $(seq "$ROUNDS"); do
	# falconet: streamed to a temp file, hashed, parsed, fdatasync'ed.
	sync
	idle=$(status_kib "$FPID" VmRSS)
	echo 5 >"/proc/$FPID/clear_refs"	# VmHWM := VmRSS
	t0=$(now)
	code=$(curl -sS -o "$T/up.json" -w '%{http_code}' -X POST -T "$SWU" \
	    -H "$AUTH" -H 'Content-Type: application/octet-stream' \
	    -H 'Expect:' "$API/software?filename=big.swu") ||
	    die "upload failed"
	t1=$(now)
	hwm=$(status_kib "$FPID" VmHWM)
	[ "$code" = 201 ] || die "upload answered $code: $(cat "$T/up.json")"
	SW_ID=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$T/up.json")
	[ -n "$SW_ID" ] || SW_ID=$(jq -r .id "$T/up.json" 2>/dev/null)
	UP_MBPS+=("$(awk -v b="$SWU_SIZE" -v s="$(fsub "$t1" "$t0")" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
	UP_EXTRA+=("$((hwm - idle))")
	note "upload round $r: falconet ${UP_MBPS[-1]} MB/s, VmRSS before $idle KiB, VmHWM during $hwm KiB (+$((hwm - idle)) KiB)"

	# cp to the same file system, then cp followed by an fsync of the copy
	# (what falconet's fdatasync costs on top).
	m=$(cp_mbps "$SWU" "$T/c/data/cp-copy" "$SWU_SIZE") || die "cp failed"
	CP_MBPS+=("$m")
	m=$(cp_mbps "$SWU" "$T/c/data/cp-copy" "$SWU_SIZE" fsync) || die "cp failed"
	CPS_MBPS+=("$m")
	note "upload round $r: cp ${CP_MBPS[-1]} MB/s, cp + fsync ${CPS_MBPS[-1]} MB/s"
	if [ "$r" -lt "$ROUNDS" ]; then
		code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" \
		    "$API/software/$SW_ID")
		[ "$code" = 204 ] || die "DELETE software answered $code"
	fi
done

# An open action for dev-0000001 on that software, and its artifact URL.
code=$(curl -sS -o "$T/rollout.json" -w '%{http_code}' -H "$AUTH" \
    -H 'Content-Type: application/json' -d "{\"software_id\": $SW_ID}" \
    "$API/rollouts")
[ "$code" = 201 ] || die "rollout answered $code: $(cat "$T/rollout.json")"
DDI=http://127.0.0.1:$FPORT/DEFAULT/controller/v1/dev-0000001
DB_HREF=$(curl -fsS "$DDI" | jq -r '._links.deploymentBase.href // empty')
[ -n "$DB_HREF" ] || die "the poll offers no deploymentBase"
DL_URL=$(curl -fsS "$DB_HREF" | jq -r '.deployment.chunks[0].artifacts[0]._links."download-http".href // empty')
[ -n "$DL_URL" ] || die "deploymentBase has no download-http link"
dl_size=$(curl -fsS -o /dev/null -w '%{size_download}' "$DL_URL") || die "download failed"
[ "$dl_size" = "$SWU_SIZE" ] || die "downloaded $dl_size bytes, want $SWU_SIZE"
cmp -s <(curl -fsS -r 1000-2000 "$DL_URL") <(curl -fsS -r 1000-2000 "http://127.0.0.1:$NPORT/big.swu") ||
    die "falconet and nginx serve different bytes"
note "download: $DL_URL vs http://127.0.0.1:$NPORT/big.swu"

for kind in full range; do
	for who in falconet nginx; do	# warm-up
		[ $who = falconet ] && url=$DL_URL || url=http://127.0.0.1:$NPORT/big.swu
		env BENCH_RANGE=$([ $kind = range ] && echo $RANGE || echo 0) \
		    BENCH_SIZE="$SWU_SIZE" wrk -t"$THREADS" -c"$DL_CONNS" -d2s \
		    --timeout 30s -s "$BENCH/download.lua" "$url" >/dev/null 2>&1
	done
	for r in $(seq "$ROUNDS"); do
		for who in falconet nginx; do
			[ $who = falconet ] && url=$DL_URL || url=http://127.0.0.1:$NPORT/big.swu
			f=$T/res/dl-$kind-$who-r$r
			wrk_run "$f" "$BENCH/download.lua" "$DL_CONNS" "$url" \
			    BENCH_RANGE="$([ $kind = range ] && echo $RANGE || echo 0)" \
			    BENCH_SIZE="$SWU_SIZE"
			note "$(printf 'download %-5s %-8s round %s: %7.0f MB/s  %7.1f req/s  p99 %7.2f ms' \
			    $kind $who "$r" "$(field "$f" mbps)" "$(field "$f" rps)" \
			    "$(ms "$(field "$f" p99_us)")")"
		done
	done
done
stop_falconet
fi

# --- Phase D: a RAUC verity bundle through upload ----------------------------
# The whole path of a bundle: streamed to a temp file with three hashes,
# the CMS verified against rauc.keyring, the dm-verity tree checked over
# the payload, renamed into place.  Against cp of the bundle.
if phase_on raucb; then
say "== upload of a $ARTIFACT RAUC verity bundle"
phase_load "raucb upload"
mkdir -p "$T/d/data" "$T/d/bundle" "$T/d/keys"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=bench-signer \
    -addext "extendedKeyUsage=codeSigning,emailProtection" \
    -keyout "$T/d/keys/key.pem" -out "$T/d/keys/cert.pem" 2>/dev/null ||
    die "openssl req failed"
# The payload has the .swu's size (the artifact's, if phase C did not run).
SWU_SIZE=${SWU_SIZE:-$(numfmt --from=iec "$ARTIFACT")}
head -c "$SWU_SIZE" /dev/urandom >"$T/d/bundle/rootfs.img"
printf '[update]\ncompatible=bench-board\nversion=1.0.0\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=rootfs.img\n' \
    >"$T/d/bundle/manifest.raucm"
RAUCB=$T/www/big.raucb
TMPDIR=$T/d rauc bundle --cert="$T/d/keys/cert.pem" --key="$T/d/keys/key.pem" \
    --mksquashfs-args="-noI -noD -noF -noX" "$T/d/bundle" "$RAUCB" \
    >"$T/d/rauc.out" 2>&1 || die "rauc bundle failed: $(tail -3 "$T/d/rauc.out")"
rm -rf "$T/d/bundle"
RAUCB_SIZE=$(stat -c %s "$RAUCB")
note "bundle: $RAUCB_SIZE bytes (verity, uncompressed squashfs)"
write_settings "$T/d"
printf 'rauc:\n  keyring: %s\n  signature: require\n' "$T/d/keys/cert.pem" \
    >>"$T/d/settings.yaml"
"$FALCONET" -c "$T/d/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
"$BENCH/seed.sh" "$T/d/data/falconet.db" 1 1 >/dev/null || die "seeding failed"
TOKEN=$("$FALCONET" -c "$T/d/settings.yaml" token create bench 2>/dev/null) ||
    die "token create failed"
AUTH="Authorization: Bearer $TOKEN"
start_falconet "$T/d" dev-0000001
API=http://127.0.0.1:$FPORT/api/v1
RUP_MBPS=() RCP_MBPS=() RUP_EXTRA=() RUP_CPU=() RCURL_CPU=() RCP_CPU=() RCPS_MBPS=()
for r in $(seq "$ROUNDS"); do
	sync
	busy=$(cpu_busy)
	idle=$(status_kib "$FPID" VmRSS)
	echo 5 >"/proc/$FPID/clear_refs"
	f0=$(proc_cpu "$FPID")
	kids_cpu; k0=$KIDS_CPU
	t0=$(now)
	code=$(curl -sS -o "$T/rup.json" -w '%{http_code}' -X POST -T "$RAUCB" \
	    -H "$AUTH" -H 'Content-Type: application/octet-stream' \
	    -H 'Expect:' "$API/software?filename=big.raucb") ||
	    die "bundle upload failed"
	t1=$(now)
	kids_cpu; k1=$KIDS_CPU
	f1=$(proc_cpu "$FPID")
	hwm=$(status_kib "$FPID" VmHWM)
	[ "$code" = 201 ] || die "bundle upload answered $code: $(cat "$T/rup.json")"
	[ "$(jq -r .signature "$T/rup.json")" = verified ] ||
	    die "the bundle's signature was not verified"
	RUP_MBPS+=("$(awk -v b="$RAUCB_SIZE" -v s="$(fsub "$t1" "$t0")" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
	RUP_EXTRA+=("$((hwm - idle))")
	RUP_CPU+=("$(fsub2 "$f1" "$f0")") RCURL_CPU+=("$(fsub2 "$k1" "$k0")")
	note "raucb upload round $r: falconet ${RUP_MBPS[-1]} MB/s, +$((hwm - idle)) KiB peak RSS, CPU ${RUP_CPU[-1]} s (curl ${RCURL_CPU[-1]} s), other load before it ${busy}%"
	sync
	kids_cpu; k0=$KIDS_CPU
	t0=$(now)
	cp "$RAUCB" "$T/d/data/cp-copy" || die "cp failed"
	t1=$(now)
	kids_cpu; k1=$KIDS_CPU
	RCP_MBPS+=("$(awk -v b="$RAUCB_SIZE" -v s="$(fsub "$t1" "$t0")" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
	RCP_CPU+=("$(fsub2 "$k1" "$k0")")
	rm -f "$T/d/data/cp-copy"
	# cp and an fsync of the copy: the bytes on the disk, as falconet's
	# upload leaves them before it answers.
	m=$(cp_mbps "$RAUCB" "$T/d/data/cp-copy" "$RAUCB_SIZE" fsync) || die "cp failed"
	RCPS_MBPS+=("$m")
	note "raucb upload round $r: cp ${RCP_MBPS[-1]} MB/s, CPU ${RCP_CPU[-1]} s; cp + fsync ${RCPS_MBPS[-1]} MB/s"
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" \
	    "$API/software/$(jq -r .id "$T/rup.json")")
	[ "$code" = 204 ] || die "DELETE software answered $code"
done
stop_falconet
rm -f "$RAUCB"
fi

# --- Phase E: polls under management load ----------------------------------
# The same wrk runs over 100,000 devices, alone and while operators work:
# logins (argon2 at the default cost), device lists sorted by state and
# searched by text, the audit log, /api/v1/stats and /metrics.  These run
# on the management pool (http.management_threads), not on the threads
# that answer polls.
if phase_on mgmt; then
say "== poll with $MGMT_DEVICES devices, alone and under management load"
phase_load "management load"
write_settings "$T/e"
"$FALCONET" -c "$T/e/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
"$BENCH/seed.sh" "$T/e/data/falconet.db" 1 "$MGMT_DEVICES" >/dev/null ||
    die "seeding failed"
TOKEN=$("$FALCONET" -c "$T/e/settings.yaml" token create bench 2>/dev/null) ||
    die "token create failed"
echo "$MGMT_PASSWORD" | "$FALCONET" -c "$T/e/settings.yaml" user add op operator \
    >/dev/null 2>&1 || die "user add failed"
start_falconet "$T/e" dev-0000001
note "falconet with $MGMT_DEVICES devices: $(status_kib "$FPID" Threads) threads"
MGMT_URL=http://127.0.0.1:$FPORT/
# Warm-up: the polls, and the management queries once each.
env BENCH_DEVICES="$MGMT_DEVICES" wrk -t"$THREADS" -c"$MGMT_CONNS" -d2s \
    --timeout 10s -s "$BENCH/poll.lua" "$MGMT_URL" >/dev/null 2>&1
nice -n 10 "$PY" "$HELPER" mgmt "$FPORT" 2 "$TOKEN" op "$MGMT_PASSWORD" 1 1 1 \
    >"$T/res/mgmt-warm" || die "the management client failed"
note "warm-up of the management client: $(cat "$T/res/mgmt-warm")"
for r in $(seq "$ROUNDS"); do
	f=$T/res/mgmt-alone-r$r
	wrk_run "$f" "$BENCH/poll.lua" "$MGMT_CONNS" "$MGMT_URL" \
	    BENCH_DEVICES="$MGMT_DEVICES"
	note "$(printf 'poll %s devices c=%s round %s, alone:           %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms' \
	    "$MGMT_DEVICES" "$MGMT_CONNS" "$r" "$(field "$f" rps)" \
	    "$(ms "$(field "$f" p50_us)")" "$(ms "$(field "$f" p99_us)")")"
	# The load starts half a second before the polls and ends after them.
	nice -n 10 "$PY" "$HELPER" mgmt "$FPORT" "$((DUR + 1))" "$TOKEN" op \
	    "$MGMT_PASSWORD" "$MGMT_LOGINS" "$MGMT_LOOPS" "$MGMT_SCRAPES" \
	    >"$T/res/mgmt-load-r$r" &
	mp=$!
	sleep 0.5
	f=$T/res/mgmt-loaded-r$r
	wrk_run "$f" "$BENCH/poll.lua" "$MGMT_CONNS" "$MGMT_URL" \
	    BENCH_DEVICES="$MGMT_DEVICES"
	wait "$mp" || die "the management client failed"
	note "$(printf 'poll %s devices c=%s round %s, management load: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms' \
	    "$MGMT_DEVICES" "$MGMT_CONNS" "$r" "$(field "$f" rps)" \
	    "$(ms "$(field "$f" p50_us)")" "$(ms "$(field "$f" p99_us)")")"
	note "  the management load: $(cat "$T/res/mgmt-load-r$r")"
done
stop_falconet
rm -rf "$T/e/data"
fi


# --- Phase G: the poll over HTTPS ---------------------------------------------
# falconet's own HTTPS (GnuTLS) against nginx's (OpenSSL), the same EC
# P-256 certificate and key, 1,000 devices: keep-alive connections, and a
# TLS handshake per request (BENCH_CLOSE=1: Connection: close).
if phase_on tls; then
say "== poll over HTTPS with $SMALL devices"
phase_load "poll over HTTPS"
write_settings "$T/g"
cat >>"$T/g/settings.yaml" <<EOF
tls:
  cert: $CERTS/srv-chain.crt
  key: $CERTS/srv.key
EOF
"$FALCONET" -c "$T/g/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
"$BENCH/seed.sh" "$T/g/data/falconet.db" 1 "$SMALL" >/dev/null || die "seeding failed"
export BENCH_CAFILE=$CERTS/ca.crt
start_falconet "$T/g" dev-0000001
unset BENCH_CAFILE
note "falconet over HTTPS: $(sed -n 's/.* info serving //p' "$T/g/falconet.log" | head -1)"
curl -fsS --cacert "$CERTS/ca.crt" -o "$T/www/poll-tls.json" \
    "https://127.0.0.1:$FPORT/DEFAULT/controller/v1/dev-0000002" ||
    die "poll over HTTPS failed"
chmod 644 "$T/www/poll-tls.json"
FSCHEME=https need_nginx dev-0000002
TLS_BYTES=$(curl -fsS --cacert "$CERTS/ca.crt" \
    "https://127.0.0.1:$NTPORT/DEFAULT/controller/v1/dev-0000002" | wc -c) ||
    die "nginx over HTTPS failed"
[ "$TLS_BYTES" = "$(stat -c %s "$T/www/poll-tls.json")" ] ||
    die "nginx answers $TLS_BYTES bytes over HTTPS, falconet $(stat -c %s "$T/www/poll-tls.json")"
for who in falconet nginx; do
	[ $who = falconet ] && port=$FPORT || port=$NTPORT
	note "$who over HTTPS: $(echo | openssl s_client -connect "127.0.0.1:$port" \
	    -CAfile "$CERTS/ca.crt" 2>/dev/null | sed -n 's/^New, \(.*\), Cipher is \(.*\)/\1 \2/p')"
	env BENCH_DEVICES="$SMALL" wrk -t"$THREADS" -c"$TLS_CONNS" -d2s --timeout 10s \
	    -s "$BENCH/poll.lua" "https://127.0.0.1:$port/" >/dev/null 2>&1
done
for r in $(seq "$ROUNDS"); do
	for mode in keepalive handshake; do
		for who in falconet nginx; do
			[ $who = falconet ] && port=$FPORT || port=$NTPORT
			f=$T/res/tls-$mode-$who-r$r
			close=0
			[ $mode = handshake ] && close=1
			wrk_run "$f" "$BENCH/poll.lua" "$TLS_CONNS" \
			    "https://127.0.0.1:$port/" BENCH_DEVICES="$SMALL" \
			    BENCH_CLOSE=$close
			note "$(printf 'poll https %-9s %-8s c=%-4s round %s: %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms' \
			    "$mode" "$who" "$TLS_CONNS" "$r" "$(field "$f" rps)" \
			    "$(ms "$(field "$f" p50_us)")" "$(ms "$(field "$f" p99_us)")")"
		done
	done
done
TLS_RSS_AFTER=$(status_kib "$FPID" VmRSS)
note "falconet after the HTTPS runs: VmRSS $TLS_RSS_AFTER KiB"
stop_falconet
rm -rf "$T/g/data"
fi

# --- Phase F: hawkBit's target list at scale ---------------------------------
# GET /rest/v1/targets with a filter over 1,000,000 devices: each filter's
# page and its total come from indexes (migration 0010), not a scan.
REST_FILTERS=(
	"controllerId==dev-0500000"
	"name==Device-0777777"
	"updateStatus==pending"
	"updateStatus==error;name==Device-09*"
	"attribute.hw==rev-0999"
)
if phase_on rest; then
say "== /rest/v1/targets with $REST_DEVICES devices"
phase_load "rest target list"
write_settings "$T/f"
"$FALCONET" -c "$T/f/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
t0=$(now)
"$BENCH/seed.sh" "$T/f/data/falconet.db" 1 "$REST_DEVICES" >/dev/null ||
    die "seeding failed"
# Names, an attribute each (1,000 devices share a value), one device in
# 1,000 with an open update and one in 10,000 with a failed one.
sqlite3 -bail "$T/f/data/falconet.db" <<SQL || die "seeding the rest phase failed"
PRAGMA synchronous = OFF;
BEGIN;
UPDATE device SET name = printf('Device-%07d', id);
INSERT INTO device_attribute (device_id, key, value)
SELECT id, 'hw', printf('rev-%04d', id % 1000) FROM device;
UPDATE device SET update_status = 'pending' WHERE id % 1000 = 0;
UPDATE device SET update_status = 'error' WHERE id % 10000 = 5;
COMMIT;
ANALYZE;
SQL
note "seeded $REST_DEVICES named devices with attributes in $(fsub "$(now)" "$t0") s; database $(du -m "$T/f/data/falconet.db" | cut -f1) MiB"
TOKEN=$("$FALCONET" -c "$T/f/settings.yaml" token create bench 2>/dev/null) ||
    die "token create failed"
start_falconet "$T/f" dev-0000001
for i in "${!REST_FILTERS[@]}"; do
	q=${REST_FILTERS[$i]}
	url="http://127.0.0.1:$FPORT/rest/v1/targets?limit=50&q=$(jq -rn --arg q "$q" '$q | @uri')"
	curl -fsS -H "Authorization: Bearer $TOKEN" "$url" >"$T/res/rest-$i.json" ||
	    die "GET /rest/v1/targets?q=$q failed"
	total=$(jq -r .total "$T/res/rest-$i.json")
	# One connection, REST_REQUESTS requests (curl reuses it).
	args=()
	for _ in $(seq "$REST_REQUESTS"); do args+=(-o /dev/null "$url"); done
	curl -sS -H "Authorization: Bearer $TOKEN" \
	    -w '%{http_code} %{time_total}\n' "${args[@]}" >"$T/res/rest-$i.times" ||
	    die "the rest requests failed"
	bad=$(awk '$1 != 200' "$T/res/rest-$i.times" | wc -l)
	REST_P50[$i]=$(awk '{ print $2 * 1000 }' "$T/res/rest-$i.times" | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	REST_P99[$i]=$(awk '{ print $2 * 1000 }' "$T/res/rest-$i.times" | sort -g |
	    awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; print v[i] }')
	REST_TOTAL[$i]=$total
	note "$(printf 'rest q=%-38s total %7s: p50 %7.2f ms  p99 %7.2f ms  (%s requests, %s not 200)' \
	    "$q" "$total" "${REST_P50[$i]}" "${REST_P99[$i]}" "$REST_REQUESTS" "$bad")"
done
stop_falconet
rm -rf "$T/f/data"
fi

# --- Phase G: rollouts at scale --------------------------------------------
# Failed feedback and the rollout list with 1,000,000 devices on the feed:
# neither may scan the feed (a failure recounts its rollout against the
# failure threshold from counters; the list reads each rollout's counters).
if phase_on rollout; then
say "== rollouts with $ROLLOUT_DEVICES devices on one feed"
phase_load "rollouts at scale"
write_settings "$T/g"
cat >>"$T/g/settings.yaml" <<EOF
updates:
  max_running: 1000000
EOF
"$FALCONET" -c "$T/g/settings.yaml" migrate >/dev/null 2>&1 || die "migrate failed"
t0=$(now)
"$BENCH/seed.sh" "$T/g/data/falconet.db" 1 "$ROLLOUT_DEVICES" >/dev/null ||
    die "seeding failed"
sqlite3 -bail "$T/g/data/falconet.db" 'ANALYZE;' || die "ANALYZE failed"
note "seeded $ROLLOUT_DEVICES devices in $(fsub "$(now)" "$t0") s"
TOKEN=$("$FALCONET" -c "$T/g/settings.yaml" token create bench 2>/dev/null) ||
    die "token create failed"
start_falconet "$T/g" dev-0000001
ROLLOUT_CREATE_MS=()
for v in 1 2 3 4 5; do
	"$MKSWU" -o "$T/g/r-$v.swu" -v "1.0.$v" -r 1.0 -m bench-board -s 64K -U \
	    >/dev/null 2>&1 || die "mkswu failed"
	sw=$(curl -fsS -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary "@$T/g/r-$v.swu" \
	    "http://127.0.0.1:$FPORT/api/v1/software?filename=r-$v.swu" | jq -r .id) ||
	    die "upload 1.0.$v failed"
	out=$(curl -sS -o "$T/g/rollout-$v.json" -w '%{http_code} %{time_total}' \
	    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	    -d "{\"software_id\":$sw,\"feed\":\"default\",\"name\":\"bench $v\",\"failure_threshold_percent\":50}" \
	    "http://127.0.0.1:$FPORT/api/v1/rollouts")
	[ "${out%% *}" = 201 ] || die "rollout 1.0.$v: $out $(head -c 200 "$T/g/rollout-$v.json")"
	ROLLOUT_CREATE_MS+=("$(awk -v t="${out#* }" 'BEGIN { printf "%.1f", t * 1000 }')")
done
note "rollout create ms (five rollouts on the feed): ${ROLLOUT_CREATE_MS[*]}"
"$PY" "$HELPER" feedback "$FPORT" "$ROLLOUT_FEEDBACKS" dev- >"$T/res/rollout-feedback" ||
    die "the feedback run failed"
note "failed feedback: $(cat "$T/res/rollout-feedback")"
"$PY" "$HELPER" lat "$FPORT" "$REST_REQUESTS" "$TOKEN" /api/v1/rollouts \
    >"$T/res/rollout-list" || die "the rollout list run failed"
note "GET /api/v1/rollouts: $(cat "$T/res/rollout-list")"
"$PY" "$HELPER" lat "$FPORT" "$REST_REQUESTS" "$TOKEN" /rest/v1/rollouts \
    >"$T/res/rollout-rest" || die "the /rest/v1 rollout list run failed"
note "GET /rest/v1/rollouts: $(cat "$T/res/rollout-rest")"
curl -fsS -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$FPORT/api/v1/rollouts?limit=1" >"$T/res/rollout-newest.json" ||
    die "reading the newest rollout failed"
note "the newest rollout: $(jq -c '.rollouts[0] | {state, paused, counts}' "$T/res/rollout-newest.json")"
stop_falconet
rm -rf "$T/g/data"
fi

# ---------------------------------------------------------------------------
# The table

# mgmt_median WHICH KEY: a median over the rounds of the mgmt phase (WHICH:
# alone, loaded: wrk's BENCH line; load: the management client's MGMT line).
mgmt_median()
{
	local vals=() r

	for r in $(seq "$ROUNDS"); do
		vals+=("$(sed -n "s/^\(BENCH\|MGMT\) .*\b$2=\([^ ]*\).*/\2/p" \
		    "$T/res/mgmt-$1-r$r" | tail -1)")
	done
	median "${vals[@]}"
}

# tls_median MODE WHO KEY: a median over the rounds of the tls phase.
tls_median()
{
	local vals=() r

	for r in $(seq "$ROUNDS"); do
		vals+=("$(field "$T/res/tls-$1-$2-r$r" "$3")")
	done
	median "${vals[@]}"
}

dl_median()
{
	local vals=() r

	for r in $(seq "$ROUNDS"); do
		vals+=("$(field "$T/res/dl-$1-$2-r$r" "$3")")
	done
	median "${vals[@]}"
}

BIN_SIZE=$(stat -c %s "$FALCONET")
strip -o "$T/falconet.stripped" "$FALCONET" 2>/dev/null &&
    BIN_STRIPPED=$(stat -c %s "$T/falconet.stripped") || BIN_STRIPPED=
END=$(now)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

TABLE=$T/table.md
{
	say "| metric | falconet | reference | ratio | goal | met? |"
	say "|---|---:|---:|---:|---|---|"
	declare -A RPS
	for phase in small large; do
		phase_on $phase || continue
		[ $phase = small ] && n=$SMALL || n=$LARGE
		for c in $CONNS; do
			fr=$(poll_median $phase falconet "$c" rps)
			nr=$(poll_median $phase nginx "$c" rps)
			f50=$(poll_median $phase falconet "$c" p50_us)
			n50=$(poll_median $phase nginx "$c" p50_us)
			f99=$(poll_median $phase falconet "$c" p99_us)
			n99=$(poll_median $phase nginx "$c" p99_us)
			RPS[$phase-$c]=$fr
			nn=$(commas "$n")
			if [ $phase = small ]; then
				g1="≥ 1.0× nginx"; m1=$(yesno ge "$(ratio "$fr" "$nr")" 1.0)
				g2="≤ nginx"; m2=$(yesno ge "$n99" "$f99")
			else
				g1="(info)"; m1="" g2="(info)"; m2=""
			fi
			say "| poll req/s, $nn devices, $c conns (vs nginx) | $(int "$fr") | $(int "$nr") | $(ratio "$fr" "$nr")× | $g1 | $m1 |"
			say "| poll p50 ms, $nn devices, $c conns | $(ms "$f50") | $(ms "$n50") | $(ratio "$f50" "$n50")× | (info) | |"
			say "| poll p99 ms, $nn devices, $c conns | $(ms "$f99") | $(ms "$n99") | $(ratio "$f99" "$n99")× | $g2 | $m2 |"
		done
	done
	for c in $CONNS; do
		phase_on small && phase_on large || break
		rr=$(ratio "${RPS[large-$c]}" "${RPS[small-$c]}")
		say "| poll req/s, $(commas "$LARGE") vs $(commas "$SMALL") devices, $c conns | $(int "${RPS[large-$c]}") | $(int "${RPS[small-$c]}") | ${rr}× | ≥ 0.8× | $(yesno ge "$rr" 0.8) |"
	done
	if phase_on mgmt; then
		nn=$(commas "$MGMT_DEVICES")
		fl=$(mgmt_median loaded p99_us); fa=$(mgmt_median alone p99_us)
		rr=$(ratio "$fl" "$fa")
		say "| poll p99 ms, $nn devices, $MGMT_CONNS conns, under management load (vs alone) | $(ms "$fl") | $(ms "$fa") | ${rr}× | ≤ 2.0× | $(yesno ge 2.0 "$rr") |"
		fl=$(mgmt_median loaded p50_us); fa=$(mgmt_median alone p50_us)
		say "| poll p50 ms, $nn devices, $MGMT_CONNS conns, under management load (vs alone) | $(ms "$fl") | $(ms "$fa") | $(ratio "$fl" "$fa")× | (info) | |"
		fl=$(mgmt_median loaded rps); fa=$(mgmt_median alone rps)
		say "| poll req/s, $nn devices, $MGMT_CONNS conns, under management load (vs alone) | $(int "$fl") | $(int "$fa") | $(ratio "$fl" "$fa")× | (info) | |"
		secs=$(mgmt_median load seconds)
		say "| the management load served: logins/s (p50 ms) | $(awk -v n="$(mgmt_median load login_ok)" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') ($(mgmt_median load login_p50_ms)) | | | (info) | |"
		say "| lists/s: devices by state, devices by text, audit (p50 ms) | $(awk -v n="$(mgmt_median load list_ok)" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') ($(mgmt_median load list_p50_ms)) | | | (info) | |"
		say "| stats + metrics/s (p50 ms); 503 busy answers, other failures | $(awk -v n="$(mgmt_median load scrape_ok)" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') ($(mgmt_median load scrape_p50_ms)); $(mgmt_median load busy), $(mgmt_median load other) | | | (info) | |"
	fi
	if phase_on tls; then
	for mode in keepalive handshake; do
		[ $mode = keepalive ] && what="keep-alive" || what="a TLS handshake per request"
		fr=$(tls_median "$mode" falconet rps); nr=$(tls_median "$mode" nginx rps)
		f50=$(tls_median "$mode" falconet p50_us); n50=$(tls_median "$mode" nginx p50_us)
		f99=$(tls_median "$mode" falconet p99_us); n99=$(tls_median "$mode" nginx p99_us)
		say "| poll req/s over HTTPS, $what, $(commas "$SMALL") devices, $TLS_CONNS conns (vs nginx, same certificate) | $(int "$fr") | $(int "$nr") | $(ratio "$fr" "$nr")× | (info) | |"
		say "| poll p50 / p99 ms over HTTPS, $what | $(ms "$f50") / $(ms "$f99") | $(ms "$n50") / $(ms "$n99") | $(ratio "$f99" "$n99")× (p99) | (info) | |"
	done
	fi
	if phase_on rest; then
	for i in "${!REST_FILTERS[@]}"; do
		say "| GET /rest/v1/targets?q=${REST_FILTERS[$i]}&limit=50 ($(commas "$REST_DEVICES") devices, total ${REST_TOTAL[$i]}): p50 / p99 ms | $(printf '%.2f' "${REST_P50[$i]}") / $(printf '%.2f' "${REST_P99[$i]}") | | | p99 < 50 ms | $(yesno ge 50 "${REST_P99[$i]}") |"
	done
	fi
	if phase_on rollout; then
		nn=$(commas "$ROLLOUT_DEVICES")
		f=$T/res/rollout-feedback
		say "| failed feedback ($nn devices on the feed, $(field "$f" actions) actions): p50 / p99 ms | $(field "$f" p50_ms) / $(field "$f" p99_ms) | | | p99 < 10 ms | $(yesno ge 10 "$(field "$f" p99_ms)") |"
		for w in list rest; do
			f=$T/res/rollout-$w
			[ $w = list ] && u=/api/v1/rollouts || u=/rest/v1/rollouts
			say "| GET $u (5 rollouts, $nn devices on the feed): p50 / p99 ms | $(field "$f" p50_ms) / $(field "$f" p99_ms) | | | p99 < 50 ms | $(yesno ge 50 "$(field "$f" p99_ms)") |"
		done
		say "| rollout create ($nn devices on the feed), ms, five in a row | ${ROLLOUT_CREATE_MS[*]} | | | (info) | |"
	fi
	if phase_on transfer; then
	fd=$(dl_median full falconet mbps); nd=$(dl_median full nginx mbps)
	rr=$(ratio "$fd" "$nd")
	say "| download MB/s, whole $ARTIFACT GETs, $DL_CONNS conns (vs nginx) | $(int "$fd") | $(int "$nd") | ${rr}× | ≥ 1.0× | $(yesno ge "$rr" 1.0) |"
	fd=$(dl_median range falconet mbps); nd=$(dl_median range nginx mbps)
	rr=$(ratio "$fd" "$nd")
	say "| download MB/s, 1 MiB Range GETs, $DL_CONNS conns (vs nginx) | $(int "$fd") | $(int "$nd") | ${rr}× | ≥ 0.95× | $(yesno ge "$rr" 0.95) |"
	fu=$(median "${UP_MBPS[@]}"); cu=$(median "${CP_MBPS[@]}"); csu=$(median "${CPS_MBPS[@]}")
	rr=$(ratio "$fu" "$cu")
	say "| upload MB/s, $ARTIFACT .swu (vs cp) | $(int "$fu") | $(int "$cu") | ${rr}× | ≥ 0.5× | $(yesno ge "$rr" 0.5) |"
	say "| upload MB/s, $ARTIFACT .swu (vs cp + fsync) | $(int "$fu") | $(int "$csu") | $(ratio "$fu" "$csu")× | (info) | |"
	ex=$(maxof "${UP_EXTRA[@]}")
	say "| upload peak RSS above idle, MiB (worst round) | $(mib "$ex") | | | < 16 MiB | $(yesno ge 16383 "$ex") |"
	fi
	if phase_on raucb; then
	fu=$(median "${RUP_MBPS[@]}"); cu=$(median "${RCP_MBPS[@]}")
	rr=$(ratio "$fu" "$cu")
	say "| upload MB/s, $ARTIFACT verity .raucb: signature and hash tree checked (vs cp) | $(int "$fu") | $(int "$cu") | ${rr}× | ≥ 0.5× | $(yesno ge "$rr" 0.5) |"
	say "| upload MB/s, $ARTIFACT verity .raucb (vs cp + fsync) | $(int "$fu") | $(int "$(median "${RCPS_MBPS[@]}")") | $(ratio "$fu" "$(median "${RCPS_MBPS[@]}")")× | (info) | |"
	say "| .raucb upload CPU seconds: falconet + curl (vs cp) | $(median "${RUP_CPU[@]}") + $(median "${RCURL_CPU[@]}") | $(median "${RCP_CPU[@]}") | | (info) | |"
	ex=$(maxof "${RUP_EXTRA[@]}")
	say "| .raucb upload peak RSS above idle, MiB (worst round) | $(mib "$ex") | | | < 16 MiB | $(yesno ge 16383 "$ex") |"
	fi
	if phase_on small; then
	say "| idle RSS, MiB ($(commas "$SMALL") devices; reference: nginx master + workers) | $(mib "$IDLE_RSS") | $(mib "$NGINX_IDLE_RSS") | | ≤ 10 MiB | $(yesno ge 10240 "$IDLE_RSS") |"
	say "| RSS with $(commas "$HOLD") open device connections, MiB | $(mib "$HOLD_RSS") | | | ≤ 24 MiB | $(yesno ge 24576 "$HOLD_RSS") |"
	say "| RSS after the poll runs, $(commas "$SMALL") devices, MiB (VmRSS / VmHWM) | $(mib "$SMALL_RSS_AFTER") / $(mib "$SMALL_HWM_AFTER") | | | (info) | |"
	fi
	if phase_on large; then
	say "| idle RSS with $(commas "$LARGE") devices, MiB | $(mib "$LARGE_IDLE_RSS") | | | (info) | |"
	say "| RSS after the poll runs, $(commas "$LARGE") devices, MiB (VmRSS / VmHWM; RssAnon, without the mmap'd database) | $(mib "$LARGE_RSS_AFTER") / $(mib "$LARGE_HWM_AFTER"); $(mib "$LARGE_ANON_AFTER") | | | (info) | |"
	fi
	say "| binary size, KiB (as built / stripped) | $((BIN_SIZE / 1024)) / ${BIN_STRIPPED:+$((BIN_STRIPPED / 1024))} | | | (info) | |"
	{ phase_on small || phase_on large; } &&
	    say "| start-up to first answered poll, ms ($(commas "$SMALL") / $(commas "$LARGE") devices) | $START_SMALL_MS / $START_LARGE_MS | | | (info) | |"
	phase_on small &&
	    say "| threads (idle / $(commas "$HOLD") connections) | $IDLE_THREADS / $HOLD_THREADS | | | (info) | |"
} >"$TABLE"

{
	say "# falconet benchmark"
	say
	say "Command: \`$CMDLINE\` (tests/bench/run.sh; BENCH_DURATION=$DUR, BENCH_ROUNDS=$ROUNDS)."
	say "Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr);"
	say "$(date -u '+%Y-%m-%d %H:%M UTC'), $(printf '%.0f' "$(fsub "$END" "$START")") s;"
	say "load average at start $LOAD_START, at end $LOAD_END; CPU busy with other processes before each phase: $BUSY_LIST"
	say "(figures taken while other processes use the CPUs are noisy: falconet, nginx and wrk share $(nproc) cores)."
	say "wrk -t$THREADS, ${DUR} s per run, medians of $ROUNDS rounds alternating falconet and nginx;"
	say "poll answer $POLL_BYTES bytes (nginx serves the same bytes as a static file);"
	say "MB/s = 10^6 bytes/s; devices seen during the runs: $SEEN_SMALL of $SMALL, $SEEN_LARGE of $LARGE."
	say
	cat "$TABLE"
	say
	say "Raw figures:"
	say
	say '```'
	cat "$RAW"
	say '```'
} >"$RESULTS"

say
say "== results (also in ${RESULTS#"$ROOT"/})"
say
cat "$TABLE"
say
say "Command: $CMDLINE; $(printf '%.0f' "$(fsub "$END" "$START")") s; load average at start $LOAD_START, at end $LOAD_END"
say "Other processes' CPU use before each phase: $BUSY_LIST"
exit 0
