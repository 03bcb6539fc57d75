#!/usr/bin/env bash
# The device list: the Installed column sorts versions as the policy
# orders them (1.10.0 after 1.2.0), server-side across pages; search is
# case-insensitive and matches the hardware revision and the address too;
# filters for online, overdue and never seen; counts of devices per
# installed version (GET /api/v1/stats) and "installed on N devices" per
# software (GET /api/v1/software), and the devices behind both counts
# (installed_version, installed_distribution_id, also as a bulk match).
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)
DBF=$(ls "$T"/data/*.db | head -1)
sql() { sqlite3 -cmd '.timeout 5000' "$DBF" "$1"; }

i=0
for v in 1.10.0 1.2.0 2.0.0 1.9.0 1.2.0; do
	i=$((i + 1))
	ddi GET "v-$i"
	config_data "v-$i" "{\"sw_version\":\"$v\",\"hw_revision\":\"Rev-$i\"}"
done
api_json PATCH /api/v1/devices/v-3 '{"name":"Kitchen Sensor"}'
api_json POST /api/v1/devices '{"controller_id":"never-1"}'

# --- sort ---------------------------------------------------------------------------
api GET '/api/v1/devices?sort=installed_version&order=asc&q=v-'
expect_json '[.devices[].installed_version]' '["1.2.0","1.2.0","1.9.0","1.10.0","2.0.0"]' \
    "ascending: 1.2.0 < 1.9.0 < 1.10.0 < 2.0.0"
expect_json '[.devices[].controller_id][:2]' '["v-2","v-5"]' "equal versions by controller id"
api GET '/api/v1/devices?sort=installed_version&order=desc&q=v-'
expect_json '[.devices[].installed_version]' '["2.0.0","1.10.0","1.9.0","1.2.0","1.2.0"]' "descending"
api GET '/api/v1/devices?sort=installed_version&order=asc&q=v-&limit=2&offset=2'
expect_json '[.devices[].installed_version]' '["1.9.0","1.10.0"]' "the order holds across pages"
api GET '/api/v1/devices?sort=name&order=desc&q=v-'
expect_json '.devices[0].controller_id' v-3 "other columns still sort (name)"

# --- search ---------------------------------------------------------------------------
api GET '/api/v1/devices?q=kitchen'
expect_json '[.devices[].controller_id]' '["v-3"]' "search ignores case (name)"
api GET '/api/v1/devices?q=V-4'
expect_json '[.devices[].controller_id]' '["v-4"]' "search ignores case (id)"
api GET '/api/v1/devices?q=rev-5'
expect_json '[.devices[].controller_id]' '["v-5"]' "search matches the hardware revision"
api GET '/api/v1/devices?q=1.10'
expect_json '[.devices[].controller_id]' '["v-1"]' "search matches the version"

# --- seen filters -----------------------------------------------------------------------
sleep 1.5 # the last-seen writer flushes once a second
api GET '/api/v1/devices?q=127.0.0'
expect_json .total 5 "search matches the address"
sql "UPDATE device_seen SET at = 1000 WHERE device_id = (SELECT id FROM device WHERE controller_id = 'v-1')"
api GET '/api/v1/devices?seen=overdue'
expect_json '[.devices[].controller_id]' '["v-1"]' "seen=overdue"
expect_json '.devices[0].online' false "the overdue device is not online"
api GET '/api/v1/devices?seen=online'
expect_json '[.devices[].controller_id]' '["v-2","v-3","v-4","v-5"]' "seen=online"
expect_json '[.devices[].online] | unique' '[true]'
api GET '/api/v1/devices?seen=never'
expect_json '[.devices[].controller_id]' '["never-1"]' "seen=never"
api GET '/api/v1/devices?seen=sometimes'
expect_status 400 "an unknown seen value is 400"
expect_json .error invalid_query

# --- counts -----------------------------------------------------------------------------
api GET /api/v1/stats
expect_json '.devices.by_version' \
    '[{"version":"2.0.0","devices":1},{"version":"1.10.0","devices":1},{"version":"1.9.0","devices":1},{"version":"1.2.0","devices":2}]' \
    "devices per installed version, the newest first"

mkimg "$T/a.swu" 3.0.0 'Rev-2'
upload "$T/a.swu"
A=$SW_ID
mkimg "$T/b.swu" 3.0.1 'Rev-4'
upload "$T/b.swu"
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$A}"
ddi GET v-2
ACT=$(action_id_of_href "$(link deploymentBase)")
feedback v-2 "$ACT" closed success
expect_status 200 "v-2 installs 3.0.0"
api GET /api/v1/software
expect_json "[.software[] | select(.id == $A) | .installed_devices]" '[1]' "3.0.0: installed on 1 device"
expect_json "[.software[] | select(.id == $SW_ID) | .installed_devices]" '[0]' "3.0.1: on none"

# --- the devices behind the counts ------------------------------------------------------
api GET '/api/v1/devices?installed_version=1.2.0'
expect_json '[.total, [.devices[].controller_id]]' '[1,["v-5"]]' \
    "installed_version=1.2.0: v-5 alone (v-2 runs 3.0.0 now)"
api GET "/api/v1/devices?installed_distribution_id=$A"
expect_json '[.total, [.devices[].controller_id]]' '[1,["v-2"]]' "installed_distribution_id: the one device on 3.0.0"
api GET "/api/v1/devices?installed_distribution_id=$SW_ID"
expect_json .total 0 "none on 3.0.1"
api GET '/api/v1/devices?installed_distribution_id=x'
expect_status 400 "installed_distribution_id that is no id is 400"
api GET '/api/v1/devices?installed_distribution_id=0'
expect_status 400 "installed_distribution_id 0 is 400"
api_json POST /api/v1/devices/bulk '{"match":{"installed_version":"1.2.0"},"expected":1,"patch":{"feed":"older"}}'
expect_status 200 "a bulk change by installed version"
api GET '/api/v1/devices?feed=older'
expect_json '[.devices[].controller_id]' '["v-5"]' "moved the one matched"
api_json POST /api/v1/devices/bulk '{"match":{"installed_distribution_id":0},"expected":1,"patch":{"feed":"x"}}'
expect_status 400 "a match by set 0 is 400"

# A refusal names at most 100 devices and counts them all.
"$(dirname "$0")/../bench/seed.sh" "$DBF" 1 150 >/dev/null
api_json POST /api/v1/devices/bulk "{\"match\":{\"q\":\"dev-\"},\"expected\":150,\"patch\":{\"mode\":\"assigned\",\"assigned_software_id\":$A}}"
expect_status 409 "assigning 3.0.0 (Rev-2) to 150 devices of another board is refused"
expect_json '[.error, (.refused | length), .refused_total]' '["assignment_refused",100,150]' \
    "the first 100 named, 150 counted"

finish
