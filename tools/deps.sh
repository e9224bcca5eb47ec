#!/bin/sh
# Install what wdt needs to build, test and demo from Debian's packages.
# Idempotent: installs only what is missing and says what it installs.
set -eu

PKGS="gcc make pkg-config ca-certificates
zlib1g-dev liblz4-dev libcurl4-openssl-dev libzstd-dev liblzo2-dev libsnappy-dev
libmspack-dev
libcmocka-dev gcab
qemu-system-x86 qemu-utils
clang lld llvm libclang-rt-14-dev clang-format
python3 mandoc makedumpfile python3-libkdumpfile zsh
lz4 gzip xxd bzip2 xz-utils lzop zstd"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "tools/deps.sh: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "tools/deps.sh: need root (or sudo) to run apt-get install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it once per run.
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
