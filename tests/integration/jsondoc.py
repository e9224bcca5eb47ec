# Helper of t0009: checks JSON output against the tables of docs/json.md.
# Usage: jsondoc.py DOC COMMAND FILE.json...  Every key path in each FILE
# must match a row of COMMAND's section (or the error table), with the
# documented type where it is a checkable one. Prints problems; exit 1.
import json, re, sys

doc, cmd, files = sys.argv[1], sys.argv[2], sys.argv[3:]
CHECKED = {"string", "number", "bool", "address", "hex"}


def expand(k):
    m = re.search(r"\{([^{}]*)\}", k)
    if not m:
        return [k]
    out = []
    for alt in m.group(1).split(","):
        out += expand(k[:m.start()] + alt.strip() + k[m.end():])
    return out


def sections(text):
    """Section title -> list of (keys, types) rows of its tables."""
    secs, cur = {}, None
    for line in text.splitlines():
        h = re.match(r"#+ (.*)", line)
        if h:
            cur = h.group(1)
            secs.setdefault(cur, [])
            continue
        if cur is None or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] == "key":
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        secs[cur].append((keys, cells[1]))
    return secs


def types_for(keys, tcell):
    m = re.match(r"^`(\w+)` object$", tcell)
    if m:
        return [("include", m.group(1))] * len(keys)
    parts = [t.strip() for t in tcell.split(",")] if tcell else []
    if len(parts) == 1:
        parts = parts * len(keys)
    if len(parts) != len(keys):
        parts = [""] * len(keys)
    return [("type", p) for p in parts]


def rules(secs, title, prefix, seen):
    """(pattern, type) pairs for one section under prefix."""
    out = []
    if title in seen:
        return out
    seen = seen | {title}
    for keys, tcell in secs[title]:
        for k, (kind, t) in zip(keys, types_for(keys, tcell)):
            for e in expand(k):
                path = prefix + e
                if kind == "include":
                    sub = [s for s in secs if s.startswith("The `%s` object" % t)]
                    if not sub:
                        sys.exit("docs: no section for the `%s` object" % t)
                    out += rules(secs, sub[0], path + ".", seen)
                else:
                    out.append((path, t))
    return out


def match(pat, path):
    if pat.endswith(".*"):
        return path.startswith(pat[:-1])
    return pat == path


def typeok(t, v):
    alts = [a.strip() for a in t.split(" or ")]
    if not alts or any(a not in CHECKED | {"null"} for a in alts):
        return True
    for a in alts:
        if a == "null" and v is None:
            return True
        if a == "string" and isinstance(v, str):
            return True
        if a == "bool" and isinstance(v, bool):
            return True
        if a == "number" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return True
        if a == "address" and isinstance(v, str) and re.fullmatch(r"0x[0-9a-f]{16}", v):
            return True
        if a == "hex" and isinstance(v, str) and re.fullmatch(r"0x[0-9a-f]+", v):
            return True
    return False


def leaves(v, p):
    if isinstance(v, dict):
        if not v:
            yield p, {}
        for k, x in v.items():
            yield from leaves(x, p + "." + k if p else k)
    elif isinstance(v, list):
        if not v:
            yield p + "[]", []
        for x in v:
            yield from leaves(x, p + "[]")
    else:
        yield p, v


secs = sections(open(doc).read())
title = [s for s in secs if s.startswith("`wdt %s`" % cmd)]
if not title:
    sys.exit("docs/json.md: no section for wdt %s" % cmd)
rs = rules(secs, title[0], "", set()) + rules(secs, "Errors (every command)", "", set())
bad = set()
for f in files:
    for path, v in leaves(json.load(open(f)), ""):
        if isinstance(v, (list, dict)):  # empty: a documented container
            hits = [t for pat, t in rs if match(pat, path) or
                    pat.startswith(path + ".") or pat.startswith(path + "[]")]
        else:
            hits = [t for pat, t in rs if match(pat, path)]
        if not hits:
            bad.add("%s: key %s is not in docs/json.md" % (cmd, path))
        elif isinstance(v, (list, dict)):
            continue
        elif not any(typeok(t, v) for t in hits):
            bad.add("%s: %s is %s, documented as %s" % (cmd, path, json.dumps(v)[:40], " / ".join(hits)))
for b in sorted(bad):
    print(b)
sys.exit(1 if bad else 0)
