#!/usr/bin/env bash
# The dashboard's files are sent gzip-compressed to a browser that takes
# gzip: a FILE.gz beside FILE (make web-gz) is sent with Content-Encoding:
# gzip, its own ETag and Vary: Accept-Encoding; without gzip in
# Accept-Encoding (or with q=0) the file itself is sent.  A conditional GET
# with either ETag is 304; a copy older than its file, a symbolic link or
# a directory named FILE.gz is never sent; FILE.gz itself is not served.
. "$(dirname "$0")/lib.sh"

W=$T/web
mkdir -p "$W/js"
# A few KiB of text that gzip shrinks.
for i in $(seq 1 200); do
	echo "export const line$i = 'the dashboard module, line $i';"
done >"$W/js/app.js"
echo '<!doctype html><title>x</title>' >"$W/index.html"
printf 'body { color: red; }\n' >"$W/app.css"
gzip -9 -n -c "$W/js/app.js" >"$W/js/app.js.gz"
ORIG=$(wc -c <"$W/js/app.js")
GZ=$(wc -c <"$W/js/app.js.gz")

start_server "ui:
  web_dir: $W"

req GET /ui/js/app.js -H 'Accept-Encoding: gzip, deflate, br'
expect_status 200 "GET app.js taking gzip"
expect_header Content-Encoding gzip
expect_header Vary Accept-Encoding
expect_header Content-Length "$GZ" "the gzip copy's length is sent ($GZ of $ORIG bytes)"
check "the body is the gzip copy, which inflates to the file" \
    cmp -s <(gzip -dc <"$T/body") "$W/js/app.js"
ETAG_GZ=$(header ETag)

req GET /ui/js/app.js
expect_status 200 "GET app.js without Accept-Encoding"
expect_no_header Content-Encoding
expect_header Vary Accept-Encoding
expect_header Content-Length "$ORIG" "the file itself is sent ($ORIG bytes)"
check "the body is the file" cmp -s "$T/body" "$W/js/app.js"
ETAG_ID=$(header ETag)
check "the two encodings have different ETags ($ETAG_ID, $ETAG_GZ)" \
    test -n "$ETAG_ID" -a -n "$ETAG_GZ" -a "$ETAG_ID" != "$ETAG_GZ"

for ae in 'gzip;q=0' 'gzip;q=0.0, identity' 'br, deflate' 'x-gzipped' 'identity;q=1, *;q=0'; do
	req GET /ui/js/app.js -H "Accept-Encoding: $ae"
	expect_no_header Content-Encoding "Accept-Encoding: $ae -> not gzip"
done
for ae in 'GZIP' 'deflate, gzip;q=0.5' '*' 'x-gzip' 'br;q=1.0, gzip ; q=0.001'; do
	req GET /ui/js/app.js -H "Accept-Encoding: $ae"
	expect_header Content-Encoding gzip "Accept-Encoding: $ae -> gzip"
done
req GET /ui/js/app.js -H "Accept-Encoding: $(printf 'x%.0s' $(seq 1 300)), gzip"
expect_status 200 "an Accept-Encoding of 300 bytes is answered"
expect_no_header Content-Encoding "an overlong Accept-Encoding is not read: no gzip"

# Conditional GETs: each encoding's ETag is 304 in that encoding.
req GET /ui/js/app.js -H 'Accept-Encoding: gzip' -H "If-None-Match: $ETAG_GZ"
expect_status 304 "If-None-Match with the gzip ETag, taking gzip -> 304"
expect_header Vary Accept-Encoding "a 304 says Vary too"
req GET /ui/js/app.js -H "If-None-Match: $ETAG_ID"
expect_status 304 "If-None-Match with the plain ETag, without gzip -> 304"
req GET /ui/js/app.js -H 'Accept-Encoding: gzip' -H "If-None-Match: $ETAG_ID"
expect_status 200 "the plain ETag does not match the gzip answer -> 200"
expect_header Content-Encoding gzip

req HEAD /ui/js/app.js -H 'Accept-Encoding: gzip'
expect_status 200 "HEAD taking gzip"
expect_header Content-Encoding gzip "HEAD says gzip too"

# A file without a copy is sent as it is, with Vary (a copy may come).
req GET /ui/app.css -H 'Accept-Encoding: gzip'
expect_status 200 "GET app.css (no .gz beside it)"
expect_no_header Content-Encoding
expect_header Vary Accept-Encoding

# The copy itself is no file of the dashboard.
req GET /ui/js/app.js.gz
expect_status 404 "GET app.js.gz -> 404"

# An edited file whose copy was not made again: the file is sent.
touch -d '-10 seconds' "$W/js/app.js.gz"
echo "export const edited = 1;" >>"$W/js/app.js"
req GET /ui/js/app.js -H 'Accept-Encoding: gzip'
expect_no_header Content-Encoding "a copy older than its file is not sent"
check "the edited file is sent" cmp -s "$T/body" "$W/js/app.js"

# A symbolic link or a directory in the copy's place is not sent.
rm -f "$W/js/app.js.gz"
ln -s /etc/passwd "$W/js/app.js.gz"
req GET /ui/js/app.js -H 'Accept-Encoding: gzip'
expect_status 200 "a symbolic link as app.js.gz"
expect_no_header Content-Encoding "a symbolic link as the copy is not followed"
rm -f "$W/js/app.js.gz"
mkdir "$W/js/app.js.gz"
req GET /ui/js/app.js -H 'Accept-Encoding: gzip'
expect_no_header Content-Encoding "a directory as the copy is not sent"
rmdir "$W/js/app.js.gz"

# The dashboard itself: make web-gz writes a copy of every text file.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$ROOT/web/js/app.js.gz" ]; then
	start_server "ui:
  web_dir: $ROOT/web"
	total_id=0
	total_gz=0
	for f in index.html js/app.js js/dom.js js/api.js js/ui.js js/session.js \
	    js/pages/devices.js css/app.css; do
		req GET "/ui/$f" -H 'Accept-Encoding: gzip'
		expect_header Content-Encoding gzip "the dashboard's $f is sent compressed"
		total_gz=$((total_gz + $(wc -c <"$T/body")))
		total_id=$((total_id + $(wc -c <"$ROOT/web/$f")))
	done
	echo "# the Devices page's files: $total_id bytes, $total_gz compressed"
	check "compressed, they are less than half ($total_gz of $total_id bytes)" \
	    test $((total_gz * 2)) -lt "$total_id"
else
	skip "the dashboard's own copies" "no web/js/app.js.gz (make web-gz)"
fi

finish
