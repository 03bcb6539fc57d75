#!/usr/bin/env bash
# SIGHUP re-reads tls.cert and tls.key: the next new connection gets the
# new certificate while an open keep-alive connection keeps working on the
# old one; a broken pair on reload keeps the old certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs.sh"

if ! have openssl || ! have python3; then
	skip "certificate reload" "openssl and python3 are needed"
	finish
fi

certs_ca ca
certs_server one ca
certs_server two ca
certs_key stray
cp "$CERTS/one-chain.crt" "$CERTS/live.crt"
cp "$CERTS/one.key" "$CERTS/live.key"
export CURL_CA_BUNDLE=$CERTS/ca.crt

# fp NAME: the SHA-256 fingerprint of NAME.crt as Python prints it.
fp()
{
	openssl x509 -in "$CERTS/$1.crt" -outform DER | sha256sum | cut -d' ' -f1
}

# served: the fingerprint the server presents to a new connection.
served()
{
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -CAfile "$CERTS/ca.crt" 2>/dev/null | openssl x509 -outform DER |
	    sha256sum | cut -d' ' -f1
}

start_server "tls:
  cert: $CERTS/live.crt
  key: $CERTS/live.key"
BASE=https://127.0.0.1:$PORT
check "the first certificate is served" [ "$(served)" = "$(fp one)" ]

mkdir -p "$T/ka"
python3 "$(dirname "$0")/tls_keepalive.py" "$PORT" "$CERTS/ca.crt" "$T/ka" \
    >"$T/ka/out" 2>&1 &
KA_PID=$!
check "a keep-alive connection is open" wait_for 10 test -e "$T/ka/ready"

cp "$CERTS/two-chain.crt" "$CERTS/live.crt"
cp "$CERTS/two.key" "$CERTS/live.key"
kill -HUP "$SERVER_PID"
check "SIGHUP: the reload is logged" wait_for 5 \
    grep -q 'SIGHUP: reloaded the certificate' "$T/server.log"
touch "$T/ka/go"
wait "$KA_PID"
check "the keep-alive client finished" [ $? -eq 0 ]
check "before: the old certificate" grep -qx "old $(fp one)" "$T/ka/out"
check "a new connection after SIGHUP gets the new certificate" \
    grep -qx "new $(fp two)" "$T/ka/out"
check "the open connection kept working, on its old certificate, same socket" \
    grep -qx "kept $(fp one) 200 same-socket" "$T/ka/out"
[ "$FAILED" -gt 0 ] && sed 's/^/#   /' "$T/ka/out"
check "openssl sees the new certificate too" [ "$(served)" = "$(fp two)" ]

# A key that does not match: the old pair stays.
cp "$CERTS/stray.key" "$CERTS/live.key"
kill -HUP "$SERVER_PID"
check "SIGHUP with a mismatched key: logged, with the file" wait_for 5 \
    grep -q "SIGHUP: kept the old certificate: tls.key $CERTS/live.key: does not match" \
    "$T/server.log"
check "... and the old certificate is still served" [ "$(served)" = "$(fp two)" ]
rm "$CERTS/live.crt"
kill -HUP "$SERVER_PID"
check "SIGHUP with a missing certificate: logged" wait_for 5 \
    grep -q "SIGHUP: kept the old certificate: tls.cert $CERTS/live.crt: cannot open" \
    "$T/server.log"
req GET /healthz
expect_status 200 "... and HTTPS still answers"
finish
