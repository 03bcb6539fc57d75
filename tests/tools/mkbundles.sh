#!/bin/sh
# Build the RAUC bundle fixtures of tests/unit/test_rauc.c into OUTDIR with
# Debian's rauc, openssl, mksquashfs and mkfs.ext4.  Touches nothing outside
# OUTDIR.  Exit 77 when a tool is missing (the test then skips).
#
#   tests/tools/mkbundles.sh OUTDIR
#
# OUTDIR gets:
#   keys/          CA, signer, other CA and its signer, an expired signer, a
#                  codeSigning-only signer, the encryption recipient
#                  (recipient.id: "issuer=..., serial=..." as rauc.c lists it)
#   NAME.raucb     the bundles below
#   NAME.info      rauc info --output-format=shell of each valid bundle
#   NAME.txt       rauc info plain output (format, verity, certificate chain)
#   crypt.key      the crypt-key of crypt.raucb, read back with openssl cms
#   plain.rootfs-head  the first 64 bytes of plain.raucb's rootfs.img
#
# Valid: plain plain-twin verity verity-twin crypt crypt-enc hooks variants
# comp-gzip comp-xz comp-zstd comp-lz4 codesign other custom big.
# Valid but refused by rauc.c: comp-lzo (libsquashfs has no LZO).
# Signed by a certificate that expired in 2020: expired.
# Crafted: wrong-root (signed verity-hash of another tree), inline-plain
# (signed manifest says plain), traversal (image
# filename ../../etc/shadow), nomanifest (plain squashfs without
# manifest.raucm), plain-verity (plain squashfs whose manifest says verity).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
for tool in rauc openssl mksquashfs mkfs.ext4 od head tail; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "$0: $tool not found" >&2
		exit 77
	}
done
mksquashfs -help 2>&1 | grep -qw lzo || {
	echo "$0: mksquashfs has no lzo" >&2
	exit 77
}

out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/work.XXXXXX")
keys=$out/keys
mkdir -p "$keys"
# rauc and openssl keep their temporary files in here too.
export TMPDIR="$work" RANDFILE="$work/rnd"

# OpenSSL CA database for signing leaf certificates with chosen dates.
cat >"$work/ca.cnf" <<'EOF'
[ca]
default_ca = c
[c]
database = $ENV::CADIR/index.txt
new_certs_dir = $ENV::CADIR
serial = $ENV::CADIR/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
x509_extensions = signer
[p]
commonName = supplied
organizationName = optional
[signer]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = codeSigning,emailProtection
[codesign]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = codeSigning
EOF

# mkca NAME SUBJECT: self-signed CA keys/NAME.pem, keys/NAME.key
mkca()
{
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=keyCertSign,cRLSign" \
	    -keyout "$keys/$1.key" -out "$keys/$1.pem" 2>/dev/null
	mkdir -p "$work/db-$1"
	: >"$work/db-$1/index.txt"
	echo 1000 >"$work/db-$1/serial"
}

# mkleaf CA NAME SUBJECT EXTENSIONS [openssl ca date options]
mkleaf()
{
	ca=$1 name=$2 subj=$3 ext=$4
	shift 4
	openssl req -newkey rsa:2048 -nodes -subj "$subj" \
	    -keyout "$keys/$name.key" -out "$work/$name.csr" 2>/dev/null
	CADIR=$work/db-$ca openssl ca -batch -notext -config "$work/ca.cnf" \
	    -cert "$keys/$ca.pem" -keyfile "$keys/$ca.key" \
	    -extensions "$ext" -in "$work/$name.csr" -out "$keys/$name.pem" \
	    "$@" 2>/dev/null
}

mkca ca "/O=falconet/CN=falconet-test-ca"
mkca other-ca "/O=elsewhere/CN=other-test-ca"
mkleaf ca signer "/O=falconet/CN=raucb-test-signer" signer -days 3650
mkleaf ca expired "/O=falconet/CN=expired-signer" signer \
    -startdate 20200101000000Z -enddate 20200102000000Z
mkleaf ca codesign "/O=falconet/CN=codesign-only-signer" codesign -days 3650
mkleaf other-ca other "/O=elsewhere/CN=other-signer" signer -days 3650
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
    -subj "/O=falconet/CN=bundle-recipient" \
    -keyout "$keys/recipient.key" -out "$keys/recipient.pem" 2>/dev/null
printf 'issuer=%s, serial=%s\n' \
    "$(openssl x509 -in "$keys/recipient.pem" -noout -issuer -nameopt oneline |
	sed 's/^issuer=//')" \
    "$(openssl x509 -in "$keys/recipient.pem" -noout -serial |
	sed 's/^serial=//')" >"$keys/recipient.id"

# Image files.  rnd FILE BYTES: random; txt FILE BYTES: compressible.
rnd()
{
	head -c "$2" /dev/urandom >"$1"
}
txt()
{
	i=0
	while [ $i -lt 64 ]; do
		echo "falconet compressible test line $i of the image"
		i=$((i + 1))
	done | head -c 4096 >"$1.part"
	: >"$1"
	n=0
	while [ $n -lt "$2" ]; do
		cat "$1.part" >>"$1"
		n=$((n + 4096))
	done
	rm -f "$1.part"
}
ext4()
{
	head -c 262144 /dev/zero >"$1"
	mkdir -p "$work/ext4root"
	echo "falconet 3.0.0" >"$work/ext4root/falconet-version"
	mkfs.ext4 -q -F -b 1024 -d "$work/ext4root" "$1" >/dev/null 2>&1
}

# bundle NAME CERT [rauc bundle options]: the directory $work/NAME (with
# its manifest.raucm) into $out/NAME.raucb.
bundle()
{
	name=$1 cert=$2
	shift 2
	rm -f "$out/$name.raucb"
	rauc bundle --cert="$keys/$cert.pem" --key="$keys/$cert.key" "$@" \
	    "$work/$name" "$out/$name.raucb" >/dev/null 2>&1
}

# info NAME KEYRING [OPTION]: rauc info of a valid bundle, shell and plain
# output.  rauc info checks the smime_sign purpose, so a codeSigning-only
# signer needs --no-verify (rauc.c verifies with purpose any).
info()
{
	rauc info --keyring="$keys/$2.pem" ${3:-} --output-format=shell \
	    "$out/$1.raucb" >"$out/$1.info" 2>/dev/null
	rauc info --keyring="$keys/$2.pem" ${3:-} "$out/$1.raucb" \
	    >"$out/$1.txt" 2>/dev/null
}

# be64 N: N as 8 bytes big-endian.
be64()
{
	s=56
	while [ $s -ge 0 ]; do
		printf "\\$(printf '%03o' $((($1 >> s) & 255)))"
		s=$((s - 8))
	done
}

# Trailer arithmetic of bundle $1: sets F, S, P.
layout()
{
	F=$(wc -c <"$1")
	S=$(tail -c 8 "$1" | od -An -tu8 --endian=big | tr -d ' ')
	P=$((F - 8 - S))
}

# cms_manifest BUNDLE OUT: the manifest signed in an inline CMS.
cms_manifest()
{
	layout "$1"
	tail -c $((S + 8)) "$1" | head -c "$S" >"$work/cms.der"
	openssl cms -verify -binary -inform DER -in "$work/cms.der" -noverify \
	    -out "$2" 2>/dev/null
}

# resign SRC MANIFEST CERT OUT: payload of SRC, MANIFEST signed inline.
resign()
{
	layout "$1"
	openssl cms -sign -binary -nodetach -nosmimecap -md sha256 \
	    -outform DER -signer "$keys/$3.pem" -inkey "$keys/$3.key" \
	    -in "$2" -out "$work/new.der"
	head -c "$P" "$1" >"$out/$4.raucb"
	cat "$work/new.der" >>"$out/$4.raucb"
	be64 "$(wc -c <"$work/new.der")" >>"$out/$4.raucb"
}

# detached DIR CERT OUT: a plain bundle made by hand from DIR.
detached()
{
	mksquashfs "$1" "$work/sqfs" -all-root -noappend -no-progress \
	    -no-xattrs >/dev/null
	openssl cms -sign -binary -nosmimecap -md sha256 -outform DER \
	    -signer "$keys/$2.pem" -inkey "$keys/$2.key" \
	    -in "$work/sqfs" -out "$work/new.der"
	cat "$work/sqfs" "$work/new.der" >"$out/$3.raucb"
	be64 "$(wc -c <"$work/new.der")" >>"$out/$3.raucb"
	rm -f "$work/sqfs"
}

# manifest NAME FORMAT: start $work/NAME/manifest.raucm.
manifest()
{
	mkdir -p "$work/$1"
	{
		echo "[update]"
		echo "compatible=falconet-test-board"
		echo "version=1.1.0"
		echo "description=falconet $1 bundle"
		echo "build=20261201"
		echo
		echo "[bundle]"
		echo "format=$2"
	} >"$work/$1/manifest.raucm"
}

# image NAME GROUP FILE [KEY=VALUE ...]: add an image group.
image()
{
	name=$1 group=$2 file=$3
	shift 3
	{
		echo
		echo "[image.$group]"
		echo "filename=$file"
		for kv in "$@"; do
			echo "$kv"
		done
	} >>"$work/$name/manifest.raucm"
}

for n in plain plain-twin; do
	manifest $n plain
	rnd "$work/$n/rootfs.img" 16384
	ext4 "$work/$n/appfs.ext4"
	image $n rootfs rootfs.img
	image $n appfs appfs.ext4
	bundle $n signer
done
info plain ca
# Where the (uncompressed, random) image lies: its first bytes.
head -c 64 "$work/plain/rootfs.img" >"$out/plain.rootfs-head"

for n in verity verity-twin; do
	manifest $n verity
	rnd "$work/$n/rootfs.img" 20480
	rnd "$work/$n/appfs.img" 12288
	image $n rootfs rootfs.img
	image $n appfs appfs.img
	bundle $n signer
done
info verity ca

manifest crypt crypt
rnd "$work/crypt/rootfs.img" 12288
image crypt rootfs rootfs.img
bundle crypt signer
info crypt ca
cms_manifest "$out/crypt.raucb" "$work/crypt.mf"
sed -n 's/^crypt-key=//p' "$work/crypt.mf" >"$out/crypt.key"
rm -f "$out/crypt-enc.raucb"
rauc encrypt --keyring="$keys/ca.pem" --to="$keys/recipient.pem" \
    "$out/crypt.raucb" "$out/crypt-enc.raucb" >/dev/null 2>&1

manifest hooks verity
rnd "$work/hooks/rootfs.img" 8192
rnd "$work/hooks/appfs.img" 8192
printf '#!/bin/sh\nexit 0\n' >"$work/hooks/hook.sh"
cat >>"$work/hooks/manifest.raucm" <<'EOF'

[hooks]
filename=hook.sh
hooks=install-check

[handler]
filename=hook.sh
args=--verbose
EOF
image hooks rootfs rootfs.img "hooks=pre-install;post-install"
image hooks appfs.variant-x appfs.img "adaptive=block-hash-index"
bundle hooks signer
info hooks ca

manifest variants plain
rnd "$work/variants/rootfs-a.img" 4096
rnd "$work/variants/rootfs-b.img" 8192
rnd "$work/variants/appfs.img" 4096
rnd "$work/variants/boot.img" 1024
image variants rootfs.variant-a rootfs-a.img
image variants rootfs.variant-b rootfs-b.img
image variants appfs appfs.img
image variants bootloader boot.img
bundle variants signer
info variants ca

for comp in gzip xz zstd lz4 lzo; do
	manifest comp-$comp plain
	txt "$work/comp-$comp/rootfs.img" 65536
	image comp-$comp rootfs rootfs.img
	bundle comp-$comp signer --mksquashfs-args="-comp $comp"
	info comp-$comp ca
done

manifest expired plain
rnd "$work/expired/rootfs.img" 4096
image expired rootfs rootfs.img
bundle expired expired

manifest codesign plain
rnd "$work/codesign/rootfs.img" 4096
image codesign rootfs rootfs.img
bundle codesign codesign
info codesign ca --no-verify

manifest other verity
rnd "$work/other/rootfs.img" 8192
image other rootfs rootfs.img
bundle other other
info other other-ca

manifest big verity
rnd "$work/big/rootfs.img" 67108864
image big rootfs rootfs.img
bundle big signer --mksquashfs-args="-noI -noD -noF -noX"
rm -f "$work/big/rootfs.img"

# Signed manifests written by hand on the payload of verity.raucb.
cms_manifest "$out/verity.raucb" "$work/verity.mf"
{
	cat "$work/verity.mf"
	printf '\n[meta.falconet]\nchannel=beta\n'
	printf '\n[rollout]\nhint=anything\n'
	printf '\n# a comment\n[update]\nmin-rauc-version=1.8\n'
} >"$work/custom.mf"
resign "$out/verity.raucb" "$work/custom.mf" signer custom
cms_manifest "$out/verity-twin.raucb" "$work/twin.mf"
sed "s/^verity-hash=.*/$(grep '^verity-hash=' "$work/twin.mf")/" \
    "$work/verity.mf" >"$work/wrong-root.mf"
resign "$out/verity.raucb" "$work/wrong-root.mf" signer wrong-root
sed 's/^format=verity$/format=plain/' "$work/verity.mf" >"$work/inline-plain.mf"
resign "$out/verity.raucb" "$work/inline-plain.mf" signer inline-plain
sed 's|^filename=rootfs.img$|filename=../../etc/shadow|' "$work/verity.mf" \
    >"$work/traversal.mf"
resign "$out/verity.raucb" "$work/traversal.mf" signer traversal

# Plain bundles made by hand.
mkdir -p "$work/nomanifest"
rnd "$work/nomanifest/rootfs.img" 4096
detached "$work/nomanifest" signer nomanifest
mkdir -p "$work/plain-verity"
rnd "$work/plain-verity/rootfs.img" 4096
printf '[update]\ncompatible=falconet-test-board\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=rootfs.img\nsize=4096\nsha256=%s\n' \
    "$(sha256sum "$work/plain-verity/rootfs.img" | cut -d' ' -f1)" \
    >"$work/plain-verity/manifest.raucm"
detached "$work/plain-verity" signer plain-verity

rm -rf "$work"
