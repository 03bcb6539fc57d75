#!/usr/bin/env bash
# External artifacts: a module's file hosted elsewhere, given to devices as
# its URL.  Without fetch the size and hashes are stored as given; with
# fetch the server reads the URL once (from a local origin server this
# test runs) to check them, fill in md5 and sha256 and read a .swu.
# Every refused one, hostile origins included (a server that hangs, a
# redirect loop, more bytes than announced, redirects to file:// and
# ftp://), leaves no artifact row and no file behind.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ -z "$PY" ]; then
	skip "external artifacts" "python3 is required for the origin server"
	finish
fi

start_server 'upload:
  fetch_timeout: 2'
TOKEN=$(make_token admin)
ART_DIR=$T/data/artifacts
TMP_DIR=$T/data/tmp

# --- the origin server ---------------------------------------------------------
mkdir -p "$T/origin"
cat >"$T/origin.py" <<'EOF'
"""A small origin for external artifacts, hostile on some paths.

  /files/NAME     the file, with its Content-Length
  /redirect/NAME  302 to /files/NAME
  /chunked/NAME   the file, chunked (no length)
  /lying/NAME     the whole file with a Content-Length 96 bytes short
  /loop           302 to itself, forever
  /to-file        302 to file:///etc/passwd
  /to-ftp         302 to ftp://127.0.0.1/x
  /hang           reads the request, never answers
  /error          500
  anything else   404
Every request path is appended to LOG.
"""
import http.server
import os
import sys
import time

ROOT, PORTFILE, LOG = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def head(self, code, headers):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()

    def reply(self, code, body=b"", headers=(), length=None):
        n = len(body) if length is None else length
        self.head(code, list(headers) + [("Content-Length", str(n))])
        self.wfile.write(body)

    def file(self, name):
        if not name or "/" in name or name.startswith("."):
            return None
        try:
            with open(os.path.join(ROOT, name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def do_GET(self):
        with open(LOG, "a") as f:
            f.write(self.path + "\n")
        kind, _, name = self.path.split("?", 1)[0][1:].partition("/")
        data = self.file(name)
        octet = [("Content-Type", "application/octet-stream")]
        if kind == "files" and data is not None:
            self.reply(200, data, octet)
        elif kind == "redirect":
            self.reply(302, headers=[("Location", "/files/" + name)])
        elif kind == "chunked" and data is not None:
            self.head(200, octet + [("Transfer-Encoding", "chunked")])
            for i in range(0, len(data), 1000):
                c = data[i:i + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        elif kind == "lying" and data is not None:
            self.reply(200, data, octet, len(data) - 96)
        elif kind == "loop":
            self.reply(302, headers=[("Location", "/loop")])
        elif kind == "to-file":
            self.reply(302, headers=[("Location", "file:///etc/passwd")])
        elif kind == "to-ftp":
            self.reply(302, headers=[("Location", "ftp://127.0.0.1/x")])
        elif kind == "hang":
            time.sleep(120)
        elif kind == "error":
            self.reply(500, b"boom\n")
        else:
            self.reply(404, b"not here\n")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
EOF
: >"$T/origin.log"
"$PY" "$T/origin.py" "$T/origin" "$T/origin.port" \
    "$T/origin.log" </dev/null >"$T/origin.out" 2>&1 &
ORIGIN_PID=$!
stop_origin()
{
	if [ -n "$ORIGIN_PID" ]; then
		kill "$ORIGIN_PID" 2>/dev/null
		wait "$ORIGIN_PID" 2>/dev/null
		ORIGIN_PID=
	fi
}
trap 'stop_origin; cleanup' EXIT
check "the origin server starts" wait_for 10 test -s "$T/origin.port"
ORIGIN=http://127.0.0.1:$(cat "$T/origin.port")

mkimg "$T/origin/img.swu" 7.0.0 '1.0' -s 24K
head -c 4096 /dev/urandom >"$T/origin/blob.bin"
head -c 20000 "$T/origin/img.swu" >"$T/origin/cut.swu"
: >"$T/origin/empty.bin"
# sums FILE: its size, sha1, md5 and sha256.
sums()
{
	echo "$(wc -c <"$1") $(sha1sum "$1" | cut -d' ' -f1)" \
	    "$(md5sum "$1" | cut -d' ' -f1) $(sha256sum "$1" | cut -d' ' -f1)"
}
read -r SIZE_img SHA1_img MD5_img SHA256_img <<<"$(sums "$T/origin/img.swu")"
read -r SIZE_blob SHA1_blob MD5_blob SHA256_blob <<<"$(sums "$T/origin/blob.bin")"
read -r SIZE_cut SHA1_cut _ _ <<<"$(sums "$T/origin/cut.swu")"
read -r _ SHA1_empty MD5_empty _ <<<"$(sums "$T/origin/empty.bin")"
curl -s -o "$T/probe" "$ORIGIN/files/blob.bin"
check "the origin serves its files" cmp -s "$T/probe" "$T/origin/blob.bin"
: >"$T/origin.log"

# nofiles: no file under tmp/ or artifacts/.
nofiles()
{
	[ "$(count_files "$TMP_DIR")" -eq 0 ] && [ "$(count_files "$ART_DIR")" -eq 0 ]
}

# ext MODULE JSON: POST an external artifact; sets EXT (its id) on 201.
ext()
{
	api_json POST "/api/v1/modules/$1/external-artifacts" "$2"
	EXT=
	[ "$STATUS" = 201 ] && EXT=$(jq -r .id <"$T/body")
	return 0
}

# none_left NAME: module $FAIL has no artifact and no file is stored.
none_left()
{
	local st=$STATUS body
	body=$(cat "$T/body")
	api GET "/api/v1/modules/$FAIL/artifacts"
	expect_json '.artifacts | length' 0 "  $1: no artifact row"
	check "  $1: no file in tmp/ or artifacts/" nofiles
	STATUS=$st
	printf '%s' "$body" >"$T/body"
}

# refused NAME JSON: a POST to module $FAIL answered 400, nothing kept.
refused()
{
	ext "$FAIL" "$2"
	expect_status 400 "$1 -> 400"
	expect_jq '(.error | type == "string") and (.detail | type == "string")' \
	    "  $1: a JSON error body"
	none_left "$1"
}

api_json POST /api/v1/modules '{"type":"os","name":"fw","version":"1.0"}'
expect_status 201 "a module for external artifacts"
MOD=$(jq -r .id <"$T/body")
api_json POST /api/v1/modules '{"type":"application","name":"refusals","version":"1"}'
FAIL=$(jq -r .id <"$T/body")
SHA1X=0123456789abcdef0123456789abcdef01234567

# --- without fetch: stored as given ---------------------------------------------
ext "$MOD" "{\"url\":\"https://cdn.example.com/fw/fw-1.0.bin\",\"size\":123456,\"sha1\":\"${SHA1X^^}\"}"
expect_status 201 "an external artifact as given"
PLAIN=$EXT
expect_json '[.filename, .size, .format, .signature, .stored, .url]' \
    '["fw-1.0.bin",123456,"file","none",false,"https://cdn.example.com/fw/fw-1.0.bin"]' \
    "  named after the URL's last segment, format file, not stored"
expect_json '.hashes' "{\"md5\":null,\"sha1\":\"$SHA1X\",\"sha256\":null}" \
    "  sha1 in lower case, md5 and sha256 unknown"
ext "$MOD" "{\"url\":\"https://cdn.example.com/get?id=5&t=x#frag\",\"filename\":\"data.tar\",\"size\":10,\"sha1\":\"$SHA1X\",\"md5\":\"$MD5_blob\",\"sha256\":\"$SHA256_blob\",\"fetch\":false}"
expect_status 201 "with a file name, md5 and sha256 given"
expect_json '[.filename, .hashes.md5, .hashes.sha256, .url]' \
    "[\"data.tar\",\"$MD5_blob\",\"$SHA256_blob\",\"https://cdn.example.com/get?id=5&t=x#frag\"]"
ext "$MOD" "{\"url\":\"http://cdn.example.com/dl/pkg.ipk?token=abc\",\"size\":0,\"sha1\":\"$SHA1X\"}"
expect_status 201 "the name from a URL with a query"
expect_json .filename pkg.ipk
ext "$MOD" "{\"url\":\"http://mirror.example.com/fw/fw-1.0.bin\",\"size\":1,\"sha1\":\"$SHA1X\"}"
expect_status 409 "a second artifact of the same name -> 409"
expect_is_error
URL2048="http://cdn.example.com/$(head -c $((2048 - 29)) /dev/zero | tr '\0' p)/x.bin"
ext "$MOD" "{\"url\":\"$URL2048\",\"size\":1,\"sha1\":\"$SHA1X\"}"
expect_status 201 "a URL of 2048 characters"
api DELETE "/api/v1/modules/$MOD/artifacts/$EXT"
expect_status 204 "delete it"
api_json POST /api/v1/modules/999999/external-artifacts "{\"url\":\"http://x/y.bin\",\"size\":1,\"sha1\":\"$SHA1X\"}"
expect_status 404 "an unknown module -> 404"

OK="\"size\":1,\"sha1\":\"$SHA1X\""
refused "ftp://" "{\"url\":\"ftp://cdn.example.com/x.bin\",$OK}"
refused "file://" "{\"url\":\"file:///etc/passwd\",$OK,\"filename\":\"passwd\"}"
refused "no scheme" "{\"url\":\"cdn.example.com/x.bin\",$OK}"
refused "a relative URL" "{\"url\":\"/x.bin\",$OK}"
refused "a space in the URL" "{\"url\":\"http://cdn.example.com/a b.bin\",$OK,\"filename\":\"ab.bin\"}"
refused "a newline in the URL" "{\"url\":\"http://cdn.example.com/a\\nb.bin\",$OK,\"filename\":\"ab.bin\"}"
refused "non-ASCII in the URL" "{\"url\":\"http://cdn.example.com/\u00e9.bin\",$OK,\"filename\":\"e.bin\"}"
refused "a URL of 2049 characters" "{\"url\":\"${URL2048/x.bin/xy.bin}\",$OK}"
refused "a URL of 10000 characters" "{\"url\":\"http://cdn.example.com/$(head -c 10000 /dev/zero | tr '\0' p)\",$OK,\"filename\":\"p.bin\"}"
refused "a URL ending in / without a file name" "{\"url\":\"http://cdn.example.com/dir/\",$OK}"
refused "a URL that is only a host" "{\"url\":\"http://cdn.example.com\",$OK}"
refused "file name ../x" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"filename\":\"../x\"}"
refused "file name .hidden" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"filename\":\".hidden\"}"
refused "a URL whose last segment is not a plain name" "{\"url\":\"http://cdn.example.com/a%20b.bin\",$OK}"
refused "a missing url" "{$OK}"
refused "a missing sha1" '{"url":"http://cdn.example.com/x.bin","size":1}'
refused "a missing size" "{\"url\":\"http://cdn.example.com/x.bin\",\"sha1\":\"$SHA1X\"}"
refused "a negative size" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":-1,\"sha1\":\"$SHA1X\"}"
refused "a size as a string" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":\"1\",\"sha1\":\"$SHA1X\"}"
refused "a size over upload.max_size" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":5000000000000,\"sha1\":\"$SHA1X\"}"
refused "a sha1 of 39 digits" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":1,\"sha1\":\"${SHA1X:1}\"}"
refused "a sha1 of 41 digits" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":1,\"sha1\":\"${SHA1X}0\"}"
refused "a sha1 that is not hex" "{\"url\":\"http://cdn.example.com/x.bin\",\"size\":1,\"sha1\":\"g${SHA1X:1}\"}"
refused "an md5 that is not 32 digits" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"md5\":\"${MD5_blob:1}\"}"
refused "an md5 that is not hex" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"md5\":\"z${MD5_blob:1}\"}"
refused "a sha256 of 63 digits" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"sha256\":\"${SHA256_blob:1}\"}"
refused "a sha256 that is not hex" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"sha256\":\"-${SHA256_blob:1}\"}"
refused "fetch not a boolean" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"fetch\":\"yes\"}"
refused "an unknown field" "{\"url\":\"http://cdn.example.com/x.bin\",$OK,\"path\":\"/etc\"}"
check "nothing reached the origin yet" [ ! -s "$T/origin.log" ]

# --- with fetch: checked against what the URL serves ----------------------------
ext "$MOD" "{\"url\":\"$ORIGIN/files/img.swu\",\"size\":$SIZE_img,\"sha1\":\"$SHA1_img\",\"fetch\":true}"
expect_status 201 "fetch a .swu"
expect_json '[.filename, .size, .format, .stored, .url]' \
    "[\"img.swu\",$SIZE_img,\"swu\",false,\"$ORIGIN/files/img.swu\"]" \
    "  read as swu; the URL kept, no copy stored"
expect_json '.hashes' "{\"md5\":\"$MD5_img\",\"sha1\":\"$SHA1_img\",\"sha256\":\"$SHA256_img\"}" \
    "  md5 and sha256 filled in"
expect_jq '(.info.signed == true) and (.info.entries | type == "number")' \
    "  its info: signed, entries"
expect_json .signature unchecked "  its signature seen"
check "  no copy left in tmp/ or artifacts/" nofiles
ext "$MOD" "{\"url\":\"$ORIGIN/redirect/blob.bin\",\"filename\":\"blob.bin\",\"size\":$SIZE_blob,\"sha1\":\"${SHA1_blob^^}\",\"md5\":\"$MD5_blob\",\"fetch\":true}"
expect_status 201 "fetch a plain file through a redirect, with md5 given"
expect_json '[.format, .hashes.sha1, .hashes.sha256, .url]' \
    "[\"file\",\"$SHA1_blob\",\"$SHA256_blob\",\"$ORIGIN/redirect/blob.bin\"]" \
    "  format file, sha256 filled in, the URL as given"
ext "$MOD" "{\"url\":\"$ORIGIN/chunked/blob.bin\",\"filename\":\"blob-chunked.bin\",\"size\":$SIZE_blob,\"sha1\":\"$SHA1_blob\",\"fetch\":true}"
expect_status 201 "fetch a chunked answer of the right length"
ext "$MOD" "{\"url\":\"$ORIGIN/files/empty.bin\",\"size\":0,\"sha1\":\"$SHA1_empty\",\"fetch\":true}"
expect_status 201 "fetch an empty file announced as 0 bytes"
expect_json .hashes.md5 "$MD5_empty"

# Each refused fetch: 400, no row, no file.
refused "a wrong sha1" "{\"url\":\"$ORIGIN/files/blob.bin\",\"size\":$SIZE_blob,\"sha1\":\"$SHA1X\",\"fetch\":true}"
refused "a wrong size (larger)" "{\"url\":\"$ORIGIN/files/blob.bin\",\"size\":$((SIZE_blob + 1)),\"sha1\":\"$SHA1_blob\",\"fetch\":true}"
refused "a wrong md5" "{\"url\":\"$ORIGIN/files/blob.bin\",\"size\":$SIZE_blob,\"sha1\":\"$SHA1_blob\",\"md5\":\"$MD5_img\",\"fetch\":true}"
refused "a wrong sha256" "{\"url\":\"$ORIGIN/files/blob.bin\",\"size\":$SIZE_blob,\"sha1\":\"$SHA1_blob\",\"sha256\":\"$SHA256_img\",\"fetch\":true}"
refused "a Content-Length larger than size" "{\"url\":\"$ORIGIN/files/blob.bin\",\"size\":$((SIZE_blob - 96)),\"sha1\":\"$SHA1_blob\",\"fetch\":true}"
check "  the error says so ($(jq -r .detail <"$T/body" | cut -c1-70))" \
    sh -c "jq -r .detail '$T/body' | grep -q 'more than'"
refused "a chunked answer longer than size" "{\"url\":\"$ORIGIN/chunked/blob.bin\",\"size\":$((SIZE_blob - 96)),\"sha1\":\"$SHA1_blob\",\"fetch\":true}"
check "  the error says so ($(jq -r .detail <"$T/body" | cut -c1-70))" \
    sh -c "jq -r .detail '$T/body' | grep -q 'more than'"
refused "a Content-Length that understates what is sent" "{\"url\":\"$ORIGIN/lying/blob.bin\",\"size\":$((SIZE_blob - 96)),\"sha1\":\"$SHA1_blob\",\"fetch\":true}"
refused "bytes to a file announced as empty" "{\"url\":\"$ORIGIN/chunked/blob.bin\",\"size\":0,\"sha1\":\"$SHA1_empty\",\"fetch\":true}"
refused "a fetched .swu cut short" "{\"url\":\"$ORIGIN/files/cut.swu\",\"size\":$SIZE_cut,\"sha1\":\"$SHA1_cut\",\"fetch\":true}"
: >"$T/origin.log"
refused "a redirect loop" "{\"url\":\"$ORIGIN/loop\",\"filename\":\"loop.bin\",$OK,\"fetch\":true}"
hits=$(grep -c '^/loop' "$T/origin.log")
check "  at most 5 redirects followed ($hits requests)" [ "$hits" -le 6 ]
refused "a redirect to file:///etc/passwd" "{\"url\":\"$ORIGIN/to-file\",\"filename\":\"passwd\",$OK,\"fetch\":true}"
refused "a redirect to ftp://" "{\"url\":\"$ORIGIN/to-ftp\",\"filename\":\"x.bin\",$OK,\"fetch\":true}"
# (size 1: the error page is longer than the file announced; the answer
# must still name the status, not blame the length.)
refused "a 404" "{\"url\":\"$ORIGIN/files/missing.bin\",$OK,\"fetch\":true}"
check "  the error names the status ($(jq -r .detail <"$T/body" | cut -c1-70))" \
    sh -c "jq -r .detail '$T/body' | grep -qw 404"
refused "a 404 with a size the page fits in" "{\"url\":\"$ORIGIN/files/missing.bin\",\"size\":4096,\"sha1\":\"$SHA1X\",\"fetch\":true}"
check "  the error names the status ($(jq -r .detail <"$T/body" | cut -c1-70))" \
    sh -c "jq -r .detail '$T/body' | grep -qw 404"
refused "a 500" "{\"url\":\"$ORIGIN/error\",\"filename\":\"e.bin\",$OK,\"fetch\":true}"
check "  the error names the status ($(jq -r .detail <"$T/body" | cut -c1-70))" \
    sh -c "jq -r .detail '$T/body' | grep -qw 500"
refused "a port nobody listens on" "{\"url\":\"http://127.0.0.1:1/x.bin\",$OK,\"fetch\":true}"
(
	sleep 0.7
	curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' \
	    -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/modules/$MOD" \
	    >"$T/during"
) &
DURING=$!
t0=$(date +%s%N)
refused "a server that never answers" "{\"url\":\"$ORIGIN/hang\",\"filename\":\"hang.bin\",$OK,\"fetch\":true}"
ms=$((($(date +%s%N) - t0) / 1000000))
check "  given up after upload.fetch_timeout, 2 s ($ms ms)" \
    [ "$ms" -ge 1500 -a "$ms" -lt 6000 ]
wait "$DURING"
read -r code secs <"$T/during"
check "  meanwhile the API answers at once ($code in $secs s)" \
    [ "$code" = 200 -a "${secs%%.*}" -lt 1 ]
alive "the refused fetches"

# --- what devices get -------------------------------------------------------------
api GET "/api/v1/modules/$MOD/artifacts"
expect_json '[.artifacts[].filename]' \
    '["fw-1.0.bin","data.tar","pkg.ipk","img.swu","blob.bin","blob-chunked.bin","empty.bin"]' \
    "the module holds exactly the accepted ones"
api GET "/api/v1/modules/$MOD/artifacts/$PLAIN/file"
expect_status 404 "the management API has no file to give -> 404"
check "  and says where it is" sh -c "jq -r .detail '$T/body' | grep -q 'cdn.example.com'"

api_json POST /api/v1/distributions "{\"name\":\"external\",\"version\":\"1.0\",\"type\":\"os\",\"modules\":[$MOD]}"
expect_status 201 "a set of the module"
SET=$(jq -r .id <"$T/body")
expect_json .complete true "  complete"
ddi GET dev-e
api_json PATCH /api/v1/devices/dev-e "{\"mode\":\"assigned\",\"assigned_distribution_id\":$SET}"
expect_status 200 "assigned to dev-e"
ddi GET dev-e
DB=$(link deploymentBase)
check "dev-e is offered it" [ -n "$DB" ]
req GET "$DB"
expect_status 200 "deploymentBase"
cp "$T/body" "$T/deployment.json"
A0='.deployment.chunks[0].artifacts[0]'
expect_json "$A0.filename" fw-1.0.bin
expect_json "$A0._links" \
    '{"download":{"href":"https://cdn.example.com/fw/fw-1.0.bin"},"download-http":{"href":"https://cdn.example.com/fw/fw-1.0.bin"}}' \
    "download and download-http are the URL itself, no md5sum links"
expect_json "$A0.hashes | [.sha1, .md5, .sha256]" "[\"$SHA1X\",null,null]" \
    "  hashes: the sha1 only"
expect_json "$A0.size" 123456 "  the size as given"
expect_json '[.deployment.chunks[0].artifacts[] | select(.filename == "img.swu") | ._links.download.href, .hashes.md5]' \
    "[\"$ORIGIN/files/img.swu\",\"$MD5_img\"]" "the fetched one: its URL and filled-in md5"
DDI=$BASE/DEFAULT/controller/v1/dev-e
req GET "$DDI/softwaremodules/$MOD/artifacts"
expect_status 200 "dev-e's artifact list"
expect_json 'map(select(.filename == "fw-1.0.bin") | ._links.download.href)[0]' \
    https://cdn.example.com/fw/fw-1.0.bin "  gives the URL"
req GET "$DDI/softwaremodules/$MOD/artifacts/fw-1.0.bin"
expect_status 404 "downloading an external artifact from here -> 404"
req GET "$DDI/softwaremodules/$MOD/artifacts/img.swu.MD5SUM"
expect_status 404 "its MD5SUM from here -> 404"
ext "$MOD" "{\"url\":\"http://cdn.example.com/late.bin\",$OK}"
expect_status 409 "an external artifact into a module given to a device -> 409"

check "no file stored by any of it" nofiles
stop_origin
finish
