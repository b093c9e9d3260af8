#!/usr/bin/env python3
"""Extract the output shapes of the operations the lab serves from botocore's service models.

The lab's description tests check each reply against these shapes: every member the lab returns
must exist with the right type, and every member the test lists as knowable must be there.
Regenerate after a botocore upgrade:
  python3 -m venv /tmp/v && /tmp/v/bin/pip install botocore && /tmp/v/bin/python extract.py
"""
import gzip, json, os
import botocore

OPERATIONS = {
    ('lambda', '2015-03-31'): ['GetFunctionConfiguration', 'GetFunction', 'ListVersionsByFunction', 'PublishVersion', 'GetAlias', 'ListAliases'],
    ('cloudwatch', '2010-08-01'): ['DescribeAlarms'],
    ('codedeploy', '2014-10-06'): ['GetDeployment', 'GetDeploymentGroup', 'ListDeployments'],
}
# What a shape check needs; documentation and protocol details are left out.
KEEP = {'type', 'members', 'member', 'key', 'value', 'enum', 'timestampFormat', 'min', 'max'}

here = os.path.dirname(os.path.abspath(__file__))
for (service, version), ops in OPERATIONS.items():
    with gzip.open(os.path.join(os.path.dirname(botocore.__file__), 'data', service, version, 'service-2.json.gz')) as f:
        model = json.load(f)
    shapes, todo = {}, [model['operations'][op]['output']['shape'] for op in ops]
    while todo:
        name = todo.pop()
        if name in shapes:
            continue
        s = model['shapes'][name]
        kept = {k: v for k, v in s.items() if k in KEEP}
        if 'members' in s:
            kept['members'] = {m: {'shape': d['shape']} for m, d in s['members'].items()}
            todo += [d['shape'] for d in s['members'].values()]
        for k in ('member', 'key', 'value'):
            if k in s:
                kept[k] = {'shape': s[k]['shape']}
                todo.append(s[k]['shape'])
        shapes[name] = kept
    out = {
        'source': f'botocore {botocore.__version__} data/{service}/{version}/service-2.json',
        'protocol': model['metadata']['protocol'],
        'operations': {op: model['operations'][op]['output']['shape'] for op in ops},
        'shapes': dict(sorted(shapes.items())),
    }
    with open(os.path.join(here, f'{service}.json'), 'w') as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write('\n')
    print(service, len(shapes), 'shapes')
