#!/usr/bin/env bash
# Code size of the lock core in a size-optimised release build on the host (x86-64; no
# embedded target is installed). Builds `examples/code_size.rs` twice with profile `size`
# (release + opt-level "s", fat LTO, 1 codegen unit, panic=abort, symbols kept, no debug info):
# once linking every entry point of the core, once returning before it (baseline). Prints the
# section sizes of both, their difference, and the full build's .text by crate from `nm`.
#
#   crates/lock/size-report.sh            # from the repo root; honours CARGO_TARGET_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE=(--profile size
    --config 'profile.size.inherits="release"'
    --config 'profile.size.opt-level="s"'
    --config 'profile.size.lto="fat"'
    --config 'profile.size.codegen-units=1'
    --config 'profile.size.panic="abort"'
    --config 'profile.size.debug=false'
    --config 'profile.size.strip="none"')
BIN="$TARGET/size/examples/code_size"
OUT="$TARGET/size/code-size-report" # both binaries and their nm listings stay here
mkdir -p "$OUT"

cargo build -q -p latchkey-lock --example code_size "${PROFILE[@]}"
cp "$BIN" "$OUT/full"
LATCHKEY_SIZE_BASELINE=1 cargo build -q -p latchkey-lock --example code_size "${PROFILE[@]}"
cp "$BIN" "$OUT/baseline"
cargo build -q -p latchkey-lock --example code_size "${PROFILE[@]}" # leave the full build

section() { size -A "$1" | awk -v s="$2" '$1 == s { print $2 }'; }
echo "section        full   baseline   lock core (difference)"
for s in .text .rodata .data.rel.ro .eh_frame .data .bss; do
    f=$(section "$OUT/full" "$s"); b=$(section "$OUT/baseline" "$s")
    printf '%-12s %7d %10d %10d\n' "$s" "${f:-0}" "${b:-0}" "$(( ${f:-0} - ${b:-0} ))"
done

echo
echo ".text by crate from nm (first of our or the crypto crates named in a symbol, else"
echo "core/std; code inlined into a caller counts for the caller):"
for b in full baseline; do
    nm -C --size-sort --radix=d "$OUT/$b" | awk '$2 ~ /^[tT]$/' >"$OUT/$b.nm"
done
python3 - "$OUT/full.nm" "$OUT/baseline.nm" <<'PY'
import re, sys
crypto = ("p256 primeorder elliptic_curve ecdsa crypto_bigint aes aes_gcm ghash polyval ctr "
          "cipher sha2 hkdf hmac digest rfc6979 subtle zeroize generic_array universal_hash "
          "aead ff group signature der sec1 const_oid spki pkcs8 base16ct").split()
groups = {c: "crypto (RustCrypto)" for c in crypto}
groups.update({"latchkey_lock": "latchkey_lock", "latchkey_protocol": "latchkey_protocol",
               "code_size": "probe main (core inlined)", "core": "core/std", "std": "core/std",
               "alloc": "core/std"})
def tally(path):
    sizes = {}
    for line in open(path):
        size, _, name = line.rstrip("\n").split(" ", 2)
        found = [groups[m] for m in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)::", name) if m in groups]
        ours = [g for g in found if g != "core/std"]
        key = ours[0] if ours else (found[0] if found else "other (C, libc glue, backtrace)")
        sizes[key] = sizes.get(key, 0) + int(size)
    return sizes
full, base = tally(sys.argv[1]), tally(sys.argv[2])
print("  %-34s %8s %9s %11s" % ("", "full", "baseline", "difference"))
for k in sorted(full, key=lambda k: -(full[k] - base.get(k, 0))):
    print("  %-34s %8d %9d %11d" % (k, full[k], base.get(k, 0), full[k] - base.get(k, 0)))
print("  %-34s %8d %9d %11d" % ("total", sum(full.values()), sum(base.values()),
                                 sum(full.values()) - sum(base.values())))
PY
