# Shared helpers for the HTTP tests (tests/http/tNNNN-*.sh), sourced by each.
#
# A test starts the real daemon on 127.0.0.1 with a free port, a fresh temp
# directory and a generated settings.yaml, talks to it with curl, checks
# status codes and JSON fields with jq, and ends with `finish`, which prints
# "N passed, N failed".  The server is killed by PID when the script exits.
#
# Environment: FALCONET (the daemon, required), MKSWU (the .swu builder),
# KEEP=1 keeps the temp directory, VERBOSE=1 prints every request.
#
# Settings overrides: start_server takes YAML text, each argument one or
# more top-level keys.  They are merged into the base file two levels deep:
# a second-level key ("log:\n  access: false") replaces that key only, a
# top-level scalar ("data_dir: /x") replaces the base value.  So no key is
# ever written twice (the settings parser refuses duplicates).

set -u

: "${FALCONET:?set FALCONET to the falconet binary}"
MKSWU=${MKSWU:-$(dirname "$FALCONET")/tools/mkswu}
case $FALCONET in /*) ;; *) FALCONET=$PWD/$FALCONET ;; esac
case $MKSWU in /*) ;; *) MKSWU=$PWD/$MKSWU ;; esac

for tool in curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - $tool is required"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/falconet-$TEST_NAME.XXXXXX")
PASSED=0
FAILED=0
SERVER_PID=
BASE=
PORT=
STATUS=
BODY=
TOKEN=
TENANT=DEFAULT
DDI_AUTH=		# e.g. "TargetToken abc": sent by ddi()
LAST_REQ=

# The daemon is built with sanitizers in tests: make every report fatal to
# the check in stop_server, never to the test runner.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# ---------------------------------------------------------------------------
# Results

pass()
{
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

fail()
{
	FAILED=$((FAILED + 1))
	echo "not ok - $1${2:+ ($2)}"
}

# A short, one-line excerpt of the last body, for failure details.
body_excerpt()
{
	tr -d '\0' <"$T/body" 2>/dev/null | tr '\n\r' '  ' | cut -c1-160
}

# check NAME COMMAND...: ok if the command succeeds.
check()
{
	local name=$1
	shift
	if "$@"; then
		pass "$name"
	else
		fail "$name" "failed: $*"
	fi
}

# expect_status CODE [NAME]: the last request answered CODE (or one of
# "a|b").
expect_status()
{
	local want=$1 name=${2:-"$LAST_REQ -> $1"}
	case "|$want|" in
	*"|$STATUS|"*)
		case $want in
		*"|"*) pass "$name (got $STATUS)" ;;
		*) pass "$name" ;;
		esac
		;;
	*) fail "$name" "status $STATUS, want $want; body: $(body_excerpt)" ;;
	esac
}

# expect_json JQ_EXPR EXPECTED [NAME]: jq -r of the last body equals
# EXPECTED.
expect_json()
{
	local expr=$1 want=$2 name=${3:-"$LAST_REQ: $1 == $2"} got
	if ! got=$(jq -c -r "$expr" <"$T/body" 2>&1); then
		fail "$name" "jq failed: $(echo "$got" | head -1); body: $(body_excerpt)"
	elif [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "got '$(echo "$got" | head -3 | tr '\n' ' ' | cut -c1-200)', want '$want'"
	fi
}

# expect_jq JQ_FILTER [NAME]: the filter (a boolean) is true on the body.
expect_jq()
{
	expect_json "$1" true "${2:-"$LAST_REQ: $1"}"
}

# header NAME: a header of the last response ("" if absent).  With
# 100-continue the headers file holds several blocks; the last one counts.
header()
{
	awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" '
		/^HTTP\// { v = ""; found = 0; next }
		{
			sub(/\r$/, "")
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == h && !found) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); found = 1
			}
		}
		END { print v }' "$T/headers" 2>/dev/null
}

# expect_header NAME VALUE [TESTNAME]
expect_header()
{
	local got
	got=$(header "$1")
	if [ "$got" = "$2" ]; then
		pass "${3:-"$LAST_REQ: header $1: $2"}"
	else
		fail "${3:-"$LAST_REQ: header $1: $2"}" "got '$got'"
	fi
}

# expect_no_header NAME [TESTNAME]
expect_no_header()
{
	if grep -qi "^$1:" "$T/headers" 2>/dev/null; then
		fail "${2:-"$LAST_REQ: no $1 header"}" "got '$(header "$1")'"
	else
		pass "${2:-"$LAST_REQ: no $1 header"}"
	fi
}

# expect_empty_body [NAME]
expect_empty_body()
{
	local n
	n=$(wc -c <"$T/body" 2>/dev/null || echo 0)
	if [ "$n" -eq 0 ]; then
		pass "${1:-"$LAST_REQ: empty body"}"
	else
		fail "${1:-"$LAST_REQ: empty body"}" "$n bytes: $(body_excerpt)"
	fi
}

# expect_error CODE: a management error body {"error": CODE, "detail": s}.
expect_error()
{
	expect_jq "(.error == \"$1\") and (.detail | type == \"string\")" \
	    "$LAST_REQ: error $1"
}

# expect_is_error: some management error body {"error": s, "detail": s}.
expect_is_error()
{
	expect_jq '(.error | type == "string") and (.error != "") and (.detail | type == "string")' \
	    "$LAST_REQ: JSON error body"
}

# finish: stop the server, print the tally and exit 0 if nothing failed.
finish()
{
	[ -n "$SERVER_PID" ] && stop_server
	echo "$PASSED passed, $FAILED failed"
	FINISHED=1
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}

# skip NAME WHY: a check that cannot run here (a missing optional tool).
skip()
{
	echo "ok - $1 # SKIP $2"
}

have()
{
	command -v "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# Settings and the server

# merge_yaml TEXT...: print the two-level merge of the YAML texts (see top).
merge_yaml()
{
	local text
	for text in "$@"; do
		printf '%s\n\036\n' "$text"
	done | awk '
	function flush_sub() {
		if (cur != "" && sub_key != "") {
			if (!((cur, sub_key) in subs))
				sub_order[cur] = sub_order[cur] SUBSEP sub_key
			subs[cur, sub_key] = sub_text
		}
		sub_key = ""; sub_text = ""
	}
	/^\036$/ { flush_sub(); cur = ""; next }
	/^[ \t]*(#.*)?$/ { next }
	/^[^ \t-]/ {
		flush_sub()
		line = $0
		key = line; sub(/:.*/, "", key)
		val = line; sub(/^[^:]*:[ \t]*/, "", val)
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		if (val != "" && val !~ /^#/) {
			scalar[key] = line; cur = ""
			delete_subs(key)
		} else {
			delete scalar[key]; cur = key
		}
		next
	}
	/^  [^ \t-]/ && cur != "" {
		flush_sub()
		sub_key = $0; sub(/^  /, "", sub_key); sub(/:.*/, "", sub_key)
		sub_text = $0
		next
	}
	cur != "" && sub_key != "" { sub_text = sub_text "\n" $0; next }
	cur != "" { print "merge_yaml: stray line: " $0 > "/dev/stderr" }
	function delete_subs(k,   i, m, parts) {
		m = split(sub_order[k], parts, SUBSEP)
		for (i = 1; i <= m; i++)
			if (parts[i] != "") delete subs[k, parts[i]]
		sub_order[k] = ""
	}
	END {
		flush_sub()
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k in scalar) { print scalar[k]; continue }
			print k ":"
			m = split(sub_order[k], parts, SUBSEP)
			for (j = 1; j <= m; j++)
				if (parts[j] != "" && ((k, parts[j]) in subs))
					print subs[k, parts[j]]
		}
	}'
}

base_settings()
{
	printf '%s\n' \
	    'listen:' \
	    '  address: 127.0.0.1' \
	    '  port: 0' \
	    "data_dir: $T/data" \
	    'log:' \
	    '  level: info'
}

# write_settings FILE [YAML...]: the base settings merged with overrides.
write_settings()
{
	local file=$1
	shift
	merge_yaml "$(base_settings)" "$@" >"$file"
}

server_pid_alive()
{
	[ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null
}

# start_server [YAML...]: write $T/settings.yaml, start the daemon, wait
# (at most 10 s) for "listening on 127.0.0.1:PORT" and set BASE.
start_server()
{
	local from i port=
	[ -n "$SERVER_PID" ] && stop_server
	write_settings "$T/settings.yaml" "$@"
	touch "$T/server.log"
	from=$(($(wc -l <"$T/server.log") + 1))
	"$FALCONET" -c "$T/settings.yaml" </dev/null >>"$T/server.out" \
	    2>>"$T/server.log" &
	SERVER_PID=$!
	for i in $(seq 1 100); do
		port=$(tail -n +"$from" "$T/server.log" |
		    sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' |
		    head -1)
		[ -n "$port" ] && break
		server_pid_alive || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		fail "server starts" "no 'listening on' line; log:"
		tail -n 20 "$T/server.log" | sed 's/^/#   /'
		stop_server
		finish
	fi
	PORT=$port
	BASE=http://127.0.0.1:$PORT
	[ -n "${VERBOSE:-}" ] && echo "# server pid $SERVER_PID at $BASE"
	return 0
}

# stop_server: TERM, KILL after 5 s, wait.  Checks that the daemon exited
# cleanly and that the sanitizers reported nothing.
stop_server()
{
	local i rc
	[ -z "$SERVER_PID" ] && return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for i in $(seq 1 50); do
		server_pid_alive || break
		sleep 0.1
	done
	if server_pid_alive; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		fail "server stops on SIGTERM within 5 s"
	fi
	wait "$SERVER_PID" 2>/dev/null
	rc=$?
	SERVER_PID=
	check "server exits with status 0 on SIGTERM (got $rc)" [ "$rc" -eq 0 ]
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$T/server.log" 2>/dev/null; then
		fail "no sanitizer reports in the server log" \
		    "$(grep -m1 -E 'Sanitizer|runtime error:' "$T/server.log")"
		grep -A12 -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$T/server.log" | sed 's/^/#   /'
		# Report each one once per script.
		: >"$T/server.log"
	fi
	return 0
}

# make_token NAME: create a management token, print it.
make_token()
{
	"$FALCONET" -c "$T/settings.yaml" token create "$1" 2>>"$T/cli.log"
}

# falconet ARGS...: run the CLI with the current settings.
falconet_cli()
{
	"$FALCONET" -c "$T/settings.yaml" "$@"
}

cleanup()
{
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		for i in $(seq 1 50); do
			server_pid_alive || break
			sleep 0.1
		done
		server_pid_alive && kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
	if [ -z "${FINISHED:-}" ]; then
		echo "# $TEST_NAME ended early; server log tail:"
		tail -n 15 "$T/server.log" 2>/dev/null | sed 's/^/#   /'
	elif [ "$FAILED" -gt 0 ] && [ -n "${VERBOSE:-}" ]; then
		echo "# server log tail:"
		tail -n 30 "$T/server.log" 2>/dev/null | sed 's/^/#   /'
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Requests

# req METHOD PATH [curl args...]: PATH is relative to BASE or a full URL.
# Sets STATUS and BODY; the body is in $T/body, the headers in $T/headers.
req()
{
	local method=$1 path=$2 url
	shift 2
	case $path in
	http://* | https://*) url=$path ;;
	*) url=$BASE$path ;;
	esac
	LAST_REQ="$method ${path#"$BASE"}"
	: >"$T/body"
	: >"$T/headers"
	# curl --head writes the headers to -o and never reads a body: see
	# head_body_bytes for a check that a HEAD answer has none.
	local m=(-X "$method") out=$T/body
	[ "$method" = HEAD ] && m=(--head) out=/dev/null
	STATUS=$(curl -sS --max-time 10 --path-as-is "${m[@]}" -o "$out" \
	    -D "$T/headers" -w '%{http_code}' "$@" "$url" 2>"$T/curl.err")
	[ -z "$STATUS" ] && STATUS=000
	BODY=$(tr -d '\0' <"$T/body")
	[ -n "${VERBOSE:-}" ] && echo "# $LAST_REQ -> $STATUS $(body_excerpt)"
	return 0
}

# api METHOD PATH [curl args...]: a management request with the Bearer
# token $TOKEN.
api()
{
	local method=$1 path=$2
	shift 2
	req "$method" "$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# api_json METHOD PATH JSON [curl args...]
api_json()
{
	local method=$1 path=$2 json=$3
	shift 3
	api "$method" "$path" -H 'Content-Type: application/json' \
	    --data-binary "$json" "$@"
}

# ddi METHOD CID [SUBPATH [curl args...]]: a DDI request as device CID,
# with "Authorization: $DDI_AUTH" when DDI_AUTH is set.
ddi()
{
	local method=$1 cid=$2 sub=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	local auth=()
	[ -n "$DDI_AUTH" ] && auth=(-H "Authorization: $DDI_AUTH")
	req "$method" "/$TENANT/controller/v1/$cid$sub" "${auth[@]}" "$@"
}

# ddi_json METHOD CID SUBPATH JSON [curl args...]
ddi_json()
{
	local method=$1 cid=$2 sub=$3 json=$4
	shift 4
	ddi "$method" "$cid" "$sub" -H 'Content-Type: application/json' \
	    --data-binary "$json" "$@"
}

# feedback CID ACTION EXECUTION FINISHED [DETAIL]: deployment feedback.
feedback()
{
	local details='[]'
	[ $# -ge 5 ] && details=$(jq -cn --arg d "$5" '[$d]')
	ddi_json POST "$1" "/deploymentBase/$2/feedback" \
	    "{\"status\":{\"execution\":\"$3\",\"result\":{\"finished\":\"$4\"},\"details\":$details}}"
}

# config_data CID JSON_DATA [MODE]: PUT configData.
config_data()
{
	local mode=${3:-merge}
	ddi_json PUT "$1" /configData "{\"mode\":\"$mode\",\"data\":$2}"
}

# link REL: the href of a link in the last (poll) body, "" if absent.
link()
{
	jq -r "._links.\"$1\".href // empty" <"$T/body" 2>/dev/null
}

# action_id_of_href HREF: the action id in a deploymentBase/cancelAction href.
action_id_of_href()
{
	echo "$1" | sed -n 's,.*/\(deploymentBase\|cancelAction\|installedBase\)/\([0-9][0-9]*\).*,\2,p'
}

# head_body_bytes PATH [HEADER...]: send a HEAD request on a raw socket
# (Connection: close) and print how many bytes followed the header block.
head_body_bytes()
{
	local path=$1 h total hdr
	shift
	(
		exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
		printf 'HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n' \
		    "$path" "$PORT" >&3
		for h in "$@"; do printf '%s\r\n' "$h" >&3; done
		printf '\r\n' >&3
		timeout 5 cat <&3 >"$T/raw"
	) 2>/dev/null
	total=$(wc -c <"$T/raw")
	hdr=$(sed -n '1,/^\r$/p' "$T/raw" | wc -c)
	echo $((total - hdr))
}

# alive [WHAT]: /healthz answers 200 and the daemon still runs.  Keeps the
# last request's STATUS and body.
alive()
{
	local st
	st=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	    "$BASE/healthz" 2>/dev/null)
	if server_pid_alive && [ "$st" = 200 ]; then
		pass "alive after ${1:-$LAST_REQ}"
	else
		fail "alive after ${1:-$LAST_REQ}" "healthz $st"
	fi
}

# bad WANT NAME METHOD PATH [curl args...]: one entry of a catalogue of
# hostile requests: the status (and for the management API a JSON error
# body), then a health check.
bad()
{
	local want=$1 name=$2 method=$3 path=$4
	shift 4
	req "$method" "$path" "$@"
	expect_status "$want" "$name -> $want"
	case $path:$STATUS in
	/api/*:4* | /api/*:5*) expect_is_error ;;
	esac
	alive "$name"
}

# abad: the same with the management token $TOKEN.
abad()
{
	local want=$1 name=$2 method=$3 path=$4
	shift 4
	bad "$want" "$name" "$method" "$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# setup_open_action SIZE: an image (mkswu -s SIZE, in $T/img.swu) uploaded
# and rolled out to dev-x, which polls once so that it has an open action.
# Sets SW, R (the rollout), ACT, DL (the artifact's download href) and
# DLPATH (DL without $BASE).
setup_open_action()
{
	mkimg "$T/img.swu" 1.0.0 '1.0' -s "$1"
	upload "$T/img.swu"
	expect_status 201 "setup: upload"
	SW=$SW_ID
	ddi GET dev-x
	config_data dev-x '{"hw_revision":"1.0"}'
	api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW}"
	expect_status 201 "setup: rollout"
	R=$(jq -r .id <"$T/body")
	ddi GET dev-x
	ACT=$(action_id_of_href "$(link deploymentBase)")
	check "setup: dev-x has an open action" [ -n "$ACT" ]
	req GET "$(link deploymentBase)"
	DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
	DLPATH=${DL#"$BASE"}
}

# wait_for SECONDS COMMAND...: retry the command every 0.1 s.
wait_for()
{
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# ---------------------------------------------------------------------------
# Images

# mkimg FILE VERSION REVISIONS [mkswu args...]: build a signed .swu with
# the project's mkswu.  Sets IMG_SIZE and IMG_SHA256.
mkimg()
{
	local file=$1 version=$2 revs=$3 out
	shift 3
	if ! out=$("$MKSWU" -o "$file" -v "$version" -r "$revs" "$@" \
	    2>"$T/mkswu.err"); then
		echo "# mkswu failed: $(head -3 "$T/mkswu.err")"
		IMG_SIZE=0
		IMG_SHA256=
		return 1
	fi
	set -- $out
	IMG_SIZE=${2:-0}
	IMG_SHA256=${3:-}
}

# upload FILE [NAME]: octet-stream upload.  Sets SW_ID on 201.
upload()
{
	local name=${2:-$(basename "$1")}
	api POST "/api/v1/software?filename=$name" \
	    -H 'Content-Type: application/octet-stream' --data-binary "@$1"
	SW_ID=
	[ "$STATUS" = 201 ] && SW_ID=$(jq -r .id <"$T/body")
	return 0
}

# mkcpio OUT NAME FILE [NAME FILE...]: a newc cpio archive of the files
# under the given member names (for hand-made broken images).
mkcpio()
{
	local out=$1 name file size nlen pad ino=1
	shift
	: >"$out"
	while [ $# -ge 2 ]; do
		name=$1 file=$2
		shift 2
		size=$(wc -c <"$file")
		cpio_entry "$out" "$name" "$size" $((ino++)) 0100644
		cat "$file" >>"$out"
		pad=$(((4 - size % 4) % 4))
		head -c "$pad" /dev/zero >>"$out"
	done
	cpio_entry "$out" TRAILER!!! 0 0 0
	# Round to 512 bytes as cpio does.
	size=$(wc -c <"$out")
	head -c $(((512 - size % 512) % 512)) /dev/zero >>"$out"
}

cpio_entry()
{
	local out=$1 name=$2 size=$3 ino=$4 mode=$5 nlen pad
	nlen=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
	    "$ino" "$mode" 0 0 1 0 "$size" 0 0 0 0 "$nlen" 0 >>"$out"
	printf '%s\0' "$name" >>"$out"
	pad=$(((4 - (110 + nlen) % 4) % 4))
	head -c "$pad" /dev/zero >>"$out"
}

# count_files DIR: regular files under DIR (0 if it does not exist).
count_files()
{
	if [ -d "$1" ]; then
		find "$1" -type f | wc -l
	else
		echo 0
	fi
}
