#!/usr/bin/env bash
# Saved target filters: hawkBit's /rest/v1/targetfilters (create, list
# with q, get, change, delete, errors) and Falconet's /api/v1/filters; a
# rollout takes a saved filter's query as its target filter (copied:
# changing the filter afterwards does not move its devices).
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)
mkimg "$T/f-2.0.0.swu" 2.0.0 1.0 -s 8K
upload "$T/f-2.0.0.swu"
DS=$SW_ID
for i in 1 2 3; do
	ddi GET "f-$i"
	config_data "f-$i" "{\"hw_revision\":\"1.0\",\"sw_version\":\"1.0.0\",\"ring\":\"$([ "$i" = 3 ] && echo stable || echo beta)\"}"
done

api_json POST /rest/v1/targetfilters '{"name":"beta ring","query":"attribute.ring==beta"}'
expect_status 201 "save a filter"
F=$(jq -r .id <"$T/body")
expect_jq '.name == "beta ring" and .query == "attribute.ring==beta" and .createdBy == "token:admin" and .createdAt > 1000000000000' \
    "  hawkBit's fields, times in ms"
expect_jq "._links.self.href == \"$BASE/rest/v1/targetfilters/$F\"" "  its link"
api_json POST /rest/v1/targetfilters '{"name":"beta ring","query":"name==x"}'
expect_status 409 "  a second filter of that name"
expect_json .errorCode hawkbit.server.error.repo.entityAlreadyExists "  hawkBit's code"
api_json POST /rest/v1/targetfilters '{"name":"bad","query":"nosuch==1"}'
expect_status 400 "  a query over an unknown field"
api_json POST /rest/v1/targetfilters '{"name":"auto","query":"name==x","autoAssignDistributionSet":1}'
expect_status 400 "  auto-assignment is refused"
api_json POST /rest/v1/targetfilters '{"query":"name==x"}'
expect_status 400 "  a filter without a name"
api_json POST /rest/v1/targetfilters '{"name":"stable ring","query":"attribute.ring==stable"}'
expect_status 201 "a second filter"
F2=$(jq -r .id <"$T/body")

api GET '/rest/v1/targetfilters?q=name==beta*'
expect_jq '.total == 1 and .content[0].id == '"$F" "list with q"
api GET '/rest/v1/targetfilters?limit=1&offset=1'
expect_jq '.total == 2 and .size == 1 and .content[0].id == '"$F2" "  paged"
api GET '/rest/v1/targetfilters?q=colour==red'
expect_status 400 "  q over an unknown field"
api GET /api/v1/filters
expect_jq '.total == 2 and .filters[0].name == "beta ring"' "/api/v1/filters lists them"

# A rollout from the saved filter: its query copied.
api_json POST /api/v1/rollouts "{\"software_id\":$DS,\"target_filter_id\":$F}"
expect_status 201 "a rollout with target_filter_id"
R=$(jq -r .id <"$T/body")
expect_jq '.target_filter == "attribute.ring==beta" and .counts.targeted == 2' "  the beta devices targeted"
api_json PUT "/rest/v1/targetfilters/$F" '{"query":"attribute.ring==stable"}'
expect_status 200 "change the filter"
expect_json .query attribute.ring==stable "  its new query"
api GET "/api/v1/rollouts/$R"
expect_jq '.target_filter == "attribute.ring==beta" and .counts.targeted == 2' "  the rollout keeps its copy"
api_json POST /api/v1/rollouts "{\"software_id\":$DS,\"target_filter_id\":999999}"
expect_status 400 "an unknown target_filter_id"
api_json POST /api/v1/rollouts "{\"software_id\":$DS,\"target_filter_id\":$F,\"target_filter\":\"name==x\"}"
expect_status 400 "target_filter_id and target_filter together"

api DELETE "/rest/v1/targetfilters/$F2"
expect_status 204 "delete a filter"
api GET "/rest/v1/targetfilters/$F2"
expect_status 404 "  gone"
expect_jq '.info.type == "TargetFilterQuery"' "  hawkBit's info"
api_json POST /api/v1/filters '{"name":"via api","query":"controllerId==f-1"}'
expect_status 201 "/api/v1/filters creates"
api DELETE "/api/v1/filters/$(jq -r .id <"$T/body")"
expect_status 204 "  and deletes"
finish
