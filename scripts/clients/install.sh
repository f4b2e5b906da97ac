#!/bin/sh
# Installs what `buf generate` and the client test suites need, into the project only:
#
#   .cache/bin/protoc-gen-go, protoc-gen-go-grpc   go install (versions: scripts/clients/go-tools/go.mod)
#   .cache/bin/protoc, protoc-gen-grpc-java        mvn dependency:copy (versions: scripts/clients/pom.xml)
#   .cache/venv                                    python3 venv with clients/python/requirements-dev.txt
#                                                  (grpcio-tools: the gRPC Python generator; the test deps)
#   Go modules of clients/go, Maven deps of clients/java   their own caches (GOMODCACHE, ~/.m2)
#
#   scripts/clients/install.sh            everything
#   scripts/clients/install.sh go java    only these parts (go | python | java)
#
# Idempotent: a part whose manifest has not changed since it was installed is skipped (stamp
# files in .cache/stamps hold the manifest's hash). A missing toolchain stops with what to install.
set -eu

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
BIN="$ROOT/.cache/bin"
STAMPS="$ROOT/.cache/stamps"
mkdir -p "$BIN" "$STAMPS"

need() { # command, what to install
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "install.sh: '$1' not found: install $2, then run scripts/clients/install.sh again" >&2
    exit 3
  fi
}

# fresh PART FILE...: true when FILE... changed since PART was last installed (or never was).
fresh() {
  part=$1; shift
  sum=$(cat "$@" | sha256sum | cut -d' ' -f1)
  [ "$(cat "$STAMPS/$part" 2>/dev/null)" != "$sum" ]
}
stamp() {
  part=$1; shift
  cat "$@" | sha256sum | cut -d' ' -f1 >"$STAMPS/$part"
}

classifier() { # Maven Central's name for this platform's protoc executables
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo linux-x86_64 ;;
    Linux-aarch64 | Linux-arm64) echo linux-aarch_64 ;;
    Darwin-x86_64) echo osx-x86_64 ;;
    Darwin-arm64) echo osx-aarch_64 ;;
    *) echo "install.sh: no protoc build on Maven Central for $(uname -s)-$(uname -m)" >&2; exit 3 ;;
  esac
}

install_go() {
  need go "Go 1.26+ (https://go.dev/dl/)"
  tools="$ROOT/scripts/clients/go-tools"
  if fresh go "$tools/go.mod" "$tools/go.sum" "$ROOT/clients/go/go.mod" "$ROOT/clients/go/go.sum" ||
    [ ! -x "$BIN/protoc-gen-go" ] || [ ! -x "$BIN/protoc-gen-go-grpc" ]; then
    echo "install.sh: go plugins (protoc-gen-go, protoc-gen-go-grpc) -> .cache/bin" >&2
    (cd "$tools" && GOBIN="$BIN" GOFLAGS=-mod=mod go install tool)
    (cd "$ROOT/clients/go" && go mod download)
    stamp go "$tools/go.mod" "$tools/go.sum" "$ROOT/clients/go/go.mod" "$ROOT/clients/go/go.sum"
  fi
}

install_java() {
  need java "a JDK 17+ (apt-get install openjdk-17-jdk-headless)"
  need mvn "Maven 3.8+ (apt-get install maven)"
  pom="$ROOT/scripts/clients/pom.xml"
  if fresh java "$pom" || [ ! -x "$BIN/protoc" ] || [ ! -x "$BIN/protoc-gen-grpc-java" ]; then
    echo "install.sh: protoc, protoc-gen-grpc-java (Maven Central) -> .cache/bin" >&2
    mvn -q -B -f "$pom" dependency:copy -Dos.classifier="$(classifier)"
    chmod +x "$BIN/protoc" "$BIN/protoc-gen-grpc-java"
    stamp java "$pom"
  fi
}

install_python() {
  need python3 "Python 3.10+ with venv (apt-get install python3 python3-venv)"
  req="$ROOT/clients/python/requirements-dev.txt"
  venv="$ROOT/.cache/venv"
  if fresh python "$req" || [ ! -x "$venv/bin/python" ]; then
    echo "install.sh: python venv (.cache/venv) with clients/python/requirements-dev.txt" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || {
      echo "install.sh: python3 -m venv failed: install the venv module (apt-get install python3-venv)" >&2
      exit 3
    }
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    stamp python "$req"
  fi
}

parts=${*:-go python java}
for part in $parts; do
  case $part in
    go) install_go ;;
    python) install_python ;;
    java) install_java ;;
    *) echo "install.sh: unknown part '$part' (go, python, java)" >&2; exit 2 ;;
  esac
done
