#!/usr/bin/env bash
# Artifact downloads: HEAD, full GET, ranges, ETag, MD5SUM, the artifact
# list, and who may download what.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)

mkimg "$T/img.swu" 2.0.0 '1.0' -s 200K
upload "$T/img.swu" image-2.0.0.swu
expect_status 201 "upload"
SW=$SW_ID
F=$T/img.swu
SIZE=$(wc -c <"$F")
SHA1=$(sha1sum "$F" | cut -d' ' -f1)
MD5=$(md5sum "$F" | cut -d' ' -f1)

ddi GET dev-d
config_data dev-d '{"hw_revision":"1.0"}'
ddi GET dev-other
config_data dev-other '{"hw_revision":"1.0"}'
api_json PATCH /api/v1/devices/dev-other '{"feed":"elsewhere"}'
expect_status 200
api_json POST /api/v1/rollouts "{\"feed\":\"default\",\"software_id\":$SW}"
expect_status 201 "rollout"

ddi GET dev-d
DB=$(link deploymentBase)
check "an update is offered" [ -n "$DB" ]
ACT=$(action_id_of_href "$DB")
req GET "$DB"
expect_status 200 "deploymentBase"
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
check "download href ($DL)" sh -c "echo '$DL' | grep -q '/softwaremodules/[0-9]*/artifacts/image-2.0.0.swu$'"
SM_PATH=${DL%/artifacts/*}
SM=${SM_PATH##*/}
OTHER_DL=${DL/\/dev-d\//\/dev-other\/}

# --- HEAD and GET ---------------------------------------------------------
req HEAD "$DL"
expect_status 200 "HEAD artifact -> 200"
n=$(head_body_bytes "${DL#"$BASE"}")
check "HEAD artifact sends no body ($n bytes)" [ "$n" -eq 0 ]
expect_header Content-Length "$SIZE"
expect_header Content-Type application/octet-stream
expect_header Accept-Ranges bytes
expect_header ETag "\"$SHA1\""
expect_header Content-Disposition "attachment;filename=image-2.0.0.swu"
check "Last-Modified present" [ -n "$(header Last-Modified)" ]

req GET "$DL"
expect_status 200 "GET artifact -> 200"
check "the bytes are the uploaded file" cmp -s "$T/body" "$F"
expect_header Content-Length "$SIZE"
expect_header ETag "\"$SHA1\""
expect_header Accept-Ranges bytes
expect_header X-Content-Type-Options nosniff

# --- Range ----------------------------------------------------------------
# range SPEC START END: a 206 with exactly bytes START..END.
range()
{
	local spec=$1 start=$2 end=$3 len=$(($3 - $2 + 1))
	req GET "$DL" -H "Range: $spec"
	expect_status 206 "Range: $spec -> 206"
	expect_header Content-Range "bytes $start-$end/$SIZE"
	expect_header Content-Length "$len"
	tail -c +$((start + 1)) "$F" | head -c "$len" >"$T/want"
	check "Range: $spec: the right $len bytes" cmp -s "$T/body" "$T/want"
}
range bytes=0-3 0 3
range bytes=0-0 0 0
range bytes=1000-1999 1000 1999
range bytes=100- 100 $((SIZE - 1))
range bytes=-10 $((SIZE - 10)) $((SIZE - 1))
range "bytes=$((SIZE - 1))-" $((SIZE - 1)) $((SIZE - 1))
range "bytes=10-$((SIZE + 5000))" 10 $((SIZE - 1))
range "bytes=0-$((SIZE - 1))" 0 $((SIZE - 1))
range "bytes=-$((SIZE + 10))" 0 $((SIZE - 1))

unsatisfiable()
{
	req GET "$DL" -H "Range: $1"
	expect_status 416 "Range: $1 -> 416"
	expect_header Content-Range "bytes */$SIZE"
}
unsatisfiable "bytes=$SIZE-"
unsatisfiable "bytes=$((SIZE + 100))-$((SIZE + 200))"
unsatisfiable "bytes=5-2"
unsatisfiable "bytes=abc"
unsatisfiable "bytes=-0"

req HEAD "$DL" -H "Range: bytes=0-3"
case $STATUS in
200 | 206) pass "HEAD with Range -> $STATUS" ;;
*) fail "HEAD with Range" "status $STATUS" ;;
esac
n=$(head_body_bytes "${DL#"$BASE"}" "Range: bytes=0-3")
check "HEAD with Range sends no body ($n bytes)" [ "$n" -eq 0 ]

# --- conditional ----------------------------------------------------------
req GET "$DL" -H "If-None-Match: \"$SHA1\""
expect_status 304 "If-None-Match with the ETag -> 304"
expect_empty_body
req GET "$DL" -H 'If-None-Match: "0000000000000000000000000000000000000000"'
expect_status 200 "If-None-Match with another ETag -> 200"
check "full body then" cmp -s "$T/body" "$F"
req GET "$DL" -H 'If-Match: "0000000000000000000000000000000000000000"'
expect_status 412 "If-Match with another ETag -> 412"
req GET "$DL" -H "If-Match: \"$SHA1\""
expect_status 200 "If-Match with the ETag -> 200"

req GET "$DL" -H 'Range: bytes=0-3' -H "If-Range: \"$SHA1\""
expect_status 206 "If-Range with the ETag keeps the Range -> 206"
req GET "$DL" -H 'Range: bytes=0-3' -H 'If-Range: "0000000000000000000000000000000000000000"'
expect_status 200 "If-Range with another ETag ignores the Range -> 200"
check "full body then" cmp -s "$T/body" "$F"

# --- MD5SUM and list --------------------------------------------------------
req GET "$DL.MD5SUM"
expect_status 200 "GET .MD5SUM -> 200"
check "MD5SUM body is '<md5>  <name>' without newline ($(body_excerpt))" \
    [ "$(cat "$T/body"; echo x)" = "$MD5  image-2.0.0.swux" ]
check "MD5SUM is text/plain ($(header Content-Type))" \
    sh -c "echo '$(header Content-Type)' | grep -q '^text/plain'"
expect_header Content-Disposition "attachment;filename=image-2.0.0.swu.MD5SUM"
if have md5sum; then
	(cd "$T" && cp "$F" image-2.0.0.swu && cp body image.md5 &&
	    md5sum -c --status image.md5)
	check "md5sum -c accepts the MD5SUM file" [ $? -eq 0 ]
fi

req GET "$SM_PATH/artifacts"
expect_status 200 "artifact list -> 200"
expect_json 'type' array
expect_json 'length' 1
expect_json '.[0].filename' image-2.0.0.swu
expect_json '.[0].size' "$SIZE"
expect_json '.[0].hashes.sha1' "$SHA1"
expect_json '.[0]._links.download.href' "$DL"

# --- who may download -----------------------------------------------------
req GET "$OTHER_DL"
expect_status 404 "another device (no action) -> 404"
req HEAD "$OTHER_DL"
expect_status 404 "another device, HEAD -> 404"
req GET "$OTHER_DL.MD5SUM"
expect_status 404 "another device, MD5SUM -> 404"
req GET "${OTHER_DL%/artifacts/*}/artifacts"
expect_status 404 "another device, list -> 404"
req GET "/DEFAULT/controller/v1/never-seen/softwaremodules/$SM/artifacts/image-2.0.0.swu"
expect_status 404 "unknown device -> 404"

req GET "$SM_PATH/artifacts/other.swu"
expect_status 404 "unknown file -> 404"
req GET "$SM_PATH/artifacts/image-2.0.0.swu.md5sum"
expect_status 404 "lower-case .md5sum -> 404"
req GET "${SM_PATH%/*}/999999/artifacts/image-2.0.0.swu"
expect_status 404 "unknown module -> 404"
req GET "${SM_PATH%/*}/abc/artifacts/image-2.0.0.swu"
expect_status "400|404" "non-numeric module -> 400/404"

# traversal: never a file outside the artifacts.
traversal()
{
	req GET "$SM_PATH/artifacts/$1"
	expect_status "400|404" "artifact name $1 -> 400/404"
	check "artifact name $1: no file content" \
	    sh -c "! grep -q 'listen:' '$T/body'"
}
traversal '..%2F..%2F..%2Fsettings.yaml'
traversal '..%2f..%2f..%2fsettings.yaml'
traversal '../../../../settings.yaml'
traversal '%2e%2e%2f%2e%2e%2fsettings.yaml'
traversal '%2Fetc%2Fpasswd'
traversal "..%2F..%2F..%2F..%2F$(echo "$T" | sed 's,^/,,; s,/,%2F,g')%2Fsettings.yaml"
traversal 'image-2.0.0.swu%00.txt'
alive "traversal attempts"

# After the action is closed the artifact is no longer served to it.
feedback dev-d "$ACT" closed success
expect_status 200 "close the action"
req GET "$DL"
expect_status 404 "download after the action closed -> 404"
req GET "$DL" -H "Range: bytes=0-3"
expect_status 404 "range after the action closed -> 404"

alive

finish
