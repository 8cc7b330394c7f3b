import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDeviceProfileData } from './device-profiles.ts';
import { mayMatch, requiredLiterals } from './regex-literals.ts';

test('literals every match needs: runs, groups, alternations, quantifiers', () => {
  assert.deepEqual(requiredLiterals('Orthanc'), ['orthanc']);
  assert.deepEqual(requiredLiterals('\\bOrthanc(?: Explorer)?\\b'), ['orthanc']);
  assert.deepEqual(requiredLiterals('^GE(?:HC)?-?CT\\d+'), ['ge']);
  assert.deepEqual(requiredLiterals('SpaceCom\\d?|B\\. ?Braun'), ['spacecom', 'braun']);
  assert.deepEqual(requiredLiterals('(?:Evita|Savina) (\\d+)'), ['evita', 'savina']);
  assert.deepEqual(requiredLiterals('ab+c'), ['ab']);
  assert.deepEqual(requiredLiterals('x{2}yz'), ['yz']);
  assert.deepEqual(requiredLiterals('Dräger'), ['ger']);
  assert.deepEqual(requiredLiterals('a{1,3}bc'), ['bc']);
  assert.deepEqual(requiredLiterals('[A-Z]{3}-\\d{4}'), ['-']);
  assert.deepEqual(requiredLiterals('v{ersion'), ['v{ersion']);
  // Nothing needed, or not understood: always run.
  assert.equal(requiredLiterals('^\\d+$'), undefined);
  assert.equal(requiredLiterals('abc|\\d+'), undefined);
  assert.equal(requiredLiterals('(?:abc)?'), undefined);
  assert.equal(requiredLiterals('(?=abc)abc'), undefined);
  assert.equal(requiredLiterals('(a)\\1'), undefined);
  assert.equal(requiredLiterals('\\u00e4bc'), undefined);
  assert.equal(mayMatch(undefined, 'anything'), true);
  assert.equal(mayMatch(['braun'], 'b. braun melsungen'), true);
  assert.equal(mayMatch(['braun'], 'ws-0231'), false);
});

test('a profile pattern that matches a value always finds its literals in it', () => {
  const data = loadDeviceProfileData();
  let checked = 0;
  let filtered = 0;
  const values: string[] = ['WS-0231', 'CT-AQ01', 'Apache/2.4.41 (Ubuntu)', 'Microsoft-IIS/10.0', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Dräger Infinity Delta', 'ORTHANC', 'b braun spacecom'];
  for (const p of data.profiles) for (const c of p.match.any ?? p.match.all ?? []) for (const v of [...(p.examples ?? []), c.equals ?? '', c.prefix ?? '']) if (v !== '') values.push(v, v.toUpperCase(), v.toLowerCase(), ` ${v}!`);
  for (const p of data.profiles) {
    for (const c of p.match.any ?? p.match.all ?? []) {
      if (c.regex === undefined) continue;
      const re = new RegExp(c.regex, 'i');
      const literals = requiredLiterals(c.regex);
      if (literals !== undefined) filtered++;
      for (const v of values) {
        if (re.test(v)) {
          checked++;
          assert.ok(mayMatch(literals, v.toLowerCase()), `${p.id}: /${c.regex}/ matches "${v}" but ${JSON.stringify(literals)} is not in it`);
        }
      }
    }
  }
  assert.ok(checked > 100, `${checked} matches checked`);
  // Nearly every pattern names text it needs (else it runs on every value).
  assert.ok(filtered > 200, `${filtered} patterns with literals`);
});
