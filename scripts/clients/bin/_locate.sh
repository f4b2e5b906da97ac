# Sourced by the plugin wrappers next to it: finds a tool that scripts/clients/install.sh put
# into .cache (this checkout's; in a `git worktree` without one, the main checkout's — never a
# tool from PATH, whose version could differ), or stops `buf generate` with a message saying
# how to get it.
#   . "$(dirname "$0")/_locate.sh"; tool=$(locate_tool protoc-gen-go go)
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../../.." && pwd)
CACHE="$ROOT/.cache"
if [ ! -d "$CACHE/bin" ]; then
  common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  if [ -n "$common" ] && [ -d "$(dirname -- "$common")/.cache/bin" ]; then
    CACHE="$(dirname -- "$common")/.cache"
  fi
fi
locate_tool() { # name, install.sh part, what it needs
  if [ -x "$CACHE/bin/$1" ]; then
    printf '%s\n' "$CACHE/bin/$1"
  else
    echo "$1 is not installed: run scripts/clients/install.sh $2 (needs $3), then buf generate again" >&2
    return 1
  fi
}
