#!/bin/sh
# Called by luarocks (rockspec build_command) as: sh rockspec/build.sh <lua interpreter>.
# Asks the interpreter which Lua it is, builds the module with cargo for that flavour, and
# leaves it as ./enet.so for the rockspec's install table.
set -eu
lua="$1"
flavour=$("$lua" -e 'if jit then print("luajit") else print((_VERSION:gsub("^Lua 5%.", "lua5"))) end')
case "$flavour" in
  lua51|lua52|lua53|lua54|lua55|luajit) ;;
  *) echo "enet: unsupported Lua interpreter $lua ($flavour)" >&2; exit 1 ;;
esac
if ! command -v cargo >/dev/null 2>&1; then
  echo "enet: building needs Rust's cargo on the PATH (https://rustup.rs)" >&2
  exit 1
fi
target="target/luarocks-$flavour"
echo "enet: building for $flavour with cargo"
cargo build --release --features "$flavour" --target-dir "$target"
for built in "$target/release/libenet.so" "$target/release/libenet.dylib" "$target/release/enet.dll"; do
  if [ -f "$built" ]; then
    cp "$built" enet.so
    exit 0
  fi
done
echo "enet: cargo produced no library in $target/release" >&2
exit 1
