# Helpers for the rollout tests (t0300, t0320): sourced after lib.sh.

# register CID [HW_REVISION] [FEED]: first poll and configData (revision
# 1.0 unless given, sw_version 1.0.0), then the feed if given.
register()
{
	ddi GET "$1"
	config_data "$1" "{\"hw_revision\":\"${2:-1.0}\",\"sw_version\":\"1.0.0\"}"
	[ "$STATUS" = 200 ] || fail "configData for $1" "status $STATUS"
	if [ -n "${3:-}" ]; then
		api_json PATCH "/api/v1/devices/$1" "{\"feed\":\"$3\"}"
		[ "$STATUS" = 200 ] || fail "feed of $1" "status $STATUS"
	fi
}

# offered CID: 0 if the poll offers a deployment; ACT is its action id.
offered()
{
	ddi GET "$1"
	ACT=$(action_id_of_href "$(link deploymentBase)")
	[ -n "$ACT" ]
}
