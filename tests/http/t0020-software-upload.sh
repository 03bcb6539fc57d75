#!/usr/bin/env bash
# Software uploads: both encodings, hashes, compatibility, conflicts,
# refused images leave nothing behind, size limit, deletion rules.
. "$(dirname "$0")/lib.sh"

start_server
TOKEN=$(make_token admin)
ART=$T/data/artifacts

# expect_clean N WHAT: after a refused upload, no temp file, N artifacts.
expect_clean()
{
	check "$2: nothing left in data/tmp" [ "$(count_files "$T/data/tmp")" -eq 0 ]
	check "$2: still $1 artifact file(s)" [ "$(count_files "$ART")" -eq "$1" ]
}

# expect_hashes FILE: the last body's size and hashes are FILE's.
expect_hashes()
{
	expect_json .size "$(wc -c <"$1")"
	expect_json .hashes.sha256 "$(sha256sum "$1" | cut -d' ' -f1)"
	expect_json .hashes.sha1 "$(sha1sum "$1" | cut -d' ' -f1)"
	expect_json .hashes.md5 "$(md5sum "$1" | cut -d' ' -f1)"
}

# compat: the compatibility list in a normal form, "board|revision|regex"
# joined by spaces (a regex revision loses its "#RE:" prefix).
compat()
{
	jq -r '[.compatibility[] | "\(.board // "")|\(.revision // "" |
	    ltrimstr("#RE:"))|\(.regex)"] | join(" ")' <"$T/body"
}

# --- octet-stream ---------------------------------------------------------
check "mkswu builds a.swu" mkimg "$T/a.swu" 1.0.0 '1.0,1.1' -s 64K
check "mkswu prints the size and sha256" \
    [ "$IMG_SIZE" = "$(wc -c <"$T/a.swu")" -a "$IMG_SHA256" = "$(sha256sum "$T/a.swu" | cut -d' ' -f1)" ]
upload "$T/a.swu" a-1.0.0.swu
expect_status 201 "octet-stream upload -> 201"
A=$SW_ID
expect_jq '.id | type == "number"'
expect_json .filename a-1.0.0.swu
expect_json .version 1.0.0
expect_jq '.description | type == "string"'
expect_hashes "$T/a.swu"
expect_json .signed true
expect_json .deleted false
expect_jq '.created_at != null'
expect_json '.rollouts | length' 0
check "compatibility of -r 1.0,1.1 (got '$(compat)')" [ "$(compat)" = "|1.0|false |1.1|false" ]
check "the artifact is stored" [ "$(count_files "$ART")" -eq 1 ]
check "the stored artifact has the uploaded bytes" \
    sh -c "find '$ART' -type f -exec cmp -s '$T/a.swu' {} \; -print | grep -q ."
expect_clean 1 "after a good upload"

api GET "/api/v1/software/$A"
expect_status 200
expect_json .id "$A"
expect_json .filename a-1.0.0.swu
expect_hashes "$T/a.swu"

# --- multipart ------------------------------------------------------------
check "mkswu builds b.swu" mkimg "$T/b-1.1.0.swu" 1.1.0 '#RE:^1\.[0-9]+$' -m boardA
api POST /api/v1/software -F "file=@$T/b-1.1.0.swu"
expect_status 201 "multipart upload -> 201"
B=$(jq -r .id <"$T/body")
expect_json .filename b-1.1.0.swu
expect_json .version 1.1.0
expect_hashes "$T/b-1.1.0.swu"
check "compatibility of -m boardA -r #RE: (got '$(compat)')" \
    [ "$(compat)" = 'boardA|^1\.[0-9]+$|true' ]

check "mkswu builds an unsigned c.swu" mkimg "$T/c.swu" 1.2.0 '' -U
upload "$T/c.swu"
expect_status 201 "unsigned image without compatibility -> 201"
C=$SW_ID
expect_json .signed false
expect_json '.compatibility | length' 0

api GET /api/v1/software
expect_status 200
expect_json .total 3
expect_json '[.software[].id] | sort | join(",")' "$(printf '%s\n' "$A" "$B" "$C" | sort -n | paste -sd,)"

# --- conflicts ------------------------------------------------------------
upload "$T/a.swu" again.swu
expect_status 409 "same image again -> 409"
expect_is_error
mkimg "$T/a2.swu" 1.0.0 '1.1,2.0'
upload "$T/a2.swu"
expect_status 409 "same version, overlapping revisions -> 409"
expect_clean 3 "after 409"
mkimg "$T/a3.swu" 1.0.0 '3.0'
upload "$T/a3.swu"
expect_status 201 "same version, disjoint revisions -> 201"
A3=$SW_ID
mkimg "$T/b2.swu" 1.1.0 '#RE:^1\.[0-9]+$' -m boardB
upload "$T/b2.swu"
expect_status 201 "same version, other board -> 201"
B2=$SW_ID
N=5

# Two uploads of one new version at once: exactly one wins.
mkimg "$T/p1.swu" 4.0.0 '4.0'
mkimg "$T/p2.swu" 4.0.0 '4.0'
for f in p1 p2 p1 p2; do
	echo "$f"
done | xargs -P 4 -I{} curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$T/{}.swu" "$BASE/api/v1/software?filename={}.swu" |
    sort | paste -sd' ' >"$T/codes"
check "4 parallel uploads of version 4.0.0: one 201, three 409 ($(cat "$T/codes"))" \
    [ "$(cat "$T/codes")" = "201 409 409 409" ]
N=$((N + 1))
expect_clean "$N" "after parallel uploads"

# --- refused images -------------------------------------------------------
# refuse FILE NAME WHY: octet-stream upload answered 400 invalid_image.
refuse()
{
	upload "$1" "$2"
	expect_status 400 "$3 -> 400"
	expect_error invalid_image
	expect_clean "$N" "$3"
}

head -c 4096 /dev/urandom >"$T/garbage.swu"
refuse "$T/garbage.swu" garbage.swu "random bytes"
: >"$T/empty.swu"
upload "$T/empty.swu" empty.swu
expect_status 400 "empty body -> 400"
expect_is_error
expect_clean "$N" "empty body"
head -c $(($(wc -c <"$T/a.swu") / 2)) "$T/a.swu" >"$T/half.swu"
refuse "$T/half.swu" half.swu "image truncated in the middle"
head -c 100 "$T/a.swu" >"$T/head.swu"
refuse "$T/head.swu" head.swu "image truncated in the first header"
head -c $(($(wc -c <"$T/a.swu") - 600)) "$T/a.swu" >"$T/notrailer.swu"
refuse "$T/notrailer.swu" notrailer.swu "image without its cpio trailer"

head -c 3000 /dev/urandom >"$T/payload.bin"
PAYLOAD_SHA=$(sha256sum "$T/payload.bin" | cut -d' ' -f1)
cat >"$T/sw-good" <<EOF
software =
{
	version = "5.0.0";
	description = "hand-made";
	hardware-compatibility = [ "9.9" ];
	files: (
		{
			filename = "payload.bin";
			path = "/tmp/payload.bin";
			sha256 = "$PAYLOAD_SHA";
		}
	);
};
EOF
printf 'this is { not ( libconfig\n' >"$T/sw-bad"
sed '/version =/d' "$T/sw-good" >"$T/sw-noversion"

mkcpio "$T/nosw.swu" payload.bin "$T/payload.bin"
refuse "$T/nosw.swu" nosw.swu "cpio without sw-description"
mkcpio "$T/late.swu" payload.bin "$T/payload.bin" sw-description "$T/sw-good"
refuse "$T/late.swu" late.swu "sw-description not the first member"
mkcpio "$T/badsw.swu" sw-description "$T/sw-bad" payload.bin "$T/payload.bin"
refuse "$T/badsw.swu" badsw.swu "sw-description with a syntax error"
mkcpio "$T/nover.swu" sw-description "$T/sw-noversion" payload.bin "$T/payload.bin"
refuse "$T/nover.swu" nover.swu "sw-description without a version"
(cd "$T" && cp sw-good sw-description && tar cf tarball.swu sw-description payload.bin)
refuse "$T/tarball.swu" tarball.swu "a tar archive"
gzip -c "$T/a.swu" >"$T/a.swu.gz"
refuse "$T/a.swu.gz" gz.swu "a gzipped image"

# The hand-made archive itself is fine once sw-description comes first.
mkcpio "$T/hand.swu" sw-description "$T/sw-good" payload.bin "$T/payload.bin"
upload "$T/hand.swu"
expect_status 201 "hand-made newc image -> 201"
expect_json .version 5.0.0
expect_json .signed false
check "compatibility of the hand-made image (got '$(compat)')" [ "$(compat)" = "|9.9|false" ]
HAND=$SW_ID
N=$((N + 1))

# --- content types --------------------------------------------------------
for ct in text/plain application/json application/x-www-form-urlencoded \
    image/png; do
	api POST /api/v1/software?filename=x.swu -H "Content-Type: $ct" \
	    --data-binary "@$T/a3.swu"
	expect_status 415 "upload as $ct -> 415"
	expect_is_error
done
expect_clean "$N" "after 415s"
api POST /api/v1/software -F "other=@$T/a.swu"
expect_status 400 "multipart without a file part -> 400"
expect_clean "$N" "multipart without a file part"

# A file name that tries to leave the artifact directory.
mkimg "$T/trav.swu" 7.0.0 '7.0'
api POST '/api/v1/software?filename=..%2F..%2Fescape.swu' \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/trav.swu"
case $STATUS in
400) pass "traversal file name refused (400)" ;;
201)
	check "traversal file name made harmless" \
	    sh -c "jq -r .filename '$T/body' | grep -qv '/'"
	N=$((N + 1))
	;;
*) fail "traversal file name" "status $STATUS" ;;
esac
check "nothing written outside data_dir" \
    [ ! -e "$T/escape.swu" -a ! -e "$T/data/escape.swu" ]

api GET /api/v1/software
expect_json .total "$N" "the refused uploads left no rows"

# --- deletion -------------------------------------------------------------
api DELETE /api/v1/software/999999
expect_status 404 "DELETE unknown software -> 404"
expect_is_error

api_json POST /api/v1/rollouts "{\"name\":\"r\",\"feed\":\"f\",\"software_id\":$A}"
expect_status 201 "rollout on a"
R=$(jq -r .id <"$T/body")
api GET "/api/v1/software/$A"
expect_json '.rollouts | map(tostring) | join(",")' "$R" "software lists its rollout"
api DELETE "/api/v1/software/$A"
expect_status 409 "DELETE software used by a rollout -> 409"
expect_is_error
api GET "/api/v1/software/$A"
expect_status 200 "it is still there"
expect_json .deleted false
check "its artifact is still there" [ "$(count_files "$ART")" -eq "$N" ]

api DELETE "/api/v1/rollouts/$R"
expect_status 204 "DELETE the rollout -> 204"
api DELETE "/api/v1/software/$A"
expect_status 204 "DELETE unused software -> 204"
expect_empty_body
check "its artifact file is gone" [ "$(count_files "$ART")" -eq $((N - 1)) ]
api GET "/api/v1/software/$A"
case $STATUS in
404) pass "deleted software: GET -> 404" ;;
200) expect_json .deleted true "deleted software: GET shows deleted" ;;
*) fail "deleted software: GET" "status $STATUS" ;;
esac
api GET /api/v1/software
expect_json "[.software[] | select(.id == $A and .deleted != true)] | length" 0 \
    "deleted software is not listed as available"
api DELETE "/api/v1/software/$A"
expect_status 404 "DELETE it again -> 404"
upload "$T/a.swu" a-1.0.0.swu
expect_status 201 "the deleted version can be uploaded again"
check "stored again" [ "$(count_files "$ART")" -eq "$N" ]

# --- several MiB: whole 1 MiB blocks go to the upload's writer thread -----
mkimg "$T/multi.swu" 9.0.0 '9.0' -s 5000K
upload "$T/multi.swu" multi.swu
expect_status 201 "a $(wc -c <"$T/multi.swu")-byte upload (5 blocks and a part) -> 201"
expect_hashes "$T/multi.swu"
check "the stored multi-block artifact has the uploaded bytes" \
    sh -c "find '$ART' -type f -exec cmp -s '$T/multi.swu' {} \; -print | grep -q ."
mkimg "$T/multi2.swu" 9.0.1 '9.0' -s 3072K -U
api POST /api/v1/software -F "file=@$T/multi2.swu"
expect_status 201 "a $(wc -c <"$T/multi2.swu")-byte multipart upload -> 201"
expect_hashes "$T/multi2.swu"
N=$((N + 2))
expect_clean "$N" "after the multi-block uploads"

# --- size limit -----------------------------------------------------------
stop_server
start_server 'upload:
  max_size: 16K'
mkimg "$T/big.swu" 8.0.0 '8.0' -s 64K
upload "$T/big.swu"
expect_status 413 "64K upload with max_size 16K -> 413"
expect_is_error
expect_clean "$N" "after 413"
api POST /api/v1/software -F "file=@$T/big.swu"
expect_status 413 "64K multipart upload with max_size 16K -> 413"
expect_clean "$N" "after multipart 413"
mkimg "$T/small.swu" 8.0.1 '8.0' -s 1K -U
upload "$T/small.swu"
expect_status 201 "a $(wc -c <"$T/small.swu")-byte image under max_size 16K -> 201"
alive "uploads over the limit"

finish
