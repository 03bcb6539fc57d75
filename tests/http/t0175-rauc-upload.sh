#!/usr/bin/env bash
# RAUC bundles on the simple upload path: told from .swu by content,
# read (plain from the squashfs, verity and crypt from the CMS), their
# signature checked against rauc.keyring by rauc.signature, corrupt
# payloads refused; hardware matched as RAUC matches it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bundles.sh"

for tool in rauc openssl mksquashfs; do
	have "$tool" || { fail "$tool is installed"; finish; }
done
rauc_signer "$T/signer" falconet-signer
rauc_signer "$T/stranger" someone-else
artifacts() { find "$T/data/artifacts" -type f | wc -l; }
leftovers() { find "$T/data/tmp" -type f | wc -l; }

start_server "rauc:
  keyring: $T/signer/cert.pem"
TOKEN=$(make_token admin)

# --- plain and verity, verified -------------------------------------------
mkbundle "$T/plain.raucb" board-a 1.0.0 plain
upload "$T/plain.raucb" update-1.0.0.raucb
expect_status 201 "a plain bundle is accepted"
PLAIN=$SW_ID
expect_json .format raucb "plain: format raucb"
expect_json .version 1.0.0 "plain: version from the manifest"
expect_json .version_scheme semver "plain: RAUC's version order"
expect_json .rauc_compatible board-a "plain: RAUC compatible kept"
expect_json '.compatibility[0].board' board-a "plain: compatible as the model"
expect_json '.compatibility[0].revision' null "plain: any revision"
expect_json .signature verified "plain: signature verified"
expect_json '.modules[0].artifacts[0].info.format' plain "plain: bundle format"
expect_json '.modules[0].artifacts[0].info.images[0].class' rootfs "plain: its image"
expect_json '.modules[0].artifacts[0].info.signature.signer_subject' \
    "CN = falconet-signer" "plain: the signer"
mkbundle "$T/verity.raucb" board-a 1.1.0 verity
upload "$T/verity.raucb" update-1.1.0.raucb
expect_status 201 "a verity bundle is accepted"
expect_json '.modules[0].artifacts[0].info.format' verity "verity: bundle format"
expect_json .signature verified "verity: signature verified"
mkbundle "$T/crypt.raucb" board-a 1.1.5 crypt
upload "$T/crypt.raucb" update-1.1.5.raucb
expect_status 201 "an unencrypted crypt bundle is accepted"
check "the crypt key is never shown" \
    sh -c "! grep -qi 'crypt-key\|crypt_key' '$T/body'"

# --- a stranger's signature: stored with the result (warn) ---------------
mkbundle "$T/stranger.raucb" board-a 1.2.0 verity "$T/stranger"
upload "$T/stranger.raucb" stranger-1.2.0.raucb
expect_status 201 "warn: a bundle of another signer is stored"
expect_json .signature failed "warn: its signature failed"
check "warn: the verification error is shown" [ \
    "$(jq -r '.modules[0].artifacts[0].info.signature.error // empty' "$T/body")" != "" ]

# --- corrupt and odd bundles are refused, nothing left behind -------------
BEFORE=$(artifacts)
mkbundle "$T/bad.raucb" board-a 1.5.0 verity "$T/signer" 200000
cp "$T/bad.raucb" "$T/flip.raucb"
flip_byte "$T/flip.raucb" 70000
upload "$T/flip.raucb" flip.raucb
expect_status 400 "a flipped payload byte is caught"
check "it names the payload" sh -c "jq -r .detail '$T/body' | grep -qi 'payload\|hash tree\|verity'"
head -c 100000 "$T/bad.raucb" >"$T/cut.raucb"
upload "$T/cut.raucb" cut.raucb
expect_status 400 "a truncated bundle is refused"
S=$(tail -c 8 "$T/bad.raucb" | od -An -tu8 --endian=big | tr -d ' ')
{ head -c $(($(wc -c <"$T/bad.raucb") - 8)) "$T/bad.raucb"; printf '\0\0\0\0\0\1\0\0'; } >"$T/lie.raucb"
upload "$T/lie.raucb" lie.raucb
expect_status 400 "a CMS size that lies is refused"
check "nothing stored for them" [ "$(artifacts)" = "$BEFORE" ]
check "no temp file left" [ "$(leftovers)" = 0 ]
if mksquashfs -help 2>&1 | grep -qw lzo; then
	dir=$(mktemp -d "$T/lzo.XXXXXX")
	head -c 8192 /dev/urandom >"$dir/rootfs.img"
	printf '[update]\ncompatible=board-a\nversion=1.6.0\n\n[image.rootfs]\nfilename=rootfs.img\n' >"$dir/manifest.raucm"
	TMPDIR=$T rauc bundle --cert="$T/signer/cert.pem" --key="$T/signer/key.pem" \
	    --mksquashfs-args="-comp lzo" "$dir" "$T/lzo.raucb" >/dev/null 2>&1
	upload "$T/lzo.raucb" lzo.raucb
	expect_status 400 "an LZO squashfs is refused"
	check "the error names the compression" sh -c "jq -r .detail '$T/body' | grep -qi lzo"
fi
mkbundle "$T/dup.raucb" board-a 1.0.0 plain
upload "$T/dup.raucb" dup.raucb
expect_status 409 "the same version for the same hardware: 409"

# --- which devices get what -------------------------------------------------
# Latest mode: the highest version that fits.  A device that reports its
# RAUC compatible is matched exactly; others by hardware model.
poll_offer()
{
	ddi GET "$1"
	OFFER=
	local db
	db=$(link deploymentBase)
	[ -n "$db" ] || return 0
	req GET "$db"
	OFFER=$(jq -r '.deployment.chunks[0].version' <"$T/body")
}
for d in rauc-a rauc-b model-a both; do ddi GET "$d"; done
config_data rauc-a '{"compatible":"board-a","hw_boardname":"whatever"}'
config_data rauc-b '{"compatible":"board-b","hw_boardname":"board-a"}'
config_data model-a '{"hw_boardname":"board-a","hw_revision":"1.0"}'
config_data both '{"compatible":"board-a"}'
for d in rauc-a rauc-b model-a both; do
	api_json PATCH "/api/v1/devices/$d" '{"mode":"latest"}'
done
poll_offer rauc-a
check "exact compatible: offered the newest (1.2.0, got $OFFER)" [ "$OFFER" = 1.2.0 ]
poll_offer rauc-b
check "another compatible: nothing, whatever its model (got '$OFFER')" [ -z "$OFFER" ]
poll_offer model-a
check "no compatible attribute: matched by model (got $OFFER)" [ "$OFFER" = 1.2.0 ]
api GET /api/v1/devices/rauc-a
expect_json .compatible board-a "the device's compatible is shown"
poll_offer both
DL=$(jq -r '.deployment.chunks[0].artifacts[0]._links.download.href' <"$T/body")
SHA1=$(jq -r '.deployment.chunks[0].artifacts[0].hashes.sha1' <"$T/body")
curl -s -o "$T/dl.raucb" "$DL"
check "the bundle downloads intact" [ "$(sha1sum "$T/dl.raucb" | cut -d' ' -f1)" = "$SHA1" ]
check "it is the bundle uploaded" cmp -s "$T/dl.raucb" "$T/stranger.raucb"

# --- require: what a device would refuse is refused -----------------------
start_server "rauc:
  keyring: $T/signer/cert.pem
  signature: require"
mkbundle "$T/s2.raucb" board-a 2.0.0 plain "$T/stranger"
upload "$T/s2.raucb" s2.raucb
expect_status 400 "require: another signer's bundle is refused"
check "require: with the verification error" sh -c "jq -r .detail '$T/body' | grep -qi 'signature'"
mkbundle "$T/ok2.raucb" board-a 2.0.0 plain
upload "$T/ok2.raucb" ok2.raucb
expect_status 201 "require: the devices' signer's bundle is accepted"
printf 'not a pem\n' >"$T/bad-keyring.pem"
write_settings "$T/badkr.yaml" "rauc:
  keyring: $T/bad-keyring.pem"
"$FALCONET" -c "$T/badkr.yaml" -n >/dev/null 2>"$T/badkr.err"
check "-n refuses a keyring that is no PEM (exit $?)" grep -q 'rauc.keyring' "$T/badkr.err"

# --- a compatible split by a pattern ----------------------------------------
start_server "rauc:
  keyring: $T/signer/cert.pem
  compatible_pattern: '(?P<model>[a-z]+)-(?P<revision>rev[0-9]+)'"
mkbundle "$T/pat.raucb" myboard-rev2 3.0.0 plain
upload "$T/pat.raucb" pat.raucb
expect_status 201 "upload with a compatible pattern"
expect_json '.compatibility[0].board' myboard "pattern: the model group"
expect_json '.compatibility[0].revision' rev2 "pattern: the revision group"
ddi GET pat-dev
config_data pat-dev '{"hw_boardname":"myboard","hw_revision":"rev2"}'
api_json PATCH /api/v1/devices/pat-dev '{"mode":"latest"}'
poll_offer pat-dev
check "pattern: a device of that model and revision is offered it (got $OFFER)" [ "$OFFER" = 3.0.0 ]

# --- encrypted crypt bundles -------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=recipient \
    -keyout "$T/recipient.key" -out "$T/recipient.pem" 2>/dev/null
mkbundle "$T/c.raucb" board-c 4.0.0 crypt
TMPDIR=$T rauc encrypt --keyring="$T/signer/cert.pem" --to="$T/recipient.pem" \
    "$T/c.raucb" "$T/enc.raucb" >/dev/null 2>&1
upload "$T/enc.raucb" enc.raucb
expect_status 400 "encrypted: the version must be given"
check "it says how" sh -c "jq -r .detail '$T/body' | grep -q 'version='"
api POST "/api/v1/software?filename=enc.raucb&version=4.0.0&compatible=board-c" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/enc.raucb"
expect_status 201 "encrypted: accepted with version and compatible given"
expect_json '.modules[0].artifacts[0].info.format' crypt-encrypted "encrypted: recognised"
expect_json .signature unreadable "encrypted: signature unreadable"
check "encrypted: its recipient is listed" [ \
    "$(jq -r '.modules[0].artifacts[0].info.recipients | length' "$T/body")" = 1 ]
start_server "rauc:
  accept_encrypted: false"
api POST "/api/v1/software?filename=enc2.raucb&version=4.0.1&compatible=board-c" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/enc.raucb"
expect_status 400 "accept_encrypted false: refused"

finish
