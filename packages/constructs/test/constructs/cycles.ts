/** Find a dependency cycle among a CloudFormation template's resources (Ref, Fn::GetAtt, Fn::Sub, DependsOn). */
export function findCycle(template: { Resources: Record<string, { DependsOn?: string | string[] } & Record<string, unknown>> }): string[] | null {
  const resources = template.Resources;
  const edges = new Map<string, Set<string>>();
  const collect = (node: unknown, out: Set<string>) => {
    if (Array.isArray(node)) node.forEach((n) => collect(n, out));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Ref' && typeof v === 'string' && v in resources) out.add(v);
        else if (k === 'Fn::GetAtt') {
          const target = Array.isArray(v) ? v[0] : String(v).split('.')[0];
          if (typeof target === 'string' && target in resources) out.add(target);
        } else if (k === 'Fn::Sub') {
          const text = Array.isArray(v) ? v[0] : v;
          for (const m of String(text).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) if (m[1] in resources) out.add(m[1]);
          if (Array.isArray(v)) collect(v[1], out);
        } else collect(v, out);
      }
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    const out = new Set<string>();
    const { DependsOn, ...rest } = r;
    collect(rest, out);
    for (const d of [DependsOn ?? []].flat()) out.add(d);
    edges.set(id, out);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const next of edges.get(id) ?? []) {
      if (state.get(next) === 'visiting') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const c = visit(next);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of edges.keys()) {
    if (!state.has(id)) {
      const c = visit(id);
      if (c) return c;
    }
  }
  return null;
}
