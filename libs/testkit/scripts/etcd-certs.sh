#!/usr/bin/env bash
# Generates throw-away TLS material for an etcd on loopback, at test time (never committed):
#   ca.pem            the CA etcd trusts for client certificates and clients trust for etcd
#   server.pem/-key   etcd's certificate, for 127.0.0.1 and localhost
#   client.pem/-key   a client certificate signed by ca.pem (go-zero's Etcd.CertFile / CertKeyFile)
#   other-ca.pem      an unrelated CA: a client given it as CACertFile must fail (or pass with InsecureSkipVerify)
# usage: etcd-certs.sh <dir>
set -euo pipefail
dir=${1:?usage: etcd-certs.sh <dir>}
mkdir -p "$dir"
cd "$dir"
days=2
subj() { printf '/CN=%s' "$1"; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days $days -subj "$(subj dtm-gozero-test-ca)" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca-key.pem -out other-ca.pem -days $days -subj "$(subj unrelated-ca)" 2>/dev/null
issue() { # name cn ext
  openssl req -newkey rsa:2048 -nodes -keyout "$1-key.pem" -out "$1.csr" -subj "$(subj "$2")" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out "$1.pem" -days $days -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server etcd-server 'subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth'
issue client root 'extendedKeyUsage=clientAuth'
chmod 600 ./*-key.pem
