#!/usr/bin/env python3
"""Leave-one-capture-out against the truth.

For every lab scenario (testdata/lab/scenarios), runs `calipath report --format json --journeys` on its
per-interface .pcap files and, separately, on its -any.pcap files, each time with one file left out (as
/work/notes/l1o.sh does), and reads each answer against the scenario's truth.json. It shares nothing
with calipath's correlation: it reads calipath's JSON (journeys, flows, anomalies) and truth.json only.

    scripts/l1otruth.py [-b BIN] [-j JOBS] [-o OUTDIR] [--full] [SCENARIO...]

BIN defaults to calipath on $PATH. OUTDIR (default /tmp/l1otruth) keeps each run's JSON (reused when
present: remove it after rebuilding BIN). --full also runs each shape with nothing left out. Prints
one line per contradiction (a verdict the truth contradicts, said with confidence) and a count by
kind; honest "cannot tell" answers (not-captured, left-captures, path-incomplete, hedges) are counted,
never reported. Exit status 1 when a contradiction was found.

Kinds:
  lost-delivered     journeys called lost, beyond the truth's lost packets of their flow direction
                     (and beyond the journeys in excess of the packets sent: GSO pieces and the like)
  delivered-lost     journeys called delivered, beyond the truth's delivered packets
  loss-place         a lost journey whose last_seen → next_expected does not hold the truth's loss
                     of its direction (the truth lost some of its packets); one with lost_uncaptured,
                     whose place calipath says it cannot tell, holds it anywhere past last_seen
  off-path           a journey with a hop at a point (in -any shapes: a node) its flow's truth path
                     never crosses
  error-place        an ERROR naming a segment that holds no truth loss of any flow (nor the
                     truth's expected anomaly of that kind there)
  clock-inconsistent a clock-inconsistent anomaly on a lab whose nodes share one clock (truth: clock null)
  nat-kind           a flow's NAT mapping read the other way round (the truth's SNAT said as a DNAT of the
                     reverse direction, or the reverse); not of a flow that says its opener is not known
                     (opener_unknown: its direction is its first packet seen's, its mappings say nat),
                     which claims neither reading
  nat-unknown        a flow's NAT mapping no truth NAT explains
  nat-place          a NAT mapping at a segment that does not hold the truth's NAT
Points of -any captures (node/any#N: no links file is given) are compared by node.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'testdata', 'lab', 'scenarios')
ARROW = '\u2192'


def node(p):
    return p.split('/', 1)[0]


def ep(s, proto):
    """'ip:port', '[v6]:port' or 'ip' -> (ip, port or None); ICMP ports are dropped."""
    s = s.strip()
    m = re.match(r'^\[(.*)\]:(\d+)$', s)
    if m:
        ip, port = m.group(1), int(m.group(2))
    elif s.count(':') == 1:
        ip, port = s.split(':')
        port = int(port)
    else:
        ip, port = s, None
    if proto.startswith('icmp'):
        port = None
    return ip, port


def key(proto, src, dst):
    return (proto, src, dst)


def truth_groups(t):
    """Truth flow directions grouped by their tuple (ICMP without its id), each with every tuple its
    packets have along the way (the truth's NATs applied both ways, closed)."""
    groups = collections.OrderedDict()
    for f in t['flows']:
        proto = f['proto']
        sp = None if proto.startswith('icmp') else f['sport']
        dp = None if proto.startswith('icmp') else f['dport']
        k = key(proto, (f['src'], sp), (f['dst'], dp))
        g = groups.setdefault(k, {'sent': 0, 'delivered': 0, 'lost': 0, 'paths': [], 'lostsegs': set(),
                                  'flows': []})
        g['sent'] += f['sent']
        g['delivered'] += f['delivered']
        g['lost'] += f['sent'] - f['delivered']
        g['paths'].append(f['path'])
        g['flows'].append(f)
        for l in f.get('lost') or []:
            a, b = l['segment'].split(ARROW)
            g['lostsegs'].add((a, b))
    nats = []
    for n in t.get('nat') or []:
        fr = ep(n['from'], n['proto'])
        to = ep(n['to'], n['proto'])
        nats.append((n['kind'], n['proto'], fr, to))
    variants = {}
    for k, g in groups.items():
        proto = k[0]
        seen = {k}
        todo = [k]
        while todo:
            p, s, d = todo.pop()
            for kind, nproto, fr, to in nats:
                if not proto.startswith(nproto[:4]) and nproto != proto:
                    continue
                nxt = []
                if kind == 'snat':
                    if same(s, fr):
                        nxt.append((p, to, d))
                    if same(d, to):
                        nxt.append((p, s, fr))
                else:
                    if same(d, fr):
                        nxt.append((p, s, to))
                    if same(s, to):
                        nxt.append((p, fr, d))
                for x in nxt:
                    x = (x[0], norm(x[1], proto), norm(x[2], proto))
                    if x not in seen:
                        seen.add(x)
                        todo.append(x)
        g['variants'] = seen
        for v in seen:
            variants.setdefault(v, k)
    return groups, variants, nats


def norm(e, proto):
    return (e[0], None if proto.startswith('icmp') else e[1])


def same(a, b):
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def holds(path, a, b, segs, bynode):
    """Does the part of path from a point a to a later point b (b '' = the end) hold one of segs?"""
    if bynode:
        path = [node(p) for p in path]
        a, b = node(a), (node(b) if b else b)
        segs = {(node(x), node(y)) for x, y in segs}
    n = len(path)
    for i in range(n):
        if path[i] != a:
            continue
        ends = [n - 1] if not b else [j for j in range(i, n) if path[j] == b]
        for j in ends:
            for k in range(i, j + 1):
                for x, y in segs:
                    if path[k] == x and ((k + 1 <= j and path[k + 1] == y) or (bynode and x == y)):
                        return True
    return False


def on_path(paths, p, bynode):
    if bynode:
        return any(node(p) == node(q) for path in paths for q in path)
    return any(p in path for path in paths)


def classify(t, out, shape):
    """Contradictions in one calipath JSON answer: list of (kind, detail)."""
    bynode = shape == 'any'
    groups, variants, _ = truth_groups(t)
    flows = {f['id']: f for f in out.get('flows') or []}
    # points where the truth saw a fragmentation-needed (packet too big) leave: a packet lost on the
    # segment from one was refused there, which the truth's per-flow counts do not always book
    # (pmtu-discovery: router-1's refusal of a GSO piece)
    refusers = {e['where'] for e in t.get('icmp_errors') or []
                if (e.get('type'), e.get('code')) in ((3, 4), (2, 0))}
    res = []
    stats = collections.Counter()

    def flowkey(f, rev=False):
        proto = f['proto']
        s = norm((f['src']['ip'], f['src']['port']), proto)
        d = norm((f['dst']['ip'], f['dst']['port']), proto)
        return key(proto, d, s) if rev else key(proto, s, d)

    per = collections.defaultdict(lambda: collections.Counter())
    jby = collections.defaultdict(list)
    for j in out.get('journeys') or []:
        f = flows.get(j.get('flow'))
        if f is None:
            stats['journey-no-flow'] += 1
            continue
        k = variants.get(flowkey(f, j.get('dir') == 's2c'))
        if k is None:
            stats['journey-unmapped'] += 1
            continue
        per[k][j['status']] += 1
        per[k]['total'] += 1
        jby[k].append(j)
        stats['status ' + j['status']] += 1
    for k, c in per.items():
        g = groups[k]
        slack = max(0, c['total'] - g['sent'])
        name = '%s %s:%s > %s:%s' % (k[0], k[1][0], k[1][1] if k[1][1] is not None else '',
                                    k[2][0], k[2][1] if k[2][1] is not None else '')
        if c['lost'] > g['lost'] + slack:
            lost = [j for j in jby[k] if j['status'] == 'lost']
            places = collections.Counter('%s%s%s' % (j.get('last_seen'), ARROW, j.get('next_expected')) for j in lost)
            res.append(('lost-delivered', '%s: %d lost, truth lost %d of %d (%s)' % (
                name, c['lost'], g['lost'], g['sent'], ', '.join('%s x%d' % x for x in places.items()))))
        if c['delivered'] > g['delivered'] + slack:
            res.append(('delivered-lost', '%s: %d delivered, truth delivered %d of %d (lost at %s)' % (
                name, c['delivered'], g['delivered'], g['sent'], ','.join(sorted(a + ARROW + b for a, b in g['lostsegs'])))))
        if g['lostsegs']:
            bad = collections.Counter()
            for j in jby[k]:
                if j['status'] != 'lost':
                    continue
                # a loss calipath says it cannot place (lost_uncaptured: past last_seen, before next_expected
                # or past points not captured) holds the truth's anywhere past last_seen
                nxt = '' if j.get('lost_uncaptured') else j.get('next_expected', '')
                if not any(holds(p, j.get('last_seen', ''), nxt,
                                 g['lostsegs'] | {(p[i], p[i + 1]) for i in range(len(p) - 1) if p[i] in refusers}, bynode)
                           for p in g['paths']):
                    bad['%s%s%s' % (j.get('last_seen'), ARROW, j.get('next_expected'))] += 1
            for w, n in bad.items():
                res.append(('loss-place', '%s: %d lost at %s, truth lost at %s' % (
                    name, n, w, ','.join(sorted(a + ARROW + b for a, b in g['lostsegs'])))))
        off = collections.Counter()
        for j in jby[k]:
            for h in j.get('hops') or []:
                if not on_path(g['paths'], h['point'], bynode):
                    off[h['point']] += 1
        for p, n in off.items():
            res.append(('off-path', '%s: %d hops at %s, truth path %s' % (name, n, p, ' '.join(g['paths'][0]))))
    alllost = [(p, g['lostsegs']) for g in groups.values() if g['lostsegs'] for p in g['paths']]
    clockshared = t.get('clock') is None
    for a in out.get('anomalies') or []:
        w = a.get('where') or {}
        if a['kind'] == 'clock-inconsistent' and clockshared:
            res.append(('clock-inconsistent', '%s %s (%d)' % (w.get('from'), w.get('to'), a.get('count', 0))))
        if a.get('severity') != 'error' or not w.get('from') or not w.get('to'):
            continue
        ok = any(holds(p, w['from'], w['to'], segs, bynode) for p, segs in alllost)
        if not ok:
            for e in t.get('expected_anomalies') or []:
                if e['kind'] != a['kind'] or ARROW not in e.get('where', ''):
                    continue
                x, y = e['where'].split(ARROW)
                paths = [f['path'] for f in t['flows']]
                if any(holds(p, w['from'], w['to'], {(x, y)}, bynode) for p in paths):
                    ok = True
        if not ok:
            res.append(('error-place', '%s %s%s%s (%d), truth lost at %s' % (
                a['kind'], w['from'], ARROW, w['to'], a.get('count', 0),
                ','.join(sorted({x + ARROW + y for _, segs in alllost for x, y in segs})) or 'nowhere')))
    _, _, nats = truth_groups(t)
    for f in flows.values():
        ms = f.get('nat') or []
        if not ms:
            continue
        proto = f['proto']
        parsed = []
        for m in ms:
            fr = [norm(ep(x, proto), proto) for x in m['from'].split(' \u2192 ')]
            to = [norm(ep(x, proto), proto) for x in m['to'].split(' \u2192 ')]
            parsed.append((m, fr, to))
        c2s = {flowkey(f)[1:]}
        grew = True
        c2sm = set()
        while grew:
            grew = False
            for i, (m, fr, to) in enumerate(parsed):
                if i not in c2sm and tuple(fr) in c2s:
                    c2sm.add(i)
                    c2s.add(tuple(to))
                    grew = True
        for i, (m, fr, to) in enumerate(parsed):
            fwd = i in c2sm
            for side in (0, 1):
                if fr[side] == to[side]:
                    continue
                # what the truth must hold for this rewrite, and what it holds if read backwards
                if side == 0:
                    want = ('snat', fr[0], to[0]) if fwd else ('dnat', to[0], fr[0])
                    back = ('dnat', to[0], fr[0]) if fwd else ('snat', fr[0], to[0])
                else:
                    want = ('dnat', fr[1], to[1]) if fwd else ('snat', to[1], fr[1])
                    back = ('snat', to[1], fr[1]) if fwd else ('dnat', fr[1], to[1])
                hit = [n for n in nats if n[0] == want[0] and same(n[2], want[1]) and same(n[3], want[2])]
                if not hit and f.get('opener_unknown'):
                    # the flow claims no opener (its ends are its first packet seen's, its mappings' kind
                    # nat): either reading of the rewrite is what it says
                    hit = [n for n in nats if n[0] == back[0] and same(n[2], back[1]) and same(n[3], back[2])]
                    if hit:
                        want = back
                # the two readings are the same rewrite; what differs is which side the flow says opened
                label = '%s %s > %s: %s at %s' % (f['id'], m['from'], m['to'], want[0], m['at'])
                if fwd and hit:
                    pass
                elif not fwd and hit:
                    pass
                else:
                    hb = [n for n in nats if n[0] == back[0] and same(n[2], back[1]) and same(n[3], back[2])]
                    if hb:
                        res.append(('nat-kind', '%s, truth %s %s:%s -> %s:%s' % (
                            label, hb[0][0], hb[0][2][0], hb[0][2][1], hb[0][3][0], hb[0][3][1])))
                        continue
                    res.append(('nat-unknown', label))
                    continue
                a, b = m['at'].split(ARROW)
                tw = [n for n in t['nat'] if n['kind'] == want[0]]
                # a reply is un-NATed on its way back, at the rewrite's segment read backwards
                segs = {tuple(n['where'].split(ARROW)) for n in tw}
                segs |= {(y, x) for x, y in segs}
                if not any(holds(p, a, b, segs, bynode) for p in [fl['path'] for fl in t['flows']]):
                    res.append(('nat-place', '%s, truth at %s' % (label, ','.join(sorted(n['where'] for n in tw)))))
    return res, stats


def anyshort(t):
    """Which nodes' -any captures hold fewer frames than their per-interface captures (testdata/lab/README.md:
    those tcpdumps dropped frames; the truth is the per-interface files')."""
    n = collections.Counter()
    for p in t['points']:
        n[p['node']] += -p['packets'] if p['iface'] == 'any' else p['packets']
    short = ['%s %d' % (k, v) for k, v in sorted(n.items())
             if v > 0 and any(p['node'] == k and p['iface'] == 'any' for p in t['points'])]
    return ('-any short: ' + ', '.join(short)) if short else ''


def cases(scenarios, full):
    for s in scenarios:
        d = os.path.join(ROOT, s)
        if not os.path.exists(os.path.join(d, 'truth.json')):
            continue
        pcaps = sorted(f for f in os.listdir(d) if f.endswith('.pcap'))
        per = [f for f in pcaps if not f.endswith('-any.pcap')]
        anyf = [f for f in pcaps if f.endswith('-any.pcap')]
        for shape, files in (('per', per), ('any', anyf)):
            if len(files) < 2:
                continue
            if full:
                yield s, shape, '-', files
            for f in files:
                yield s, shape, f, [x for x in files if x != f]


def run(binary, outdir, case):
    s, shape, left, files = case
    tag = '%s.%s.%s' % (s, shape, left)
    path = os.path.join(outdir, tag + '.json')
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        d = os.path.join(ROOT, s)
        with open(path + '.tmp', 'w') as fh:
            subprocess.run([binary, 'report', '-q', '--format', 'json', '--journeys'] + files, cwd=d,
                           stdout=fh, stderr=subprocess.DEVNULL, check=False)
        os.rename(path + '.tmp', path)
    return case, path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-b', '--bin', default='calipath')
    ap.add_argument('-j', '--jobs', type=int, default=2)
    ap.add_argument('-o', '--out', default='/tmp/l1otruth')
    ap.add_argument('--full', action='store_true', help='also each shape with nothing left out')
    ap.add_argument('scenarios', nargs='*')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    scen = a.scenarios or sorted(os.listdir(ROOT))
    total = collections.Counter()
    stats = collections.Counter()
    found = []
    n = 0
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for (s, shape, left, files), path in ex.map(lambda c: run(a.bin, a.out, c), list(cases(scen, a.full))):
            n += 1
            t = json.load(open(os.path.join(ROOT, s, 'truth.json')))
            try:
                out = json.load(open(path))
            except ValueError:
                found.append(('no-output', s, shape, left, path))
                total['no-output'] += 1
                continue
            res, st = classify(t, out, shape)
            stats.update(st)
            short = anyshort(t) if shape == 'any' else ''
            for kind, detail in res:
                if short and kind in ('lost-delivered', 'delivered-lost', 'loss-place'):
                    detail += ' [' + short + ']'
                total[kind] += 1
                found.append((kind, s, shape, left, detail))
    for kind, s, shape, left, detail in sorted(found):
        print('%-18s %s %s -%s: %s' % (kind, s, shape, left, detail))
    print('%d runs; contradictions: %s' % (n, ', '.join('%s %d' % x for x in sorted(total.items())) or 'none'))
    print('journeys: %s' % ', '.join('%s %d' % x for x in sorted(stats.items())))
    sys.exit(1 if found else 0)


if __name__ == '__main__':
    main()
