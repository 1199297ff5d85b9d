#!/usr/bin/env bash
# npm run setup: everything a fresh machine needs for engram's fast CPU path, then the npm packages.
#
#   1. On Debian/Ubuntu (apt-get), install the system packages the OpenBLAS addon needs and that
#      are missing: build-essential (C compiler, make), python3 (node-gyp), libopenblas-dev, and
#      fonts-dejavu-core for plot labels. As root directly, else with sudo (which may ask for your
#      password). It says what it installs before it does. ENGRAM_SYSTEM_PACKAGES=skip skips this
#      step; elsewhere it prints the packages to install by hand.
#   2. npm install (npm ci with --ci), which builds the addon when it can.
#   3. engram doctor: what engram will run on.
#
# A machine where step 1 cannot run still gets a working engram on plain wasm (10-40x slower);
# setup then says so and goes on. It exits with doctor's code: 0 when engram runs here, 1 when a
# piece it needs (a backend, a usable ffmpeg) is missing; and non-zero when npm install fails.
set -euo pipefail
cd "$(dirname "$0")/.."

ci=0
for a in "$@"; do
  case "$a" in
    --ci) ci=1 ;;
    *) echo "engram setup: unknown option '$a' (the only option is --ci: npm ci instead of npm install)" >&2; exit 2 ;;
  esac
done

say() { echo "engram setup: $*"; }

missing_debian() {
  local need=()
  { command -v cc && command -v g++ && command -v make; } >/dev/null 2>&1 || need+=(build-essential)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
  echo "${need[@]}"
}

system_packages() {
  if [ "${ENGRAM_SYSTEM_PACKAGES:-}" = skip ]; then
    say "ENGRAM_SYSTEM_PACKAGES=skip: not installing system packages"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    say "not Debian/Ubuntu: install a C compiler, make, python3 and OpenBLAS yourself for the fast path, e.g."
    say "  Fedora: sudo dnf install gcc gcc-c++ make python3 openblas-devel dejavu-sans-fonts"
    say "  Arch:   sudo pacman -S --needed base-devel python openblas ttf-dejavu"
    say "  Alpine: apk add build-base python3 openblas-dev font-dejavu"
    say "  macOS:  the addon's build is not set up for macOS yet; engram runs there on plain wasm"
    say "then run npm run build:native (engram runs without them, on plain wasm)"
    return 0
  fi
  local need
  need=$(missing_debian)
  if [ -z "$need" ]; then
    say "the system packages for the fast path are here (build-essential, python3, libopenblas-dev, fonts-dejavu-core)"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      say "cannot install $need: not root and no sudo. As root: apt-get update && apt-get install -y $need; then npm run build:native"
      return 0
    fi
    sudo=(sudo)
    say "installing $need with sudo (it may ask for your password; ENGRAM_SYSTEM_PACKAGES=skip to skip)"
  else
    say "installing $need"
  fi
  # shellcheck disable=SC2086
  if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
     "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null; then
    say "installed $need"
  else
    say "could not install $need; engram will run on plain wasm (10-40x slower). To get the fast path: ${sudo[*]:+sudo }apt-get update && ${sudo[*]:+sudo }apt-get install -y $need && npm run build:native"
  fi
}

system_packages
if [ "$ci" = 1 ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
# npm install rebuilds the addon (postinstall) every time; say where that left us
node bin/engram.mjs doctor --no-tui
