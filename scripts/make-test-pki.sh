#!/usr/bin/env bash
# make-test-pki.sh <outdir> — a throw-away PKI for the client-certificate tests (`happy auth login --cert`).
#
# Needs only the `openssl` CLI (3.x). Prints nothing on success; file names are fixed. Private keys and files that
# contain one are mode 0600, certificates 0644. Passwords are "correct horse". Never use these files for anything real.
#
#   ca.pem/.key             "Happy Test Root CA" (O=Happy Test)     other-ca.pem/.key  "Other Root CA"
#   server.pem/.key         127.0.0.1 + localhost (SAN IP and DNS), signed by ca
#   alice.pem/.key          RSA 2048, CN "Alice Example", SAN email Alice@Example.COM
#   bob-other-domain        SAN email bob@elsewhere.org          upn   SAN otherName UPN Carol@Example.com
#   cn-only                 CN "dave-laptop", no SAN             soon  expires in 3 days
#   expired                 2020-01-01 → 2021-01-01              not-yet-valid  2090-01-01 → 2091-01-01
#   other-ca-client         SAN email eve@example.com, signed by other-ca
#   uri                     CN "frank-service", SAN URI spiffe://happy.test/frank, DNS frank.happy.test, IP ::1
#   mismatch.pem/.key       alice's certificate with an unrelated key
#   alice-combined.pem      certificate + key         alice-chain.pem      alice + ca
#   alice-encrypted.key     PKCS#8 PEM, AES-256       alice-encrypted-traditional.key  "Proc-Type: 4,ENCRYPTED"
#   alice.p12               PKCS#12, AES-256/PBKDF2   alice-legacy.p12     PKCS#12, RC2/3DES (only when the
#                                                                          local OpenSSL has the legacy provider)
#   garbage.pem             not a certificate
#
# OCSP (the revocation preflight): certificates whose AIA names http://127.0.0.1:<ocsp-port>/ (default 8888), and
# the CA database as an `openssl ocsp -index` file, so a test can run a real responder on that port:
#   ocsp-good               SAN email good@example.com            ocsp-revoked   revoked@example.com, revoked
#                                                                                (keyCompromise) in the index
#   ocsp-unknown            AIA set, but not in the CA database   ocsp-unreachable  AIA http://127.0.0.1:9/
#   ocsp-good-chain.pem     ocsp-good + ca                        ocsp-revoked-chain.pem  ocsp-revoked + ca
#   ocsp-revoked.p12        ocsp-revoked + key + ca, "correct horse"
#   ocsp-index.txt          the index: ocsp-good and ocsp-unreachable valid, ocsp-revoked revoked
#     openssl ocsp -index ocsp-index.txt -port <ocsp-port> -rsigner ca.pem -rkey ca.key -CA ca.pem
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 <outdir> [<ocsp-port>]" >&2
    exit 64
fi
out=$1
ocsp_port=${2:-8888}
mkdir -p "$out"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export HAPPY_PKI_PASSWORD="correct horse"
pass=env:HAPPY_PKI_PASSWORD

# Quiet unless something fails; then show what openssl said.
run() {
    if ! "$@" >"$work/log" 2>&1; then
        echo "make-test-pki.sh: failed: $*" >&2
        cat "$work/log" >&2
        exit 1
    fi
}

ec_key() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# Extensions for leaf certificates: $1 = file, $2 = extendedKeyUsage, $3 = subjectAltName (optional),
# $4 = OCSP responder URL for the Authority Information Access extension (optional).
leaf_ext() {
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, digitalSignature, keyEncipherment"
        echo "extendedKeyUsage = $2"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
        if [[ -n ${3:-} ]]; then echo "subjectAltName = $3"; fi
        if [[ -n ${4:-} ]]; then echo "authorityInfoAccess = OCSP;URI:$4"; fi
    } >"$1"
}

# Self-signed root: $1 = name, $2 = subject.
root_ca() {
    ec_key "$out/$1.key"
    run openssl req -x509 -new -key "$out/$1.key" -subj "$2" -days 3650 -sha256 -out "$out/$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# Leaf signed by a CA with `openssl x509 -req`: $1 = name, $2 = subject, $3 = days, $4 = CA, $5 = EKU, $6 = SAN.
leaf() {
    local name=$1 subject=$2 days=$3 ca=$4 eku=$5 san=${6:-}
    [[ -f $out/$name.key ]] || ec_key "$out/$name.key"
    leaf_ext "$work/$name.ext" "$eku" "$san"
    run openssl req -new -key "$out/$name.key" -subj "$subject" -out "$work/$name.csr"
    run openssl x509 -req -in "$work/$name.csr" -CA "$out/$ca.pem" -CAkey "$out/$ca.key" \
        -CAserial "$work/$ca.srl" -CAcreateserial -days "$days" -sha256 \
        -extfile "$work/$name.ext" -out "$out/$name.pem"
}

# Leaf with a fixed validity window, which only `openssl ca` can set in OpenSSL 3.0:
# $1 = name, $2 = CN, $3 = start, $4 = end (YYYYMMDDHHMMSSZ).
dated_leaf() {
    local name=$1 cn=$2 start=$3 end=$4
    ec_key "$out/$name.key"
    leaf_ext "$work/$name.ext" clientAuth ""
    run openssl req -new -key "$out/$name.key" -subj "/O=Happy Test/CN=$cn" -out "$work/$name.csr"
    run openssl ca -batch -notext -config "$work/ca.cnf" -cert "$out/ca.pem" -keyfile "$out/ca.key" \
        -startdate "$start" -enddate "$end" -extfile "$work/$name.ext" \
        -in "$work/$name.csr" -out "$out/$name.pem"
}

root_ca ca "/O=Happy Test/CN=Happy Test Root CA"
root_ca other-ca "/CN=Other Root CA"

leaf server "/O=Happy Test/CN=localhost" 825 ca serverAuth "IP:127.0.0.1, DNS:localhost"

run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/alice.key"
leaf alice "/O=Happy Test/CN=Alice Example" 825 ca clientAuth "email:Alice@Example.COM"
leaf bob-other-domain "/O=Happy Test/CN=Bob Other" 825 ca clientAuth "email:bob@elsewhere.org"
leaf upn "/O=Happy Test/CN=Carol UPN" 825 ca clientAuth "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:Carol@Example.com"
leaf cn-only "/O=Happy Test/CN=dave-laptop" 825 ca clientAuth
leaf soon "/O=Happy Test/CN=Soon Expiring" 3 ca clientAuth "email:soon@example.com"
leaf other-ca-client "/CN=Eve Other" 825 other-ca clientAuth "email:eve@example.com"
leaf uri "/O=Happy Test/CN=frank-service" 825 ca clientAuth \
    "URI:spiffe://happy.test/frank, DNS:frank.happy.test, IP:::1"

cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/ca-db.srl
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
organizationName = optional
commonName = supplied
EOF
: >"$work/index.txt"
run openssl rand -hex -out "$work/ca-db.srl" 16
dated_leaf expired "Expired Client" 20200101000000Z 20210101000000Z
dated_leaf not-yet-valid "Future Client" 20900101000000Z 20910101000000Z

# OCSP: $1 = name, $2 = CN, $3 = e-mail, $4 = responder URL; recorded in the CA database (`openssl ca`).
ocsp_leaf() {
    local name=$1
    ec_key "$out/$name.key"
    leaf_ext "$work/$name.ext" clientAuth "email:$3" "$4"
    run openssl req -new -key "$out/$name.key" -subj "/O=Happy Test/CN=$2" -out "$work/$name.csr"
    run openssl ca -batch -notext -config "$work/ca.cnf" -cert "$out/ca.pem" -keyfile "$out/ca.key" -days 825 \
        -extfile "$work/$name.ext" -in "$work/$name.csr" -out "$out/$name.pem"
}
ocsp_url="http://127.0.0.1:$ocsp_port/"
ocsp_leaf ocsp-good "OCSP Good" good@example.com "$ocsp_url"
ocsp_leaf ocsp-revoked "OCSP Revoked" revoked@example.com "$ocsp_url"
ocsp_leaf ocsp-unreachable "OCSP Unreachable" unreachable@example.com "http://127.0.0.1:9/"
run openssl ca -config "$work/ca.cnf" -cert "$out/ca.pem" -keyfile "$out/ca.key" \
    -revoke "$out/ocsp-revoked.pem" -crl_reason keyCompromise
ec_key "$out/ocsp-unknown.key"
leaf_ext "$work/ocsp-unknown.ext" clientAuth "email:unknown@example.com" "$ocsp_url"
run openssl req -new -key "$out/ocsp-unknown.key" -subj "/O=Happy Test/CN=OCSP Unknown" -out "$work/ocsp-unknown.csr"
run openssl x509 -req -in "$work/ocsp-unknown.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -CAserial "$work/ca.srl" -CAcreateserial -days 825 -sha256 -extfile "$work/ocsp-unknown.ext" \
    -out "$out/ocsp-unknown.pem"
cp "$work/index.txt" "$out/ocsp-index.txt"
if [[ -f $work/index.txt.attr ]]; then cp "$work/index.txt.attr" "$out/ocsp-index.txt.attr"; fi
for name in ocsp-good ocsp-revoked ocsp-unknown ocsp-unreachable; do
    cat "$out/$name.pem" "$out/ca.pem" >"$out/$name-chain.pem"
done
run openssl pkcs12 -export -in "$out/ocsp-revoked.pem" -inkey "$out/ocsp-revoked.key" -certfile "$out/ca.pem" \
    -name revoked -passout "$pass" -out "$out/ocsp-revoked.p12"

cp "$out/alice.pem" "$out/mismatch.pem"
ec_key "$out/mismatch.key"
cat "$out/alice.pem" "$out/alice.key" >"$out/alice-combined.pem"
cat "$out/alice.pem" "$out/ca.pem" >"$out/alice-chain.pem"
run openssl pkey -in "$out/alice.key" -aes256 -passout "$pass" -out "$out/alice-encrypted.key"
run openssl rsa -in "$out/alice.key" -traditional -aes256 -passout "$pass" -out "$out/alice-encrypted-traditional.key"
run openssl pkcs12 -export -in "$out/alice.pem" -inkey "$out/alice.key" -certfile "$out/ca.pem" \
    -name alice -passout "$pass" -out "$out/alice.p12"
# RC2-40 + 3DES needs the legacy provider; without it there is simply no alice-legacy.p12.
if ! openssl pkcs12 -export -legacy -in "$out/alice.pem" -inkey "$out/alice.key" -certfile "$out/ca.pem" \
    -name alice -passout "$pass" -out "$out/alice-legacy.p12" >/dev/null 2>&1; then
    rm -f "$out/alice-legacy.p12"
fi
printf 'this is not a certificate\nhello world\n' >"$out/garbage.pem"

# Certificates are public; everything holding a key stays 0600 (from the umask).
for name in ca other-ca server alice bob-other-domain upn cn-only soon other-ca-client uri expired \
    not-yet-valid mismatch alice-chain garbage ocsp-good ocsp-revoked ocsp-unknown ocsp-unreachable \
    ocsp-good-chain ocsp-revoked-chain ocsp-unknown-chain ocsp-unreachable-chain; do
    chmod 644 "$out/$name.pem"
done
