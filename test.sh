#!/bin/sh
# test.sh: install what the tests need from Debian, then run every check.
# This is the test command of README.md; .ci/run runs it.
set -eu
cd "$(dirname "$0")"

# Real peers the tests check against: libotr (C), python3-potr, asn1c,
# graphviz (dot), gnupg, man-db (man and groff for the man page), zbar-tools
# (zbarimg reads QR codes), openssl and Java (ChatSecure and Jitsi), Dovecot
# (the IMAP channel), Chromium and ChromeDriver (the web page). Installed
# only when missing.
pkgs="gcc pkg-config libotr5-dev python3-potr asn1c graphviz gnupg man-db zbar-tools openssl openjdk-17-jdk-headless dovecot-imapd chromium chromium-driver"
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

echo "== gofmt"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "gofmt needed on: $unformatted"; exit 1; }
echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
# Interop tests fail, rather than skip, when a peer is missing.
export KEYSYNC_REQUIRE_PEERS=1
echo "== go test -race"
go test -race -timeout 30m ./...
# Under -race the model check explores only its shallow bounds; the deep
# ones (README.md, "The state machine") run here without it.
echo "== model check, deep bounds"
go test -count=1 -timeout 30m -run '^TestModelCheck$' ./fsm/sim
