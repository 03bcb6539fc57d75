#!/usr/bin/env bash
# Lists page and filter on the server: software (limit, offset, q) and
# rollouts (limit, offset, feed, paused), newest first, with the total of
# the filtered set; bad query values are 400.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

for v in 1.0.0 1.1.0 2.0.0; do
	mkimg "$T/img-$v.swu" "$v" 1.0 -s 1K -U
	upload "$T/img-$v.swu"
	expect_status 201 "upload $v -> 201"
	eval "SW_${v//./_}=$SW_ID"
done

api GET '/api/v1/software?limit=2&offset=1'
expect_status 200 "software page 2 of size 2 -> 200"
expect_json .total 3 "total counts every software"
expect_json .limit 2
expect_json .offset 1
expect_json '[.software[].version] | join(",")' 1.1.0,1.0.0 "newest first, offset 1"
api GET '/api/v1/software?q=2.0'
expect_json '[.software[].version] | join(",")' 2.0.0 "q filters on the version"
expect_json .total 1 "total of the filtered set"
api GET '/api/v1/software?q=img-1.'
expect_json .total 2 "q filters on the file name"
for bad in 'limit=0' 'limit=1001' 'offset=-1' 'limit=x'; do
	api GET "/api/v1/software?$bad"
	expect_status 400 "software ?$bad -> 400"
	expect_is_error
done

api_json POST /api/v1/rollouts "{\"software_id\":$SW_1_0_0,\"feed\":\"lab\",\"paused\":true}"
expect_status 201 "paused rollout on lab -> 201"
api_json POST /api/v1/rollouts "{\"software_id\":$SW_1_1_0,\"feed\":\"field\"}"
expect_status 201 "rollout on field -> 201"
api_json POST /api/v1/rollouts "{\"software_id\":$SW_2_0_0,\"feed\":\"lab\"}"
expect_status 201 "second rollout on lab -> 201"

api GET /api/v1/rollouts
expect_json .total 3
expect_json '[.rollouts[].version] | join(",")' 2.0.0,1.1.0,1.0.0 "newest first"
api GET '/api/v1/rollouts?feed=lab'
expect_json .total 2 "feed=lab: two rollouts"
expect_json '[.rollouts[].feed] | unique | join(",")' lab
api GET '/api/v1/rollouts?paused=true'
expect_json '[.rollouts[].version] | join(",")' 1.0.0 "paused=true: the paused one"
api GET '/api/v1/rollouts?paused=false&feed=lab'
expect_json '[.rollouts[].version] | join(",")' 2.0.0 "paused=false on lab"
api GET '/api/v1/rollouts?limit=1&offset=2'
expect_json '[.rollouts[].version] | join(",")' 1.0.0 "limit 1 offset 2"
expect_json .total 3
for bad in 'paused=maybe' 'limit=0' 'offset=x'; do
	api GET "/api/v1/rollouts?$bad"
	expect_status 400 "rollouts ?$bad -> 400"
	expect_is_error
done
alive "after the list queries"

finish
