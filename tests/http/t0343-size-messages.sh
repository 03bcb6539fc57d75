#!/usr/bin/env bash
# Error messages name things as the operator knows them: sizes in KiB/MiB
# (not 104857600 bytes), and a conflicting upload by the file name of the
# set already there (not "software 4").
. "$(dirname "$0")/lib.sh"

start_server 'upload:
  max_size: 1M'
TOKEN=$(make_token admin)

head -c 2097152 /dev/zero >"$T/big.bin"
api POST '/api/v1/software?filename=big.swu' \
    -H 'Content-Type: application/octet-stream' --data-binary "@$T/big.bin"
expect_status 413 "an upload of 2 MiB with upload.max_size 1M"
expect_json .detail "uploads are limited to 1 MiB (upload.max_size)" \
    "the limit is said in MiB"

printf '{"name":"%s"}' "$(head -c 300000 /dev/zero | tr '\0' x)" >"$T/big.json"
api POST /api/v1/devices -H 'Content-Type: application/json' \
    --data-binary "@$T/big.json"
expect_status 413 "a JSON body of 300 KB"
expect_json .detail "JSON bodies are limited to 256 KiB" "the JSON limit is said in KiB"

mkimg "$T/first.swu" 3.1.0 '1.0'
upload "$T/first.swu" gateway-os-3.1.0.swu
expect_status 201 "upload gateway-os-3.1.0.swu"
mkimg "$T/again.swu" 3.1.0 '1.0'
upload "$T/again.swu" again.swu
expect_status 409 "the same version for the same hardware again"
expect_jq '.detail | test("^gateway-os-3\\.1\\.0\\.swu already has version 3\\.1\\.0")' \
    "the conflict names the set by its file name"
expect_jq '.detail | test("software [0-9]") | not' "and not by its number"

finish
