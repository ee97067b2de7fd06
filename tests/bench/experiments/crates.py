#!/usr/bin/env python3
"""Groups a flat `perf record` profile by crate: self time of every sampled function, summed
per crate (first path segment of the Rust symbol; kernel and libc separately).
Usage: perf report -i perf.data --no-children --sort dso,sym --stdio -g none | python3 crates.py"""
import re
import sys
from collections import Counter

by_crate, by_sym = Counter(), Counter()
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$", line)
    if not m:
        continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if kind == "k":
        crate = "kernel (TCP/loopback, scheduler, syscalls)"
    elif dso.startswith("libc") or re.search(r"malloc|free|memmove|memcpy|memset|_int_|unlink_chunk", sym):
        crate = "libc (malloc/free, memcpy)"
    else:
        s = re.sub(r"^<+", "", sym)
        s = re.sub(r"^(core::ptr::drop_in_place<|alloc::|core::)", lambda k: k.group(0) if "drop_in_place" not in k.group(0) else "", s)
        first = re.split(r"::|<| ", s, maxsplit=1)[0] or "?"
        crate = {"std": "std/core/alloc", "core": "std/core/alloc", "alloc": "std/core/alloc"}.get(first, first)
    by_crate[crate] += pct
    by_sym[sym[:110]] += pct
print("self time by crate:")
for k, v in by_crate.most_common(18):
    print(f"  {v:5.1f}%  {k}")
print("top functions:")
for k, v in by_sym.most_common(25):
    print(f"  {v:5.1f}%  {k}")
