#!/usr/bin/env python3
"""Turns bench/run.sh's results.tsv into the markdown table (medians over rounds).

usage: report.py results.tsv meta.txt [gateway-metrics.txt]
"""
import re
import statistics
import sys
from collections import defaultdict

TARGETS = ["direct", "nginx", "gw-direct", "gw-auto"]
TITLES = {"direct": "direct (llm-sim)", "nginx": "nginx", "gw-direct": "gateway `direct`",
          "gw-auto": "gateway `auto` (draft)"}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0, suffix=""):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}{suffix}"


def main():
    rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
    meta = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[2]) if "=" in line)
    metrics = open(sys.argv[3]).read() if len(sys.argv) > 3 else ""

    rps = defaultdict(lambda: defaultdict(dict))      # conns -> target -> round -> rps
    errors = defaultdict(int)                          # target -> non-2xx + transport errors
    lat = defaultdict(dict)                            # target -> round -> (p50, p99)
    stream = defaultdict(dict)                         # target -> round -> (ttft50, ttft99, gap50, gap99)
    cpu = defaultdict(dict)                            # target -> round -> (proxy ms, upstream ms)
    mem, hold, routes, health, aborts, crashes = {}, {}, {}, {}, {}, []
    # size / logging / threads: stage -> label -> target -> round -> (rps, cpu ms per 1k)
    wrkcpu = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    logsize = {}
    for r in rows:
        kind, target, rnd = r[0], r[1], r[2]
        if kind == "sanity":
            routes[target] = r[4]
        elif kind == "rps":
            rps[r[3]][target][rnd] = num(r[4])
            errors[target] += int(num(r[5]) or 0) + int(num(r[6]) or 0)
        elif kind == "lat":
            lat[target][rnd] = (num(r[3]), num(r[4]))
            errors[target] += int(num(r[6]) or 0) + int(num(r[7]) or 0)
        elif kind == "stream":
            stream[target][rnd] = tuple(num(x) for x in r[3:7])
            errors[target] += int(num(r[8]) or 0) + int(num(r[9]) or 0)
        elif kind == "cpu":
            cpu[target][rnd] = (num(r[3]), num(r[4]))
            errors[target] += int(num(r[6]) or 0) + int(num(r[7]) or 0)
        elif kind == "mem":
            mem[(target, r[3])] = num(r[4])
        elif kind == "hold":
            hold[(target, r[3])] = dict(held=int(r[4]), rss=num(r[5]), established=r[6] or "0",
                                        still_open=r[7] or "0", errors=r[8] or "?", non2xx=r[9] or "?",
                                        open_s=r[10] if len(r) > 10 else "?",
                                        rss_before=num(r[11]) if len(r) > 11 else None)
        elif kind in ("size", "logging", "threads"):
            wrkcpu[kind][r[3]][target][rnd] = (num(r[4]), num(r[5]))
            errors[target] += int(num(r[6]) or 0) + int(num(r[7]) or 0)
        elif kind == "logsize":
            logsize[target] = num(r[4])
        elif kind == "crash":
            crashes.append((r[3], r[4]))
        elif kind == "abort":
            aborts[target] = r[3]
        elif kind == "health":
            health[r[3]] = r[4]

    def per_target(table, idx=None):
        out = {}
        for t in TARGETS:
            vals = table.get(t, {})
            out[t] = med([v if idx is None else v[idx] for v in vals.values()])
        return out

    def added(table, idx):
        """Median over rounds of (target - direct) in the same round."""
        out = {}
        for t in TARGETS:
            diffs = []
            for rnd, v in table.get(t, {}).items():
                base = table.get("direct", {}).get(rnd)
                if base and v[idx] is not None and base[idx] is not None:
                    diffs.append(v[idx] - base[idx])
            out[t] = med(diffs)
        return out

    def row(label, values, digits=0, suffix="", skip=()):
        cells = [("—" if t in skip else fmt(values.get(t), digits, suffix)) for t in TARGETS]
        return f"| {label} | " + " | ".join(cells) + " |"

    rounds = meta.get("rounds", "?")
    out = []
    out.append("## hybrid-gateway vs direct vs nginx")
    out.append("")
    out.append(f"- date: {meta.get('date')}; load average at start {meta.get('loadavg_start') or '?'}, "
               f"at end {meta.get('loadavg_end')} (other jobs share this machine)")
    out.append(f"- machine: {meta.get('nproc')} cores, {meta.get('cpu')}, {meta.get('mem')}, "
               f"Linux {meta.get('kernel')}, RLIMIT_NOFILE {meta.get('nofile')}")
    out.append(f"- versions: hybrid-gateway {meta.get('gateway')} (Release, threads: 1), "
               f"nginx {meta.get('nginx')} (1 worker), wrk {meta.get('wrk')}, upstream llm-sim (zero delays, 32-token answers)")
    out.append(f"- pinning: load generator on CPU {meta.get('load_cpu')}; upstream + proxy under test on CPU "
               f"{meta.get('sut_cpu')} (they share it: `direct` gives the upstream the core alone)")
    out.append(f"- {rounds} rounds, targets alternated within each round, medians shown; "
               f"added = median over rounds of (target − direct) in the same round")
    out.append(f"- routes seen: " + ", ".join(f"{t}: {routes.get(t, '?')}" for t in TARGETS))
    out.append("")
    out.append("| metric | " + " | ".join(TITLES[t] for t in TARGETS) + " |")
    out.append("|---|" + "---:|" * len(TARGETS))
    for conns in ("c32", "c256"):
        out.append(row(f"requests/s, {conns[1:]} connections (wrk, {meta.get('dur')} s)", per_target(rps[conns])))
    rate = meta.get("rate")
    out.append(row(f"latency p50 at {rate} req/s, open loop (µs)", per_target(lat, 0)))
    out.append(row(f"latency p99 at {rate} req/s (µs)", per_target(lat, 1)))
    add_lat50, add_lat99 = added(lat, 0), added(lat, 1)
    out.append(row("added latency p50 over direct (µs)", add_lat50, skip=("direct",)))
    out.append(row("added latency p99 over direct (µs)", add_lat99, skip=("direct",)))
    ms = {k: {r: tuple(None if x is None else x / 1000 for x in v) for r, v in d.items()} for k, d in stream.items()}
    sc = meta.get("stream_conns")
    out.append(row(f"SSE time to first token p50, {sc} streams, ttft 20 ms (ms)", per_target(ms, 0), 2))
    out.append(row("SSE time to first token p99 (ms)", per_target(ms, 1), 2))
    add_ttft50, add_ttft99 = added(ms, 0), added(ms, 1)
    out.append(row("added TTFT p50 over direct (ms)", add_ttft50, 3, skip=("direct",)))
    out.append(row("added TTFT p99 over direct (ms)", add_ttft99, 3, skip=("direct",)))
    out.append(row("inter-token delay p50, 200 tok/s (ms)", per_target(ms, 2), 2))
    out.append(row("inter-token delay p99 (ms)", per_target(ms, 3), 2))
    add_gap50, add_gap99 = added(ms, 2), added(ms, 3)
    out.append(row("added inter-token p50 (ms)", add_gap50, 3, skip=("direct",)))
    out.append(row("added inter-token p99 (ms)", add_gap99, 3, skip=("direct",)))
    cpu_proxy = per_target(cpu, 0)
    out.append(row(f"CPU ms per 1,000 requests, proxy process (`direct`: the upstream)", cpu_proxy, 1))
    out.append(row("CPU ms per 1,000 requests, upstream llm-sim", per_target(cpu, 1), 1))
    mb = lambda kb: None if kb is None else kb / 1024
    out.append(row("RSS idle after start (MB)", {"gw-direct": mb(mem.get(("gw-direct", "idle_start")))}, 1))
    out.append(row("RSS idle after the load runs (MB)", {"gw-direct": mb(mem.get(("gw-direct", "idle_after_load"))),
                                                         "nginx": mb(mem.get(("nginx", "idle_after_load")))}, 1))
    for n in sorted({k[1] for k in hold}, key=int):
        vals, label_n = {}, n
        for t in ("gw-direct", "nginx"):
            h = hold.get((t, n))
            if h:
                vals[t] = mb(h["rss"])
                if h["held"] != int(n):
                    label_n = f"{h['held']:,} (fd limit; {int(n):,} asked)"
        out.append(row(f"RSS with {label_n} open streams (MB; nginx: worker)", vals, 1))
        est = {t: f"{hold[(t, n)]['established']}/{hold[(t, n)]['held']} opened in {hold[(t, n)]['open_s']} s, "
                  f"{hold[(t, n)]['still_open']} still open at the end, "
                  f"{int(hold[(t, n)]['errors']) + int(hold[(t, n)]['non2xx'])} errors"
               for t in ("gw-direct", "nginx") if (t, n) in hold}
        out.append(f"| streams at {label_n} | — | {est.get('nginx', '—')} | "
                   f"{est.get('gw-direct', '—')} | — |")
    for n in sorted({k[1] for k in hold}, key=int):
        vals = {}
        for t in ("gw-direct", "nginx"):
            h = hold.get((t, n))
            if h and h["rss"] is not None and h["rss_before"] is not None and h["held"]:
                vals[t] = (h["rss"] - h["rss_before"]) * 1024 / h["held"] / 1024
        if vals:
            out.append(row(f"KiB per held stream at {int(n):,} asked ((RSS with − RSS before) / held)", vals, 1))
    out.append("| non-2xx + transport errors (all runs) | " + " | ".join(str(errors.get(t, 0)) for t in TARGETS) + " |")
    out.append("")

    def wmed(stage, label, target, idx):
        return med([v[idx] for v in wrkcpu[stage][label].get(target, {}).values()])

    def quot(a, b):
        return a / b if a is not None and b else None

    sizes = sorted(wrkcpu["size"], key=int)
    if sizes:
        out.append(f"### Request body size (loadgen closed loop, {meta.get('size_conns')} connections, a fixed count "
                   f"of requests per run, medians of {rounds}; CPU: the proxy process, ms per 1,000 requests, "
                   f"by {meta.get('cpu_clock', '/proc ticks')})")
        out.append("")
        out.append("| body bytes | req/s direct | req/s nginx | req/s gw `direct` | req/s gw `auto` | CPU nginx | "
                   "CPU gw `direct` | CPU gw `auto` | CPU upstream (`direct` row) | req/s gw/nginx | CPU nginx/gw |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size in sizes:
            rr = {t: wmed("size", size, t, 0) for t in TARGETS}
            cc = {t: wmed("size", size, t, 1) for t in TARGETS}
            out.append(f"| {int(size):,} | " + " | ".join(fmt(rr[t]) for t in TARGETS) + " | "
                       + " | ".join(fmt(cc[t], 1) for t in ("nginx", "gw-direct", "gw-auto")) + f" | {fmt(cc['direct'], 1)} | "
                       + f"{fmt(quot(rr['gw-direct'], rr['nginx']), 2)} | {fmt(quot(cc['nginx'], cc['gw-direct']), 2)} |")
        out.append("")
    if wrkcpu["logging"]:
        out.append(f"### Access logs: floor pair and fair-logging pair (wrk, {meta.get('dur')} s, small body, "
                   f"medians of {rounds}, same rounds)")
        out.append("")
        out.append("| pair | conns | req/s nginx | req/s gateway | gw/nginx | CPU ms/1k nginx | CPU ms/1k gateway | gw/nginx CPU |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, n_t, g_t in (("floor: nginx `access_log off`, gateway log → /dev/null", "nginx", "gw-direct"),
                               ("fair: nginx JSON `buffer=64k` → file, gateway log → file", "nginx-log", "gw-log")):
            for label in ("c32", "c256"):
                nr, gr = wmed("logging", label, n_t, 0), wmed("logging", label, g_t, 0)
                nc, gc = wmed("logging", label, n_t, 1), wmed("logging", label, g_t, 1)
                out.append(f"| {name} | {label[1:]} | {fmt(nr)} | {fmt(gr)} | {fmt(quot(gr, nr), 2)} | {fmt(nc, 1)} | "
                           f"{fmt(gc, 1)} | {fmt(quot(gc, nc), 2)} |")
        if logsize:
            out.append("")
            out.append("Log bytes written during the stage: " + ", ".join(f"{t} {int(v or 0):,}" for t, v in logsize.items()) + ".")
        out.append("")
    if wrkcpu["threads"]:
        out.append(f"### Two cores: nginx 2 workers vs gateway `threads: 2` (unpinned; wrk on CPU {meta.get('load_cpu')}, "
                   f"upstream on CPU {meta.get('sut_cpu')}; medians of {rounds}, same rounds)")
        out.append("")
        tt = ("nginx-1w", "gw-1t", "nginx-2w", "gw-2t")
        out.append("| metric | nginx 1 worker | gateway 1 thread | nginx 2 workers | gateway 2 threads | gw/nginx (2) |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for label in ("c32", "c256"):
            v = {t: wmed("threads", label, t, 0) for t in tt}
            out.append(f"| requests/s, {label[1:]} connections | " + " | ".join(fmt(v[t]) for t in tt)
                       + f" | {fmt(quot(v['gw-2t'], v['nginx-2w']), 2)} |")
        for label in ("c32", "c256"):
            v = {t: wmed("threads", label, t, 1) for t in tt}
            out.append(f"| CPU ms per 1,000 requests, {label[1:]} connections | " + " | ".join(fmt(v[t], 1) for t in tt)
                       + f" | {fmt(quot(v['gw-2t'], v['nginx-2w']), 2)} |")
        out.append("")

    # Targets: printed, never asserted.
    def verdict(ok):
        return "—" if ok is None else ("pass" if ok else "short")

    out.append("| target | measured | result |")
    out.append("|---|---|---|")
    for conns in ("c32", "c256"):
        n, g, a = (per_target(rps[conns]).get(k) for k in ("nginx", "gw-direct", "gw-auto"))
        ratio = g / n if n and g else None
        ratio_a = a / n if n and a else None
        out.append(f"| throughput ≥ 1.0× nginx, {conns[1:]} connections | direct route {fmt(ratio, 2)}×, "
                   f"auto {fmt(ratio_a, 2)}× | {verdict(None if ratio is None else ratio >= 1.0)} |")
    n_cpu = cpu_proxy.get("nginx")
    for t in ("gw-direct", "gw-auto"):
        r_cpu = quot(cpu_proxy.get(t), n_cpu)
        out.append(f"| CPU per 1,000 requests ≤ 1.2× nginx ({TITLES[t]}, floor pair) | {fmt(cpu_proxy.get(t), 1)} vs "
                   f"{fmt(n_cpu, 1)} ms: {fmt(r_cpu, 2)}× | {verdict(None if r_cpu is None else r_cpu <= 1.2)} |")
    if wrkcpu["logging"]:
        gc, nc = wmed("logging", "c32", "gw-log", 1), wmed("logging", "c32", "nginx-log", 1)
        r_cpu = quot(gc, nc)
        out.append(f"| CPU per 1,000 requests ≤ 1.2× nginx (fair-logging pair, 32 connections) | {fmt(gc, 1)} vs "
                   f"{fmt(nc, 1)} ms: {fmt(r_cpu, 2)}× | {verdict(None if r_cpu is None else r_cpu <= 1.2)} |")
    for t in ("gw-direct", "gw-auto"):
        p50, p99 = add_lat50.get(t), add_lat99.get(t)
        out.append(f"| added p50 ≤ 50 µs over direct ({TITLES[t]}) | p50 {fmt(p50)} µs, "
                   f"p99 {fmt(p99)} µs (nginx: {fmt(add_lat50.get('nginx'))} / {fmt(add_lat99.get('nginx'))} µs) "
                   f"| {verdict(None if p50 is None else p50 <= 50)} |")
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for t in ("gw-direct", "gw-auto"):
            r_lo = quot(wmed("size", lo, t, 0), wmed("size", lo, "nginx", 0))
            r_hi = quot(wmed("size", hi, t, 0), wmed("size", hi, "nginx", 0))
            g = quot(r_hi, r_lo)
            out.append(f"| req/s ratio to nginx at {int(hi):,} B ÷ at {int(lo):,} B ≥ 0.8 ({TITLES[t]}) | "
                       f"{fmt(r_hi, 2)} ÷ {fmt(r_lo, 2)} = {fmt(g, 2)} | {verdict(None if g is None else g >= 0.8)} |")
            c_lo = quot(wmed("size", lo, "nginx", 1), wmed("size", lo, t, 1))
            c_hi = quot(wmed("size", hi, "nginx", 1), wmed("size", hi, t, 1))
            g = quot(c_hi, c_lo)
            out.append(f"| CPU ratio (nginx ÷ gateway) at {int(hi):,} B ÷ at {int(lo):,} B ≥ 0.8 ({TITLES[t]}) | "
                       f"{fmt(c_hi, 2)} ÷ {fmt(c_lo, 2)} = {fmt(g, 2)} | {verdict(None if g is None else g >= 0.8)} |")
    t99 = add_ttft99.get("gw-direct")
    out.append(f"| added TTFT p99 ≤ 1 ms (gateway `direct`) | {fmt(t99, 3)} ms (nginx {fmt(add_ttft99.get('nginx'), 3)} ms) "
               f"| {verdict(None if t99 is None else t99 <= 1.0)} |")
    asked = max((int(k[1]) for k in hold if k[0] == "gw-direct"), default=None)
    if asked is not None:
        h = hold[("gw-direct", str(asked))]
        rss_mb = mb(h["rss"])
        clean = (int(h["established"]) == h["held"] and int(h["still_open"]) == h["held"] and h["errors"] == "0"
                 and h["non2xx"] == "0")
        ok = h["held"] >= 10000 and clean and rss_mb is not None and rss_mb < 200
        if asked < 10000:
            note, result = f" (only {asked:,} asked in this run)", "—"
        elif h["held"] < 10000:
            note = f" (10,000 not reachable: RLIMIT_NOFILE {meta.get('nofile')}, 2 sockets per stream)"
            result = ("short (10,000 not measurable here" + ("; pass at the reachable count)" if clean and rss_mb < 200
                                                             else "; short at the reachable count too)"))
        else:
            note, result = "", verdict(ok)
        out.append(f"| 10,000 concurrent streams, RSS < 200 MB, no errors | {h['established']} of {h['held']:,} held, "
                   f"{h['still_open']} still open at the end, RSS {fmt(rss_mb, 1)} MB, {h['errors']} errors, {h['non2xx']} non-2xx"
                   f"{note} | {result} |")
        if h["rss_before"] is not None and h["held"]:
            per = (h["rss"] - h["rss_before"]) / h["held"]  # KiB per stream
            at10k = (h["rss_before"] + per * 10000) / 1024
            out.append(f"| 10,000 streams extrapolated from the held count | {per:.1f} KiB per stream over "
                       f"{fmt(mb(h['rss_before']), 1)} MB before: {at10k:.1f} MB at 10,000 | {verdict(at10k < 200)} |")
    out.append("")

    # Anything the gateway itself counted as a failure.
    bad, gone = [], 0
    for line in metrics.splitlines():
        m = re.match(r'gateway_requests_total\{(.*)\} (\S+)', line)
        if m and 'code="499"' in m.group(1):
            gone += int(float(m.group(2)))
        elif m and 'code="2' not in m.group(1) and float(m.group(2)) > 0:
            bad.append(line)
        m = re.match(r'gateway_upstream_errors_total\{(.*)\} (\S+)', line)
        if m and float(m.group(2)) > 0:
            bad.append(line)
    if crashes:
        out.append("**Gateway crashes during the run** (restarted each time): "
                   + "; ".join(f"during {stage}, exit status {rc}" for stage, rc in crashes) + ".")
    if aborts:
        out.append("Client-abort probe (5 clients hang up mid-stream): "
                   + ", ".join(f"{TITLES[t]} survived: **{v}**" for t, v in aborts.items()) + ".")
    out.append(f"Gateway requests logged as 499 (client went away: wrk closes its connections mid-request "
               f"when each run ends, the held streams are hung up on): {gone:,}.")
    out.append(f"Gateway alive after the measured stages: {health.get('alive', '?')}. "
               + ("Non-2xx / upstream-error counters: " + "; ".join(f"`{b}`" for b in bad) if bad
                  else "Apart from those, its /metrics shows no non-2xx responses and no upstream errors."))
    print("\n".join(out))


if __name__ == "__main__":
    main()
