#!/bin/bash
# test-sdk-install.sh: installs the SDK into a temporary DESTDIR, builds a
# plugin out of tree against it with nothing but pkg-config and cc, and
# loads that plugin through the real registry.
#
#   test-sdk-install.sh MESON BUILD_ROOT PLUGINDIR LOAD_PLUGIN SRC_DIR VERSION
#
# PKG_CONFIG_SYSROOT_DIR (not --define-prefix) relocates the .pc: with a
# multiarch libdir (lib/x86_64-linux-gnu/pkgconfig) --define-prefix
# derives a wrong prefix.  Sysroot also prefixes glib's own -I flags, so
# glib's real flags are added separately.
set -euo pipefail

meson_cmd=$1 build_root=$2 plugindir=$3 load_plugin=$4 src_dir=$5 version=$6
umask 022
tmp=$(mktemp -d "${TMPDIR:-/tmp}/merod-sdk-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

fail () { echo "FAIL: $*" >&2; exit 1; }

echo "# installing the SDK (tag devel) into $dest"
"$meson_cmd" install -C "$build_root" --destdir "$dest" --no-rebuild --tags devel \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "meson install"; }

pc=$(find "$dest" -name mero-plugin-sdk-1.pc -print -quit)
[[ -n $pc ]] || fail "mero-plugin-sdk-1.pc was not installed"
for h in mero-sdk.h mero-sdk/mero-version.h mero-sdk/mero-plugin.h mero-sdk/mero-errors.h; do
  [[ -n $(find "$dest" -path "*/mero-sdk-1/$h" -print -quit) ]] || fail "$h not installed"
done

export PKG_CONFIG_PATH=$(dirname "$pc")
[[ $(pkg-config --modversion mero-plugin-sdk-1) == "$version" ]] || fail "wrong SDK version"
[[ $(pkg-config --variable=abi_major mero-plugin-sdk-1) == 1 ]] || fail "wrong abi_major"
raw_plugindir=$(pkg-config --variable=plugindir mero-plugin-sdk-1)
[[ $raw_plugindir == "$plugindir" ]] ||
  fail "plugindir is $raw_plugindir, the build installs plugins into $plugindir"

export PKG_CONFIG_SYSROOT_DIR=$dest
installed_plugindir=$(pkg-config --variable=plugindir mero-plugin-sdk-1)
[[ $installed_plugindir == "$dest$plugindir" ]] ||
  fail "relocated plugindir is $installed_plugindir, expected $dest$plugindir"
sdk_cflags=$(pkg-config --cflags mero-plugin-sdk-1)
glib_cflags=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags glib-2.0)
glib_libs=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --libs glib-2.0)
unset PKG_CONFIG_SYSROOT_DIR
# The SDK headers must come from the install, never from the source tree.
[[ $sdk_cflags == *"$dest"* ]] || fail "SDK cflags do not point into the install: $sdk_cflags"

echo "# building hello out of tree into $installed_plugindir"
mkdir -p "$installed_plugindir"
# shellcheck disable=SC2086 # flag lists are meant to split
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -fvisibility=hidden -shared -fPIC \
  $sdk_cflags $glib_cflags -o "$installed_plugindir/mero-hello.so" "$src_dir/hello.c" \
  $glib_libs || fail "out-of-tree build"
install -m 0644 "$src_dir/hello.plugin" "$installed_plugindir/hello.plugin"
chmod 0755 "$installed_plugindir/mero-hello.so"

exported=$(nm -D --defined-only "$installed_plugindir/mero-hello.so" | awk '$2 == "T" {print $3}')
[[ $exported == mero_plugin_get_descriptor ]] ||
  fail "plugin must export exactly mero_plugin_get_descriptor, exports: $exported"

echo "# loading it through the registry"
out=$("$load_plugin" "$installed_plugindir/hello.plugin" "hello:42") ||
  { echo "$out" >&2; fail "the registry did not load the out-of-tree plugin"; }
echo "$out"
[[ $out == *"name=hello kind=tee-verifier version=0.0.1 status=loaded error=none"* ]] ||
  fail "unexpected record: $out"
[[ $out == *"verify=ok report_data=42"* ]] || fail "the plugin did not run: $out"

echo "# building the sync-echo SYNC_PROTOCOL plugin out of tree"
# shellcheck disable=SC2086 # flag lists are meant to split
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -fvisibility=hidden -shared -fPIC \
  $sdk_cflags $glib_cflags -o "$installed_plugindir/mero-sync-echo.so" "$src_dir/sync-echo.c" \
  $glib_libs || fail "out-of-tree build of sync-echo"
install -m 0644 "$src_dir/sync-echo.plugin" "$installed_plugindir/sync-echo.plugin"
chmod 0755 "$installed_plugindir/mero-sync-echo.so"

echo "# selected over the tree protocols and run through the host's session adapter"
out=$("$load_plugin" --sync-select "$installed_plugindir/sync-echo.plugin") ||
  { echo "$out" >&2; fail "the sync-echo plugin was not selected or did not complete"; }
echo "$out"
[[ $out == *"protocol=sync-hash"* ]] || fail "sync-hash was not loaded next to it: $out"
[[ $out == *"selected=sync-echo"* ]] || fail "sync-echo was not selected: $out"
[[ $out == *"initiator=done responder=done round_trips=1"* ]] ||
  fail "the sync-echo session did not complete: $out"

if [[ -n ${MERO_TEST_MEROD:-} ]]; then
  echo "# merod plugins lists it loaded next to the tree protocols"
  home=$tmp/home
  out=$(MERO_PLUGIN_DIR="$installed_plugindir:${MERO_PLUGIN_DIR:-}" \
        "$MERO_TEST_MEROD" plugins --home "$home" 2>&1) || { echo "$out" >&2; fail "merod plugins"; }
  echo "$out"
  for p in sync-echo sync-hash sync-levelwise; do
    grep -Eq "^$p +sync-protocol +[^ ]+ +loaded" <<<"$out" || fail "merod did not load $p"
  done
fi
echo "# ok"
