#!/usr/bin/python3
"""Checks a husk metrics exposition (stdin) with the Prometheus client's own text
parser, then prints each sample as 'NAME LABEL=VALUE,... VALUE' (labels sorted) so
tests can pick figures out. Fails (status 1, why on stderr) when the text does not
parse, a family comes twice, a name lacks the husk_ prefix, or a per-sandbox sample
lacks its sandbox label."""
import sys

from prometheus_client.parser import text_string_to_metric_families

# as the parser names them: a counter's family without _total
HOST_FAMILIES = {"husk_sandboxes", "husk_start_latency_seconds", "husk_failures",
                 "husk_metrics_unanswered"}


def main():
    text = sys.stdin.read()
    seen = set()
    out = []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends
        sys.exit(f"promcheck: does not parse: {e}")
    for fam in families:
        if fam.name in seen:
            sys.exit(f"promcheck: family {fam.name} given twice")
        seen.add(fam.name)
        if not fam.name.startswith("husk_"):
            sys.exit(f"promcheck: {fam.name}: not a husk_ name")
        for s in fam.samples:
            if fam.name not in HOST_FAMILIES and "sandbox" not in s.labels:
                sys.exit(f"promcheck: {s.name}: no sandbox label")
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            value = int(s.value) if s.value == int(s.value) else s.value
            out.append(f"{s.name} {labels or '-'} {value}")
    if not families:
        sys.exit("promcheck: no metrics")
    print("\n".join(out))


main()
