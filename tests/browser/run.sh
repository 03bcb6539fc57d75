#!/usr/bin/env bash
# Browser tests of the dashboard: Playwright (playwright-core from npm)
# drives Debian's chromium, headless, against the real daemon.
#
#   tests/browser/run.sh            (FALCONET=build/test/falconet by default)
#
# Installs what is missing: nodejs and npm, chromium (apt-get, as root) and
# playwright-core (npm ci in tests/browser).  Starts falconet with
# ui.web_dir pointing at this repository's web/, runs suite.mjs with node,
# prints "ok - ..." / "not ok - ..." per check and ends with
# "N passed, N failed".  Screenshots: build/test/screenshots/ (SCREENSHOTS);
# UPDATE_DOCS=1 also copies the ones the README shows to docs/screenshots/.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 2

if [ -z "${FALCONET:-}" ]; then
	if [ -x build/test/falconet ]; then
		FALCONET=$ROOT/build/test/falconet
	else
		FALCONET=$ROOT/build/falconet
	fi
fi
case $FALCONET in /*) ;; *) FALCONET=$ROOT/$FALCONET ;; esac
if [ -z "${MKSWU:-}" ]; then
	for m in "$(dirname "$FALCONET")/tools/mkswu" build/test/tools/mkswu build/tools/mkswu; do
		if [ -x "$m" ]; then
			MKSWU=$m
			break
		fi
	done
fi
export FALCONET MKSWU=${MKSWU:-}

early_fail()
{
	echo "not ok - $1"
	echo "0 passed, 1 failed"
	exit 1
}

[ -x "$FALCONET" ] || early_fail "no falconet binary at $FALCONET (run make first)"
[ -n "$MKSWU" ] && [ -x "$MKSWU" ] || early_fail "no mkswu (make test-build builds build/test/tools/mkswu)"

# apt_install PKG...: install Debian packages (root only).
apt_updated=
apt_install()
{
	if [ "$(id -u)" != 0 ]; then
		echo "# missing: $*; as root, run: apt-get install -y $*"
		return 1
	fi
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null 2>&1
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	apt_install nodejs npm || early_fail "nodejs and npm are required"
fi
# playwright-core 1.65 needs Node.js 20 or newer (the machines have it;
# Debian 12's own nodejs package is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || early_fail "Node.js >= 20 is required for playwright-core (found $(node --version 2>/dev/null))"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	apt_install chromium || early_fail "chromium is required ($CHROMIUM)"
fi
export CHROMIUM
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ] ||
    [ ! -f "$HERE/node_modules/axe-core/axe.min.js" ]; then
	(
		cd "$HERE" &&
		    { npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
		      npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1; }
	) || early_fail "npm could not install playwright-core and axe-core"
fi

# The dashboard as it is served in production: each text file with its
# gzip copy (make web-gz), so that the tests see the compressed answers.
make -s -C "$ROOT" web-gz >/dev/null || early_fail "make web-gz failed"

# The daemon, through the HTTP tests' helpers (temp dir, settings, free
# port, sanitizer checks on exit).
. "$ROOT/tests/http/lib.sh"

start_server "ui:
  web_dir: $ROOT/web"

SHOTS=${SCREENSHOTS:-$ROOT/build/test/screenshots}
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

RESULT='^[0-9]+ passed, [0-9]+ failed$'
BASE=$BASE SERVER_LOG="$T/server.log:$T/server.out" SCREENSHOTS=$SHOTS \
    timeout -k 5 "${BROWSER_TIMEOUT:-300}" node "$HERE/suite.mjs" 2>&1 |
    tee "$T/browser.out" | grep -avE "$RESULT"
line=$(grep -aE "$RESULT" "$T/browser.out" | tail -n 1)
if [ -n "$line" ]; then
	PASSED=$((PASSED + ${line%% passed*}))
	f=${line#*passed, }
	FAILED=$((FAILED + ${f%% failed}))
else
	fail "the browser suite printed its result" "$(tail -n 3 "$T/browser.out" | tr '\n' ' ')"
fi

if [ -n "${UPDATE_DOCS:-}" ]; then
	mkdir -p "$ROOT/docs/screenshots"
	for name in devices device rollouts software devices-dark device-dark phone-devices login; do
		f=$(ls "$SHOTS"/[0-9][0-9]-"$name".png 2>/dev/null | head -n 1)
		[ -n "$f" ] && cp "$f" "$ROOT/docs/screenshots/$name.png"
	done
fi

finish
