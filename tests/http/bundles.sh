# RAUC bundles for the HTTP tests, built at test time with Debian's rauc
# and openssl.  Sourced after lib.sh.
#
#   rauc_signer DIR CN          DIR/cert.pem and DIR/key.pem, self-signed
#   mkbundle OUT COMPAT VERSION [FORMAT [SIGNER_DIR [IMAGE_BYTES]]]
#                               a bundle with one raw rootfs.img of random
#                               bytes; FORMAT plain (default), verity or
#                               crypt; signed by SIGNER_DIR ($T/signer)

rauc_signer()
{
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" \
	    -addext "extendedKeyUsage=codeSigning,emailProtection" \
	    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

mkbundle()
{
	local out=$1 compat=$2 version=$3 format=${4:-plain}
	local signer=${5:-$T/signer} bytes=${6:-65536} dir
	dir=$(mktemp -d "$T/bundle.XXXXXX")
	head -c "$bytes" /dev/urandom >"$dir/rootfs.img"
	{
		printf '[update]\ncompatible=%s\nversion=%s\n' "$compat" "$version"
		printf 'description=test bundle %s\n\n' "$version"
		printf '[bundle]\nformat=%s\n\n' "$format"
		printf '[image.rootfs]\nfilename=rootfs.img\n'
	} >"$dir/manifest.raucm"
	rm -f "$out"
	TMPDIR=$T rauc bundle --cert="$signer/cert.pem" --key="$signer/key.pem" \
	    "$dir" "$out" >"$T/rauc-bundle.log" 2>&1 ||
	    echo "# rauc bundle failed: $(tail -2 "$T/rauc-bundle.log")"
	rm -rf "$dir"
}

# flip_byte FILE OFFSET: invert one byte in place.
flip_byte()
{
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((255 - b)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
