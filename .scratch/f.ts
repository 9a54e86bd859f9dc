import { checkTemplates, TemplateSet } from '../lib/constructs/index.js';
const r = checkTemplates(TemplateSet.load('/tmp/qk-d'));
console.log(r.errors, r.warnings, r.findings.map(f=>f.ruleId));
