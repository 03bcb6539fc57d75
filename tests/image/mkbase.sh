#!/usr/bin/env bash
# Make a Debian 12 base image where debian:12-slim cannot be pulled:
#
#   tests/image/mkbase.sh ENGINE NAME      (ENGINE: podman or docker)
#
# mmdebstrap --variant=minbase bookworm from this machine's own apt sources
# (the Debian bookworm entries of /etc/apt/sources.list*, so a local mirror
# or proxy is used as apt uses it), trimmed as Docker Hub's slim images are
# (debuerreotype-slimify): no documentation but the copyright files, no man
# or info pages, no locales but locale.alias, apt's caches and lists
# removed, and apt configured to keep them so.  The tarball is imported
# under NAME, which the Dockerfile takes as its BASE_IMAGE.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 podman|docker NAME" >&2
	exit 2
fi
engine=$1 name=$2

if ! command -v mmdebstrap >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends mmdebstrap >/dev/null
	else
		echo "$0: mmdebstrap is missing; as root: apt-get install -y mmdebstrap" >&2
		exit 1
	fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The bookworm entries of the machine's sources, one-line and deb822 alike;
# other repositories (nodesource, vendors) stay out of the image.
sources=$work/debian.sources
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	awk '$1 == "deb" {
		i = 2
		if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
		if ($(i + 1) ~ /^bookworm(-updates|-security)?$/) print
	}' "$f"
done >"$work/one-line.list"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	# Stanzas are separated by blank lines; keep those of type deb
	# whose suites are bookworm's and that are not disabled.
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	{
		keep = 0; deb = 0; off = 0
		n = split($0, l, "\n")
		for (j = 1; j <= n; j++) {
			if (l[j] ~ /^Types:/ && l[j] ~ /[ \t]deb([ \t]|$)/) deb = 1
			if (l[j] ~ /^Suites:/ && l[j] ~ /[ \t]bookworm(-updates|-security)?([ \t]|$)/) keep = 1
			if (l[j] ~ /^Enabled:[ \t]*no/) off = 1
		}
		if (keep && deb && !off) {
			out = ""
			for (j = 1; j <= n; j++)
				if (l[j] !~ /^#/) out = out l[j] "\n"
			printf "%s\n", out
		}
	}' "$f"
done >"$sources"
mirrors=()
[ -s "$sources" ] && mirrors+=("$sources")
if [ -s "$work/one-line.list" ]; then
	mirrors+=("$work/one-line.list")
fi
if [ ${#mirrors[@]} -eq 0 ]; then
	mirrors=("http://deb.debian.org/debian")
fi

# debuerreotype-slimify's rules, and the apt settings of Docker's images.
slim=(
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/linda/*'
	--dpkgopt='path-exclude=/usr/share/lintian/overrides/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--aptopt='Acquire::Languages "none"'
	--aptopt='Acquire::GzipIndexes "true"'
	--aptopt='APT::AutoRemove::SuggestsImportant "false"'
	--aptopt='Dir::Cache::pkgcache ""'
	--aptopt='Dir::Cache::srcpkgcache ""'
	--aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
	--aptopt='APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
)
# The merged-usr hook lays out /usr as debootstrap does, without the
# usrmerge package (and the perl it would leave behind).
mmdebstrap --quiet --variant=minbase --format=tar "${slim[@]}" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/cache/ldconfig/aux-cache' \
    --customize-hook='find "$1"/var/log -type f -exec truncate -s 0 {} +' \
    bookworm "$work/rootfs.tar" "${mirrors[@]}"
if ! "$engine" import --change 'CMD ["bash"]' "$work/rootfs.tar" "$name" \
    >"$work/import.log" 2>&1; then
	tail -n 5 "$work/import.log" >&2
	exit 1
fi
echo "$0: made $name ($(du -h "$work/rootfs.tar" | cut -f1) uncompressed)" >&2
