#!/usr/bin/env node
// Writes API.md, the API reference, from the jsii assembly (.jsii) that `jsii` builds.
// jsii-docgen's CLI looks for the assemblies of dependencies (aws-cdk-lib, constructs) only below
// the package's own folder; in this workspace npm hoists them to the repository's node_modules,
// so the search starts there. https://github.com/cdklabs/jsii-docgen/issues/1031
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Documentation, Language } = require('jsii-docgen');

async function main() {
  const pkg = join(__dirname, '..');
  const docs = await Documentation.forProject(pkg, { assembliesDir: join(pkg, '..', '..', 'node_modules') });
  const markdown = await docs.toMarkdown({ language: Language.TYPESCRIPT, allSubmodules: true });
  writeFileSync(join(pkg, 'API.md'), markdown.render());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
