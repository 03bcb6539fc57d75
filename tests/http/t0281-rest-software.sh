#!/usr/bin/env bash
# hawkBit's Management API for software (/rest/v1): module types, modules
# with free-text versions, artifacts uploaded as multipart "file" parts
# with hashes as query parameters or form fields (a RAUC-named random file
# is a plain artifact), downloads, set types, distribution sets of several
# modules, assignedSM, metadata, lists with paging, sort and q, deletes
# that answer 204 again on what is already deleted, and hawkBit's errors.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)
R=/rest/v1
DB=$T/data/falconet.db

expect_hawkbit_error()
{
	expect_status "$1" "$LAST_REQ -> $1"
	expect_jq "(.errorCode == \"$2\") and (.exceptionClass | startswith(\"org.\")) and (.message | type == \"string\")" \
	    "$LAST_REQ: hawkBit error $2"
}

# mksm NAME VERSION TYPE: POST one module; SM is its id.
mksm()
{
	api_json POST $R/softwaremodules "[{\"name\":\"$1\",\"version\":\"$2\",\"type\":\"$3\"}]"
	SM=$(jq -r '.[0].id // empty' <"$T/body" 2>/dev/null)
}

# --- module types ----------------------------------------------------------
api GET $R/softwaremoduletypes
expect_status 200 "GET softwaremoduletypes -> 200"
expect_json '[.content[].key] | join(",")' os,application "os and application"
expect_json '[.total, .size] | join(",")' 2,2
expect_json '.content[0] | [.id, .key, .name, .maxAssignments, .deleted] | map(tostring) | join(",")' \
    1,os,OS,1,false "MgmtSoftwareModuleType fields"
expect_json '.content[0]._links.self.href' "$BASE$R/softwaremoduletypes/1"
api_json POST $R/softwaremoduletypes '[{"key":"firmware","name":"Firmware","description":"MCU images","maxAssignments":2}]'
expect_status 201 "POST softwaremoduletypes -> 201"
expect_json '.[0] | [.key, .name, .description, .maxAssignments] | map(tostring) | join(",")' \
    "firmware,Firmware,MCU images,2"
FW_TYPE=$(jq -r '.[0].id' <"$T/body")
api GET $R/softwaremoduletypes/$FW_TYPE
expect_json .key firmware "GET one module type"
api_json POST $R/softwaremoduletypes '[{"key":"firmware","name":"Again"}]'
expect_status 409 "a taken type key -> 409"
api_json POST $R/softwaremoduletypes '[{"key":"batch1","name":"B"},{"key":"firmware","name":"Again"}]'
expect_status 409 "a clash in a batch of types -> 409"
api GET "$R/softwaremoduletypes?q=key==batch1"
expect_json .total 0 "the batch of types was all or nothing"
api GET "$R/softwaremoduletypes?q=key==firm*"
expect_json '[.content[].key] | join(",")' firmware "q on module types"
api DELETE $R/softwaremoduletypes/$FW_TYPE
expect_status 204 "DELETE a module type -> 204"
api GET $R/softwaremoduletypes/$FW_TYPE
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api GET $R/softwaremoduletypes/999
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound

# --- modules ---------------------------------------------------------------
api_json POST $R/softwaremodules '[{"name":"software module 1","version":"2.6000000000000014","type":"os","description":"the OS","vendor":"ACME"},{"name":"app one","version":"1.0","type":"application"}]'
expect_status 201 "POST softwaremodules -> 201"
expect_json length 2 "an array of both"
expect_json '.[0] | [.name, .version, .type, .typeName, .description, .vendor] | join("|")' \
    "software module 1|2.6000000000000014|os|OS|the OS|ACME" \
    "MgmtSoftwareModule fields; the version verbatim"
expect_json '.[0] | [.encrypted, .locked, .deleted, .complete] | map(tostring) | join(",")' \
    false,false,false,false "flags of a new module"
expect_jq '.[0].id | type == "number"' "ids are numbers"
expect_jq '.[0].createdAt > 1000000000000' "createdAt in milliseconds"
expect_jq '.[1] | has("description") or has("vendor") | not' "null fields omitted"
OS=$(jq -r '.[0].id' <"$T/body")
APP1=$(jq -r '.[1].id' <"$T/body")
expect_json '.[0]._links | [.self.href, .artifacts.href, .type.href, .metadata.href] | join(" ")' \
    "$BASE$R/softwaremodules/$OS $BASE$R/softwaremodules/$OS/artifacts $BASE$R/softwaremoduletypes/1 $BASE$R/softwaremodules/$OS/metadata?offset=0&limit=50" \
    "module links"
mksm "app two" 1.0 application
APP2=$SM
api_json POST $R/softwaremodules '[{"name":"app one","version":"1.0","type":"application"}]'
expect_hawkbit_error 409 hawkbit.server.error.repo.entityAlreadyExists
api_json POST $R/softwaremodules '[{"name":"x","version":"1","type":"nosuchtype"}]'
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api_json POST $R/softwaremodules '[{"name":"x","type":"os"}]'
expect_hawkbit_error 400 hawkbit.server.error.repo.constraintViolation
api_json POST $R/softwaremodules '{"name":"x","version":"1","type":"os"}'
expect_hawkbit_error 400 hawkbit.server.error.rest.body.notReadable

api GET $R/softwaremodules/$OS
expect_status 200 "GET one module"
expect_json .version 2.6000000000000014
api_json PUT $R/softwaremodules/$OS '{"description":"changed","vendor":"Other"}'
expect_status 200 "PUT a module -> 200"
expect_json '[.description, .vendor, .version] | join(",")' changed,Other,2.6000000000000014
api GET $R/softwaremodules/9999
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
expect_json .info.type SoftwareModule
api GET $R/softwaremodules/abc
expect_status 404 "a non-numeric id -> 404"

api GET $R/softwaremodules
expect_json '[.content[].id] == ([.content[].id] | sort)' true "default sort id:ASC"
expect_json '.total' 3
api GET "$R/softwaremodules?sort=name:DESC"
expect_json '[.content[].name] | join(",")' "software module 1,app two,app one" \
    "sort name:DESC"
api GET "$R/softwaremodules?sort=version:ASC,id:DESC&limit=2&offset=1"
expect_json '[.content[].id] | map(tostring) | join(",")' "$APP1,$OS" \
    "sort version then id, paged"
api GET "$R/softwaremodules?sort=size:ASC"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.invalidField
while IFS='|' read -r q want; do
	[ -z "$q" ] && continue
	api GET "$R/softwaremodules" -G --data-urlencode "q=$q"
	expect_json '[.content[].name] | join(",")' "$want" "softwaremodules q=$q"
done <<'EOF'
type==application|app one,app two
name==app*;name!=*two|app one
version=in=(2.6000000000000014,9)|software module 1
vendor==other|software module 1
description==changed,name=="app two"|software module 1,app two
EOF
api GET "$R/softwaremodules" -G --data-urlencode "q=id=ge=$APP1"
expect_json '.total' 2 "q id=ge="
api GET "$R/softwaremodules" -G --data-urlencode "q=size==1"
expect_hawkbit_error 400 hawkbit.server.error.rest.param.rsqlInvalidField

# --- artifacts ---------------------------------------------------------------
head -c 524288 /dev/urandom >"$T/bundle.raucb"
SHA1=$(sha1sum "$T/bundle.raucb" | cut -c1-40)
MD5=$(md5sum "$T/bundle.raucb" | cut -c1-32)
SHA256=$(sha256sum "$T/bundle.raucb" | cut -c1-64)
api POST $R/softwaremodules/$OS/artifacts \
    -F "file=@$T/bundle.raucb;filename=bundle.raucb_0;type=application/octet-stream"
expect_status 201 "a random file named bundle.raucb_0 uploads -> 201"
expect_json '[.providedFilename, .size, .hashes.sha1, .hashes.md5, .hashes.sha256] | map(tostring) | join(",")' \
    "bundle.raucb_0,524288,$SHA1,$MD5,$SHA256" "MgmtArtifact fields"
A0=$(jq -r .id <"$T/body")
expect_json '._links.download.href' "$BASE$R/softwaremodules/$OS/artifacts/$A0/download"
expect_json '._links.self.href' "$BASE$R/softwaremodules/$OS/artifacts/$A0"
api POST "$R/softwaremodules/$OS/artifacts?sha1sum=$SHA1&md5sum=$MD5&sha256sum=$SHA256" \
    -F "file=@$T/bundle.raucb;filename=bundle.raucb_1"
expect_status 201 "hashes as query parameters that match -> 201"
A1=$(jq -r .id <"$T/body")
api POST $R/softwaremodules/$OS/artifacts -F "sha1sum=$SHA1" \
    -F "filename=renamed.bin" -F "file=@$T/bundle.raucb;filename=ignored"
expect_status 201 "hashes and filename as form fields -> 201"
expect_json .providedFilename renamed.bin "the filename field names it"
api POST $R/softwaremodules/$OS/artifacts -F "file=@$T/bundle.raucb;filename=bundle.raucb_2" \
    -F "filename=bundle.raucb_2" -F "sha256sum=$SHA1$SHA1"
expect_hawkbit_error 400 hawkbit.server.error.artifact.uploadFailed.checksum.sha256.match
api POST "$R/softwaremodules/$OS/artifacts?md5sum=00112233445566778899aabbccddeeff" \
    -F "file=@$T/bundle.raucb;filename=bundle.raucb_3"
expect_hawkbit_error 400 hawkbit.server.error.artifact.uploadFailed.checksum.md5.match
api POST "$R/softwaremodules/$OS/artifacts?sha1sum=0000000000000000000000000000000000000000" \
    -F "file=@$T/bundle.raucb;filename=bundle.raucb_3"
expect_hawkbit_error 400 hawkbit.server.error.artifact.uploadFailed.checksum.sha1.match
api POST $R/softwaremodules/$OS/artifacts -F "file=@$T/bundle.raucb;filename=bundle.raucb_0"
expect_hawkbit_error 409 hawkbit.server.error.repo.entityAlreadyExists
expect_json .message "File with that name already exists in the Software Module"
api POST $R/softwaremodules/$APP1/artifacts -F "file=@$T/bundle.raucb;filename=bundle.raucb_0"
expect_status 201 "the same file in another module -> 201"
APPA=$(jq -r .id <"$T/body")
: >"$T/empty"
api POST $R/softwaremodules/$OS/artifacts -F "file=@$T/empty;filename=empty.bin"
expect_status 400 "an empty file -> 400"
api POST $R/softwaremodules/9999/artifacts -F "file=@$T/bundle.raucb;filename=x.bin"
expect_status 404 "upload to an unknown module -> 404"
check "no upload left behind in tmp/" [ "$(count_files "$T/data/tmp")" = 0 ]

api GET $R/softwaremodules/$OS/artifacts
expect_status 200 "GET artifacts -> 200"
expect_json '[.[].providedFilename] | join(",")' bundle.raucb_0,bundle.raucb_1,renamed.bin \
    "a plain list of the module's artifacts"
api GET $R/softwaremodules/$OS/artifacts/$A0
expect_json .id "$A0" "GET one artifact"
api GET $R/softwaremodules/$OS/artifacts/$APPA
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api GET $R/softwaremodules/$OS/artifacts/$A0/download
expect_status 200 "download -> 200"
check "the download is the file" cmp -s "$T/body" "$T/bundle.raucb"
expect_header Content-Type application/octet-stream
api GET $R/softwaremodules/$OS
expect_json .complete true "a module with artifacts is complete"

api DELETE $R/softwaremodules/$OS/artifacts/$APPA
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api DELETE $R/softwaremodules/$OS/artifacts/$A1
expect_status 204 "DELETE an artifact -> 204"
api GET $R/softwaremodules/$OS/artifacts/$A1
expect_status 404 "the artifact is gone"

# --- module metadata ---------------------------------------------------------
api_json POST $R/softwaremodules/$OS/metadata '[{"key":"channel","value":"stable"}]'
expect_status 201 "module metadata -> 201"
api GET $R/softwaremodules/$OS/metadata
expect_json . '{"content":[{"key":"channel","value":"stable"}],"total":1,"size":1}'
api GET "$R/softwaremodules" -G --data-urlencode "q=metadata.channel==stable"
expect_json '[.content[].id] | map(tostring) | join(",")' "$OS" "q on module metadata"
api_json PUT $R/softwaremodules/$OS/metadata/channel '{"value":"beta"}'
expect_json .value beta
api GET $R/softwaremodules/$OS/metadata/channel
expect_json . '{"key":"channel","value":"beta"}'
api DELETE $R/softwaremodules/$OS/metadata/channel
expect_status 204 "DELETE module metadata -> 204"

# --- set types ---------------------------------------------------------------
api GET $R/distributionsettypes
expect_status 200 "GET distributionsettypes"
expect_json '[.content[].key] | join(",")' os,app,os_app
expect_json '.content[2] | [.name, (.mandatorymodules | map(.key) | join("+")), (.optionalmodules | map(.key) | join("+"))] | join(",")' \
    "OS with app(s),os,application" "os_app: os mandatory, application optional"
api_json POST $R/distributionsettypes '[{"key":"apps2","name":"Two apps","mandatorymodules":[{"id":2}]}]'
expect_status 201 "POST distributionsettypes -> 201"
DT=$(jq -r '.[0].id' <"$T/body")
expect_json '.[0].mandatorymodules[0].key' application
api GET $R/distributionsettypes/$DT
expect_json .key apps2
api_json POST $R/distributionsettypes '[{"key":"batch2","name":"B"},{"key":"apps2","name":"Again"}]'
expect_status 409 "a clash in a batch of set types -> 409"
api GET "$R/distributionsettypes?q=key==batch2"
expect_json .total 0 "the batch of set types was all or nothing"
api DELETE $R/distributionsettypes/$DT
expect_status 204 "DELETE a set type -> 204"
api GET $R/distributionsettypes/$DT
expect_status 404 "deleted set type: 404"

# --- distribution sets -------------------------------------------------------
api_json POST $R/distributionsets "[{\"name\":\"distribution 2.6 (1)\",\"description\":\"Test distribution\",\"version\":\"2.6000000000000014\",\"modules\":[{\"id\":$OS}],\"type\":\"os\"},{\"name\":\"multi\",\"version\":\"1.0\",\"type\":\"app\",\"modules\":[{\"id\":$APP1},{\"id\":$APP2}]}]"
expect_status 201 "POST distributionsets -> 201"
expect_json length 2
expect_json '.[0] | [.name, .description, .version, .type, .typeName] | join("|")' \
    "distribution 2.6 (1)|Test distribution|2.6000000000000014|os|OS only"
expect_json '.[0] | [.complete, .valid, .locked, .deleted, .requiredMigrationStep] | map(tostring) | join(",")' \
    true,true,false,false,false "MgmtDistributionSet flags"
expect_json '.[0].modules[0] | [.id, .name, .version, .type] | map(tostring) | join("|")' \
    "$OS|software module 1|2.6000000000000014|os" "modules as full MgmtSoftwareModule"
expect_json '.[0].modules[0]._links | keys | join(",")' self "a set's modules link self only"
DS=$(jq -r '.[0].id' <"$T/body")
MULTI=$(jq -r '.[1].id' <"$T/body")
expect_json '.[1].modules | length' 2 "a set of two application modules"
expect_json '.[0]._links | [.self.href, .modules.href, .type.href, .metadata.href] | join(" ")' \
    "$BASE$R/distributionsets/$DS $BASE$R/distributionsets/$DS/assignedSM?offset=0&limit=50 $BASE$R/distributionsettypes/1 $BASE$R/distributionsets/$DS/metadata?offset=0&limit=50" \
    "set links"
check "sets made here never take part in version ordering" \
    [ "$(sqlite3 "$DB" "SELECT group_concat(DISTINCT version_scheme) FROM distribution_set")" = none ]
api_json POST $R/distributionsets '[{"name":"defaulted","version":"1"}]'
expect_status 201 "a set without type -> 201"
expect_json '.[0].type' os_app "the default type is os_app"
expect_json '.[0].complete' false "os_app without os is not complete"
EMPTY=$(jq -r '.[0].id' <"$T/body")
api_json POST $R/distributionsets "[{\"name\":\"distribution 2.6 (1)\",\"version\":\"2.6000000000000014\",\"type\":\"os\"}]"
expect_hawkbit_error 409 hawkbit.server.error.repo.entityAlreadyExists
api_json POST $R/distributionsets "[{\"name\":\"two os\",\"version\":\"1\",\"type\":\"os\",\"modules\":[{\"id\":$OS},{\"id\":$OS}]}]"
expect_status 400 "a module listed twice -> 400"
api_json POST $R/distributionsets '[{"name":"bad","version":"1","type":"nosuch"}]'
expect_status 400 "an unknown set type -> 400"

api_json POST $R/distributionsets "[{\"name\":\"batch\",\"version\":\"1\",\"type\":\"app\",\"modules\":[{\"id\":$APP2}]},{\"name\":\"multi\",\"version\":\"1.0\",\"type\":\"app\"}]"
expect_status 409 "a clash in a batch of sets -> 409"
api GET "$R/distributionsets" -G --data-urlencode "q=name==batch"
expect_json .total 0 "the batch was all or nothing"
api GET $R/softwaremodules/$APP2
expect_status 200 "its module stays"
api GET $R/distributionsets/$DS
expect_status 200 "GET one set"
expect_json .id "$DS"
api_json PUT $R/distributionsets/$DS '{"description":"changed","requiredMigrationStep":true}'
expect_status 200 "PUT a set -> 200"
expect_json '[.description, .requiredMigrationStep] | map(tostring) | join(",")' changed,true

api GET $R/distributionsets
expect_json '.total' 3
expect_json '[.content[].id] == ([.content[].id] | sort)' true "sets: id:ASC"
api GET "$R/distributionsets?sort=name:ASC"
expect_json '[.content[].name] | join(",")' "defaulted,distribution 2.6 (1),multi"
while IFS='|' read -r q want; do
	[ -z "$q" ] && continue
	api GET "$R/distributionsets" -G --data-urlencode "q=$q"
	expect_json '[.content[].name] | join(",")' "$want" "distributionsets q=$q"
done <<'EOF'
type==app|multi
complete==false|defaulted
name==distribution*;version==2.6*|distribution 2.6 (1)
description==changed,type==os_app|distribution 2.6 (1),defaulted
version=out=(1,1.0)|distribution 2.6 (1)
EOF
api GET "$R/distributionsets" -G --data-urlencode "q=complete==maybe"
expect_status 400 "a bool field takes true or false"

# assignedSM
api GET $R/distributionsets/$MULTI/assignedSM
expect_status 200 "GET assignedSM -> 200"
expect_json '[.total, .size] | join(",")' 2,2
expect_json '[.content[].name] | join(",")' "app one,app two"
api GET "$R/distributionsets/$MULTI/assignedSM?limit=1&offset=1"
expect_json '[.content[].name, .total] | map(tostring) | join(",")' "app two,2" "assignedSM paged"
api_json POST $R/distributionsets/$EMPTY/assignedSM "[{\"id\":$OS}]"
expect_status 204 "POST assignedSM -> 204"
api GET $R/distributionsets/$EMPTY
expect_json '[.complete, (.modules | length)] | map(tostring) | join(",")' true,1 \
    "the os module makes it complete"
mksm "second os" 1 os
OS2=$SM
api_json POST $R/distributionsets/$EMPTY/assignedSM "[{\"id\":$OS2}]"
expect_status 400 "a second os module -> 400 (max 1 per set)"
api_json POST $R/distributionsets/$EMPTY/assignedSM "[{\"id\":$APP1}]"
expect_status 204 "an application module beside it"
api DELETE $R/distributionsets/$EMPTY/assignedSM/$APP1
expect_status 204 "DELETE assignedSM/{sm} -> 204"
api DELETE $R/distributionsets/$EMPTY/assignedSM/$APP2
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api GET $R/distributionsets/$EMPTY/assignedSM
expect_json '[.content[].id] | map(tostring) | join(",")' "$OS"

# set metadata
api_json POST $R/distributionsets/$DS/metadata '[{"key":"release","value":"spring"}]'
expect_status 201 "set metadata -> 201"
api GET "$R/distributionsets" -G --data-urlencode "q=metadata.release==spring"
expect_json '[.content[].id] | map(tostring) | join(",")' "$DS" "q on set metadata"
api GET $R/distributionsets/$DS/metadata/release
expect_json .value spring
api_json PUT $R/distributionsets/$DS/metadata/release '{"value":"fall"}'
expect_json .value fall
api DELETE $R/distributionsets/$DS/metadata/release
expect_status 204 "DELETE set metadata"
api GET $R/distributionsets/$DS/metadata
expect_json .total 0

# --- deletes: soft once a device was given the set, 204 again after ------------
api_json POST $R/targets '[{"controllerId":"dev-1"}]'
expect_status 201 "a target"
DDI_AUTH="TargetToken $(jq -r '.[0].securityToken' <"$T/body")"
api_json PATCH /api/v1/devices/dev-1 "{\"mode\":\"assigned\",\"assigned_distribution_id\":$DS}"
expect_status 200 "assign the set to dev-1 (/api/v1)"
ddi GET dev-1
ACT=$(action_id_of_href "$(link deploymentBase)")
check "dev-1 has an open action" [ -n "$ACT" ]
api GET $R/targets/dev-1/assignedDS
expect_status 200 "assignedDS -> 200"
expect_json .id "$DS" "assignedDS is the set"
expect_json '.modules[0].id' "$OS"
api GET $R/targets/dev-1/installedDS
expect_status 204 "not installed yet"
api GET $R/targets/dev-1
expect_json .updateStatus pending "an open action: pending"
api GET $R/distributionsets/$DS
expect_json .locked true "a set given to a device is locked"
api POST $R/softwaremodules/$OS/artifacts -F "file=@$T/bundle.raucb;filename=late.bin"
expect_hawkbit_error 423 hawkbit.server.error.locked
feedback dev-1 "$ACT" closed success
api GET $R/targets/dev-1/installedDS
expect_json .id "$DS" "installedDS once it succeeded"
api GET $R/targets/dev-1
expect_json .updateStatus in_sync "succeeded: in_sync"
expect_jq '.installedAt > 1000000000000' "installedAt"
api GET "$R/targets" -G --data-urlencode "q=installedDS.version==2.6000000000000014;assignedDS.name==distribution*"
expect_json '[.content[].controllerId] | join(",")' dev-1 "q on installedDS and assignedDS"

api DELETE $R/distributionsets/$DS
expect_status 204 "DELETE a set a device was given -> 204"
api DELETE $R/distributionsets/$DS
expect_status 204 "DELETE it again -> 204"
api GET $R/distributionsets/$DS
expect_status 404 "a deleted set reads as 404"
check "its row is kept for the device's history" \
    [ "$(sqlite3 "$DB" "SELECT deleted_at IS NOT NULL FROM distribution_set WHERE id = $DS")" = 1 ]
api DELETE $R/softwaremodules/$OS/artifacts/$A0
expect_status "204|404|409|423" "teardown's artifact delete (errors ignored there)"
api DELETE $R/softwaremodules/$OS
expect_hawkbit_error 423 hawkbit.server.error.locked
api DELETE $R/distributionsets/$EMPTY
expect_status 204 "DELETE the other set holding it -> 204"
api DELETE $R/softwaremodules/$OS
expect_status 204 "DELETE the module -> 204"
api DELETE $R/softwaremodules/$OS
expect_status 204 "DELETE the soft-deleted module again -> 204"
api GET $R/softwaremodules/$OS
expect_status 404 "a deleted module reads as 404"
api GET $R/softwaremodules
expect_jq "[.content[].id] | index($OS) == null" "deleted modules are not listed"
api DELETE $R/distributionsets/$MULTI
expect_status 204 "DELETE a set nobody was given -> 204"
check "gone for good" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM distribution_set WHERE id = $MULTI")" = 0 ]
api GET $R/softwaremodules/$APP2
expect_status 200 "a set's delete leaves its modules, as in hawkBit"
expect_json .deleted false
api DELETE $R/distributionsets/$MULTI
expect_hawkbit_error 404 hawkbit.server.error.repo.entityNotFound
api DELETE $R/softwaremodules/9999
expect_status 404 "DELETE an unknown module -> 404"

api DELETE $R/targets/dev-1
expect_status 204 "DELETE a target with actions -> 204"
check "its actions went with it" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM action WHERE device_id NOT IN (SELECT id FROM device)")" = 0 ]
check "and their history" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM action_status WHERE action_id NOT IN (SELECT id FROM action)")" = 0 ]

# --- permissions --------------------------------------------------------------
api_json POST /api/v1/tokens '{"name":"readonly","permissions":["software.read"]}'
RO=$(jq -r .token <"$T/body")
req GET $R/softwaremodules -H "Authorization: Bearer $RO"
expect_status 200 "software.read lists modules"
req POST $R/softwaremodules -H "Authorization: Bearer $RO" \
    -H 'Content-Type: application/json' --data-binary '[{"name":"n","version":"1","type":"os"}]'
expect_hawkbit_error 403 hawkbit.server.error.insufficientPermission
req DELETE $R/distributionsets/$MULTI -H "Authorization: Bearer $RO"
expect_status 403 "no software.delete -> 403"
req GET $R/distributionsets
expect_status 401 "no credentials -> 401"
api PATCH $R/softwaremodules/$APP1
expect_status 405 "a wrong method -> 405"
expect_jq '.errorCode | startswith("hawkbit.server.error")' "405 in hawkBit's shape"

finish
