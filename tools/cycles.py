#!/usr/bin/env python3
"""Import cycles between the files of each crate (crates/*/src): a module that uses a
sibling which uses it back, directly or round a longer loop. A parent and its own
submodules may use each other (`use super::*` in a child is how a file is split).
Test modules are left out. Prints each cycle and exits 1 if there is one."""
import os
import re
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
found = 0
def modpath(root, f):
    rel=os.path.relpath(f, root)[:-3]
    parts=rel.split('/')
    if parts[-1] in ('mod','lib','main'): parts=parts[:-1]
    return tuple(parts)
for crate in sorted(os.listdir('crates')):
    root=f'crates/{crate}/src'
    files=[os.path.join(d,f) for d,_,fs in os.walk(root) for f in fs if f.endswith('.rs')]
    mods={modpath(root,f):f for f in files}
    edges={m:set() for m in mods}
    for m,f in mods.items():
        txt=open(f).read()
        # drop test modules
        txt=re.split(r'#\[cfg\(test\)\]\s*mod tests \{',txt)[0]
        for ref in re.findall(r'\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)',txt):
            kind,path=ref; segs=path.split('::')[1:]
            base=() if kind=='crate' else m[:-1]
            if kind=='super' and os.path.basename(f) in ('mod.rs',):
                base=m[:-1]
            # resolve longest module prefix
            cand=base
            target=None
            for s in segs:
                cand=cand+(s,)
                if cand in mods: target=cand
                else: break
            if target is None: target=base if base in mods else None
            if target and target!=m:
                # skip ancestors/descendants
                if target[:len(m)]==m or m[:len(target)]==target: continue
                edges[m].add(target)
    # find SCCs (tarjan)
    idx={};low={};st=[];on=set();res=[];c=[0]
    def sc(v):
        idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in edges[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v: break
            if len(comp)>1: res.append(comp)
    sys.setrecursionlimit(10000)
    for v in mods:
        if v not in idx: sc(v)
    for comp in res:
        found += 1
        print(f"import cycle in {crate}: {' <-> '.join('/'.join(x) for x in comp)}")
print(f"tools/cycles.py: {found} import cycles in {len(os.listdir('crates'))} crates")
sys.exit(1 if found else 0)
