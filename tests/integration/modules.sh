#!/bin/bash
# modules: the daemon's modules call each other in layers, never round
# in a circle. A cycle is how a callback comes to run inside the call
# that started it (the use after free in copy_data, patched twice with
# guard checks before the cause went). Who calls whom is read from the
# built objects (nm): a file's undefined symbols that another defines.
# A call through a hook (a function pointer handed over at start-up, as
# control_listen() takes the protocol) is not a dependency: that is how
# a lower layer serves a higher one without knowing it.
. "$(dirname "$0")/../lib.sh"
objs=${CPD_UNIT_DIR:+$CPD_UNIT_DIR/../daemon}
objs=${objs:-$CPD_BIN/build/daemon}
[ -e "$objs/main.o" ] || skip "no daemon objects in $objs (make first)"
command -v nm >/dev/null || skip "nm (binutils) is not installed"

# Modules made of several files over one private header (as OpenBSD
# bgpd's rde*.c over rde.h): their files may call each other; each
# module as a whole may not sit in a cycle with another.
groups=$(cat <<'TXT'
job: job job_items lanes record scan sched failure owner clean identity partial
copy: copy copy_lane copy_make copy_publish copy_whole copy_snap copy_update copy_verify copy_dst copy_resume copy_cp copy_backup copy_proc
tree: tree tree_read tree_admit tree_delete tree_window tree_quick tree_ahead
TXT
)

py - "$objs" "$groups" <<'PY'
import collections, glob, os, subprocess, sys
objs, groups = sys.argv[1], sys.argv[2]
module = {}
for line in groups.splitlines():
    name, _, files = line.partition(':')
    for f in files.split():
        module[f] = name.strip()
defs, undefs = {}, {}
for o in sorted(glob.glob(os.path.join(objs, '*.o'))):
    f = os.path.basename(o)[:-2]
    m = module.get(f, f)
    undefs.setdefault(m, set())
    for line in subprocess.run(['nm', '-g', o], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        w = line.split()
        if len(w) == 2 and w[0] == 'U':
            undefs[m].add(w[1])
        elif len(w) == 3 and w[1] in 'TDBRCG':
            defs[w[2]] = m
edges = collections.defaultdict(set)
for m, us in undefs.items():
    edges[m] |= {defs[u] for u in us if u in defs and defs[u] != m}
index, low, stack, on, found = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            found.append(tuple(sorted(comp)))
for m in list(undefs):
    if m not in index:
        visit(m)
for c in found:
    calls = ['%s -> %s' % (a, b) for a in c for b in sorted(edges[a]) if b in c]
    print('FAIL: a cycle among %s: %s' % (' '.join(c), ', '.join(calls)))
print('%d modules, %d dependencies between them, %d cycles'
      % (len(undefs), sum(len(e) for e in edges.values()), len(found)))
sys.exit(1 if found else 0)
PY
