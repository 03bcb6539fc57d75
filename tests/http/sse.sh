# Helpers for the live-event stream tests (t0232, t0370): sourced after
# lib.sh and operators.sh, with EV the stream's path.

# personal_token: a token of the logged-in user (COOKIE, CSRF).
personal_token()
{
	post_json /api/v1/tokens "{\"name\":\"t$RANDOM\"}" \
	    -H "Cookie: falconet_session=$COOKIE" -H "X-CSRF-Token: $CSRF"
	jq -r .token <"$T/body"
}

# stream NAME CURL-ARGS...: open a stream in the background into
# $T/sse.NAME (for at most SSE_MAX_TIME seconds, 120 unless set); SSE_PID
# is curl's.
stream()
{
	local name=$1
	shift
	curl -sN --max-time "${SSE_MAX_TIME:-120}" "$@" "$BASE$EV" \
	    >"$T/sse.$name" 2>/dev/null &
	SSE_PID=$!
}

# gone PID: 0 once the process has ended.
gone()
{
	! kill -0 "$1" 2>/dev/null
}

# has NAME TEXT: 0 if stream NAME has received TEXT.
has()
{
	grep -q "$2" "$T/sse.$1"
}
