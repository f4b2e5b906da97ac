# Sourced by the plugin wrappers next to it: finds a tool that scripts/clients/install.sh put
# into .cache/bin, or stops `buf generate` with a message saying how to get it.
#   . "$(dirname "$0")/_locate.sh"; tool=$(locate_tool protoc-gen-go go)
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../../.." && pwd)
locate_tool() { # name, install.sh part
  if [ -x "$ROOT/.cache/bin/$1" ]; then
    printf '%s\n' "$ROOT/.cache/bin/$1"
  else
    echo "$1 is not installed: run scripts/clients/install.sh $2 (needs $3), then buf generate again" >&2
    return 1
  fi
}
