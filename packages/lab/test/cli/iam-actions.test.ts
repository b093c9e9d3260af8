import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// What the identity running `watch` or `deploy` needs is said twice, in docs/pipelines.md's policy and
// in the release workflow example, and follows from the SDK commands the CLI sends: all three agree.
const ROOT = resolve(__dirname, '..', '..', '..', '..');
const SERVICE: Record<string, string> = { 'client-codedeploy': 'codedeploy', 'client-cloudformation': 'cloudformation', 'client-lambda': 'lambda', 'lib-dynamodb': 'dynamodb', 'client-dynamodb': 'dynamodb' };
// lib-dynamodb's document commands are DynamoDB's own actions.
const DOCUMENT: Record<string, string> = { Get: 'GetItem' };

function fromCode(): string[] {
  const dir = join(ROOT, 'packages', 'lab', 'src', 'cli');
  const actions = new Set<string>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/import \{([^}]*)\} from '@aws-sdk\/([a-z-]+)'/g)) {
      const service = SERVICE[m[2]];
      for (const name of m[1].split(',').map((x) => x.trim()).filter((x) => x.endsWith('Command') && new RegExp(`new ${x}\\(`).test(src))) {
        const op = name.replace(/Command$/, '');
        actions.add(`${service}:${DOCUMENT[op] ?? op}`);
      }
    }
  }
  return [...actions].sort();
}

function fromReadme(): string[] {
  const readme = readFileSync(join(ROOT, 'docs', 'pipelines.md'), 'utf8');
  const at = readme.indexOf('IAM for the identity that runs `watch` or `deploy`');
  const block = readme.slice(readme.indexOf('```json', at) + 7, readme.indexOf('```', readme.indexOf('```json', at) + 7));
  const policy = JSON.parse(block) as { Statement: { Action: string | string[] }[] };
  return [...new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}

function fromWorkflow(): string[] {
  const text = readFileSync(join(ROOT, '.github', 'workflows', 'release.yml.example'), 'utf8');
  const comment = text.slice(text.indexOf('# The role each job assumes'), text.indexOf('name: release')).replace(/\n# ?/g, ' ');
  const list = comment.slice(comment.indexOf('plus, to follow releases'));
  const actions: string[] = [];
  let service = '';
  for (const m of list.matchAll(/\b(?:([a-z]+):)?([A-Z][A-Za-z]+)\b/g)) {
    if (m[1]) service = m[1];
    if (service && !['README', 'CodeDeployHook'].includes(m[2])) actions.push(`${service}:${m[2]}`);
  }
  return [...new Set(actions)].sort();
}

describe('the IAM actions watch and deploy need', () => {
  it('the policy in docs/pipelines.md lists exactly the actions the CLI\'s SDK commands call', () => {
    expect(fromCode().length).toBeGreaterThan(5);
    expect(fromReadme()).toEqual(fromCode());
  });

  it('the release workflow example lists the same', () => {
    expect(fromWorkflow()).toEqual(fromCode());
  });
});
