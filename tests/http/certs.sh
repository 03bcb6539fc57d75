# Certificates for the HTTPS tests, made with openssl in a directory of
# the test's own (CERTS, default $T/certs).  Sourced after lib.sh (or with
# T set).  Keys are EC P-256: quick to make.
#
#   certs_ca NAME                    a CA: NAME.crt, NAME.key
#   certs_intermediate NAME CA       an intermediate CA issued by CA
#   certs_server NAME CA [DNS...]    a server certificate for 127.0.0.1,
#                                    localhost and the DNS names;
#                                    NAME-chain.crt is it followed by CA
#   certs_client NAME CA CN [SAN]    a client certificate with CN and an
#                                    optional subjectAltName ("DNS:x",
#                                    "URI:x"), extended key usage clientAuth
#   certs_expired NAME CA CN         a client certificate valid in 2020 only
#   certs_key NAME                   a lone key (NAME.key)

CERTS=${CERTS:-$T/certs}
mkdir -p "$CERTS"

certs_key()
{
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$CERTS/$1.key" 2>>"$CERTS/openssl.log"
}

# certs_sign NAME CA SUBJECT EXTENSIONS: a CSR for NAME.key signed by CA.
certs_sign()
{
	local name=$1 ca=$2 subj=$3 ext=$4
	printf '%b\n' "$ext" >"$CERTS/$name.ext"
	openssl req -new -key "$CERTS/$name.key" -subj "$subj" \
	    -out "$CERTS/$name.csr" 2>>"$CERTS/openssl.log" &&
	openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/$ca.crt" \
	    -CAkey "$CERTS/$ca.key" -CAcreateserial -days 30 -sha256 \
	    -extfile "$CERTS/$name.ext" -out "$CERTS/$name.crt" \
	    2>>"$CERTS/openssl.log"
}

certs_ca()
{
	certs_key "$1" &&
	openssl req -x509 -new -key "$CERTS/$1.key" -subj "/CN=$1 test CA" \
	    -days 30 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -out "$CERTS/$1.crt" 2>>"$CERTS/openssl.log"
}

certs_intermediate()
{
	certs_key "$1" &&
	certs_sign "$1" "$2" "/CN=$1 intermediate CA" \
	    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign"
}

certs_server()
{
	local name=$1 ca=$2 san="IP:127.0.0.1,DNS:localhost" d
	shift 2
	for d in "$@"; do san="$san,DNS:$d"; done
	certs_key "$name" &&
	certs_sign "$name" "$ca" "/CN=localhost" \
	    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=$san" &&
	cat "$CERTS/$name.crt" "$CERTS/$ca.crt" >"$CERTS/$name-chain.crt"
}

certs_client()
{
	local name=$1 ca=$2 cn=$3 san=${4:-}
	local ext="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"
	[ -n "$san" ] && ext="$ext\nsubjectAltName=$san"
	certs_key "$name" &&
	certs_sign "$name" "$ca" "/O=Falconet tests/CN=$cn" "$ext"
}

# Debian 12's openssl 3.0 has no -not_before for x509: openssl ca takes
# explicit dates.
certs_expired()
{
	local name=$1 ca=$2 cn=$3 d=$CERTS/ca-$1
	mkdir -p "$d"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	cat >"$d/ca.cnf" <<-EOF
	[ca]
	default_ca = test
	[test]
	dir = $d
	database = $d/index.txt
	serial = $d/serial
	new_certs_dir = $d
	default_md = sha256
	policy = any
	copy_extensions = none
	x509_extensions = client
	[any]
	commonName = supplied
	organizationName = optional
	[client]
	basicConstraints = CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = clientAuth
	EOF
	certs_key "$name" &&
	openssl req -new -key "$CERTS/$name.key" -subj "/O=Falconet tests/CN=$cn" \
	    -out "$CERTS/$name.csr" 2>>"$CERTS/openssl.log" &&
	openssl ca -batch -config "$d/ca.cnf" -cert "$CERTS/$ca.crt" \
	    -keyfile "$CERTS/$ca.key" -startdate 20200101000000Z \
	    -enddate 20201231000000Z -in "$CERTS/$name.csr" \
	    -out "$CERTS/$name.crt" -notext 2>>"$CERTS/openssl.log"
}
