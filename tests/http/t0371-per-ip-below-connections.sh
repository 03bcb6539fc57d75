#!/usr/bin/env bash
# The per-address share must stay below the whole (finding #8, its
# reproduction's own settings): with http.connection_limit 64 and the
# default http.per_ip_limit 64, one host trickling 64 heads holds every
# connection and no one else is served until request_timeout closes them.
# The server says so at start and from `falconet -n`; with a lower
# per_ip_limit the same host holds its share and others are served.  An
# open-file limit that lowers connection_limit below per_ip_limit is
# warned about too.
. "$(dirname "$0")/lib.sh"

SLOW=(/usr/bin/python3 "$(dirname "$0")/slowclients.py")
val() { echo "$2" | sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; }
# restart SETTINGS...: start_server, noting where its log lines begin;
# warned [TEXT]: TEXT (the warning) is among them; quiet: it is not.
restart()
{
	FROM=$(($(cat "$T/server.log" 2>/dev/null | wc -l) + 1))
	start_server "$@"
}
warned() { tail -n +"$FROM" "$T/server.log" | grep -q -- "${1:-per_ip_limit [0-9]* is not below}"; }
quiet() { ! warned; }
WARN='http.per_ip_limit 64 is not below http.connection_limit 64: one address can hold every connection'

# --- the defaults: no warning ------------------------------------------------------------
restart
check "the defaults (4096 and 64): no warning" quiet

# --- the finding's settings: a warning, and what it warns about ---------------------------
restart 'http:
  connection_limit: 64
  request_timeout: 8'
check "connection_limit 64 with per_ip_limit 64: the server warns" warned "$WARN"
out=$(falconet_cli -n 2>&1)
check "falconet -n warns too" sh -c "echo '$out' | grep -q '$WARN'"
check "  and accepts the file" sh -c "echo '$out' | grep -q 'settings OK'"
out=$("${SLOW[@]}" hold "$PORT" 64 4 0.5 --check /healthz --check-from 127.0.0.2)
check "as warned: one host holding 64 trickling heads starves another ($out)" \
    [ "$(val held "$out")" = 64 ] && ! echo "$out" | grep -Eq 'checks=([0-9]+)/\1 '

# --- per_ip_limit below connection_limit: others are served -----------------------------
restart 'http:
  connection_limit: 64
  per_ip_limit: 16'
check "per_ip_limit 16 of 64: no warning" quiet
out=$("${SLOW[@]}" hold "$PORT" 64 4 0.5 --check /healthz --check-from 127.0.0.2)
check "one host holds its 16 of 64 ($out)" \
    [ "$(val held "$out")" = 16 ] && [ "$(val refused "$out")" = 48 ]
check "  and another host is served throughout ($out)" \
    sh -c "echo '$out' | grep -Eq 'checks=([0-9]+)/\\1 '" && [ "$(val checks "$out")" -ge 4 ]

# --- the open-file limit lowers connection_limit below per_ip_limit ----------------------
REAL=$FALCONET
printf '#!/bin/sh\nulimit -n 128 || exit 1\nexec "%s" "$@"\n' "$REAL" >"$T/ulimit-128"
chmod +x "$T/ulimit-128"
FALCONET=$T/ulimit-128
restart
FALCONET=$REAL
limit=$(sed -n 's/.*http.connection_limit 4096 lowered to \([0-9]*\):.*/\1/p' "$T/server.log" | tail -1)
check "under ulimit -n 128: connection_limit lowered to $limit, below 64" \
    [ -n "$limit" ] && [ "$limit" -lt 64 ]
check "  and a warning that per_ip_limit 64 is not below it" \
    warned "http.per_ip_limit 64 is not below the $limit connections the open-file limit leaves"
alive "the open-file limit"

finish
