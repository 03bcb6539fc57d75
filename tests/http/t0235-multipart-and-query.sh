#!/usr/bin/env bash
# Two of finding #16's observations.  A multipart upload with two parts
# named "file" is refused with 400, not joined into one image.  Query
# strings: up to 16 parameters are read (the device list takes nine, and
# order=desc counts when all nine are given); more are a 400, not
# silently ignored.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

mkimg "$T/a.swu" 1.0.0 '1.0'
mkimg "$T/b.swu" 2.0.0 '1.0'
mkimg "$T/big.swu" 3.0.0 '1.0' -s 3M

# --- multipart: one part named "file" ---------------------------------------------------
api POST /api/v1/software -F "file=@$T/a.swu;filename=first.swu" \
    -F 'note=between' -F "file=@$T/b.swu;filename=second.swu"
expect_status 400 "two file parts with a part between them -> 400"
expect_error bad_request
check "the answer says why" grep -q 'one part named' "$T/body"
api POST /api/v1/software -F "file=@$T/a.swu;filename=first.swu" \
    -F "file=@$T/b.swu;filename=second.swu"
expect_status 400 "two file parts in a row -> 400"
api POST /api/v1/software -F "file=@$T/a.swu;filename=first.swu" -F 'file=;filename=empty.swu'
expect_status 400 "a file part and an empty second one -> 400"
api GET /api/v1/software
expect_json '.software | length' 0 "nothing was stored"
check "no temp file is left" \
    wait_for 5 sh -c "[ \$(find '$T/data/tmp' -type f | wc -l) -eq 0 ]"
api POST /api/v1/software -F 'note=before' -F "file=@$T/big.swu;filename=big.swu" -F 'after=x'
expect_status 201 "one 3 MB file part among others -> 201"
expect_json .version 3.0.0
api POST /api/v1/software -F "file=@$T/a.swu;filename=a.swu"
expect_status 201 "one file part -> 201"

# --- the device list's nine parameters ---------------------------------------------------
mkimg "$T/c.swu" 4.0.0 '1.0'
upload "$T/c.swu"
expect_status 201 "an image to roll out"
SW=$SW_ID
for d in lp-a lp-b lp-c; do
	ddi GET "$d"
	config_data "$d" '{"hw_revision":"1.0"}'
done
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW}"
expect_status 201 "a rollout"
R=$(jq -r .id <"$T/body")
for d in lp-a lp-b lp-c; do ddi GET "$d"; done
api GET /api/v1/devices/lp-a
STATE=$(jq -r .state <"$T/body")
Q="limit=10&offset=0&rollout=$R&q=lp-&state=$STATE&feed=default&mode=rollout&sort=controller_id"
api GET "/api/v1/devices?$Q&order=desc"
expect_status 200 "all nine list parameters"
expect_json '[.devices[].controller_id] | tostring' '["lp-c","lp-b","lp-a"]' \
    "order=desc is honoured with all nine"
api GET "/api/v1/devices?$Q&order=asc"
expect_json '[.devices[].controller_id] | tostring' '["lp-a","lp-b","lp-c"]' \
    "and order=asc"
api GET "/api/v1/devices?$Q&order=sideways"
expect_status 400 "a bad value in the ninth parameter is still seen"

# --- the cap ------------------------------------------------------------------------------------
many=$(for i in $(seq 1 16); do printf 'p%d=1&' "$i"; done)
api GET "/api/v1/devices?${many%&}"
expect_status 200 "16 query parameters are read"
api GET "/api/v1/devices?${many}p17=1"
expect_status 400 "17 query parameters -> 400, not ignored"
expect_error bad_request
check "the answer says so" grep -q 'at most 16 query parameters' "$T/body"
api GET "/api/v1/devices?$(for i in $(seq 1 17); do printf 'limit=1&'; done)"
expect_status 400 "17 repeats of one name count as 17"
alive "query caps"

finish
