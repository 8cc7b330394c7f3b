import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryBuilder } from './builder.ts';
import { deviceOf, evidencePlaces, identify, identityKey, identityOf, macIdentity, rebindIdentity, sameVendor, type IdentifyKnowledge, type ProfileMatch, type ResolvedOs } from './identify.ts';
import { bannerSoftware, dicomImplementation, osFromBanner, osFromServerHeader, osFromUserAgent, productTokens } from './signals.ts';
import type { Observation } from '../protocols/observation.ts';

/**
 * A small, explicit knowledge base: identification is tested on its rules, not on the shipped data
 * (which has its own tests and the quality benchmark).
 */
const OS: Record<string, ResolvedOs> = {
  'Windows 7 / Server 2008 R2 SP1 (6.1.7601)': {
    family: 'Windows',
    label: 'Windows 7 / Server 2008 R2 SP1',
    releases: [
      { product: 'windows', cycle: '7-sp1', label: 'Windows 7 SP1', eol: '2020-01-14' },
      { product: 'windows-server', cycle: '2008-r2-sp1', label: 'Windows Server 2008 R2 SP1', eol: '2020-01-14' },
    ],
  },
  'Windows 7 or 8': {
    family: 'Windows',
    label: 'Windows 7 or 8',
    releases: [
      { product: 'windows', cycle: '7-sp1', label: 'Windows 7 SP1' },
      { product: 'windows', cycle: '8', label: 'Windows 8' },
    ],
  },
  'Linux 2.2.x-3.x': { family: 'Linux', label: 'Linux 2.2.x-3.x', releases: [] },
  'Windows Server 2019': { family: 'Windows', label: 'Windows Server 2019', releases: [{ product: 'windows-server', cycle: '2019', label: 'Windows Server 2019' }] },
};

const knowledge: IdentifyKnowledge = {
  oui: (mac) => (mac.startsWith('00:1b:2c') ? { organisation: 'GE Healthcare', prefix: '00:1B:2C', block: 'MA-L' } : mac.startsWith('00:15:5d') ? { organisation: 'Intel Corporate', prefix: '00:15:5D', block: 'MA-L' } : undefined),
  isLocalMac: (mac) => (Number.parseInt(mac.slice(0, 2), 16) & 2) !== 0,
  profiles: (facts) => {
    const out: ProfileMatch[] = [];
    for (const f of facts) {
      if (f.attribute === 'dicom.implementation_class_uid' && f.value.startsWith('1.2.840.113619.')) {
        out.push({ profile: 'ge-dicom', vendor: 'GE Healthcare', confidence: 0.9, rule: 'GE root 1.2.840.113619', attribute: f.attribute, value: f.value, source: 'test' });
      }
      if (f.attribute === 'dicom.abstract_syntax' && f.value === '1.2.840.10008.5.1.4.1.1.2') {
        out.push({ profile: 'ct-storage', type: 'CT scanner', modality: 'CT', category: 'imaging', criticality: 'diagnostic', confidence: 0.7, rule: 'proposes CT Image Storage', attribute: f.attribute, value: f.value, source: 'test' });
      }
    }
    return out;
  },
  resolveOs: (text) => OS[text],
};

let frame = 0;
function builderWith(mac: string, ip: string, items: [string, string, string, number][]): InventoryBuilder {
  const b = new InventoryBuilder();
  for (const [protocol, attribute, value, confidence] of items) {
    const o: Observation = { time: 1, frame: ++frame, flow: 1, protocol, mac, ip, attribute, value, confidence };
    b.addObservation(o);
  }
  return b;
}

test('a GE CT scanner on Windows 7: vendor from its DICOM UID root agreeing with the OUI, type from its SOP classes, OS from NTLMSSP over p0f', () => {
  const b = builderWith('00:1b:2c:11:22:33', '10.1.0.5', [
    ['dicom', 'dicom.implementation_class_uid', '1.2.840.113619.6.374', 0.95],
    ['dicom', 'dicom.abstract_syntax', '1.2.840.10008.5.1.4.1.1.2', 0.9],
    ['ntlmssp', 'os', 'Windows 7 / Server 2008 R2 SP1 (6.1.7601)', 0.9],
    ['tcp', 'os', 'Windows 7 or 8', 0.5],
    ['dhcp', 'dhcp.hostname', 'CT-03', 0.9],
  ]);
  const [facts] = b.devices();
  assert.ok(facts);
  const d = identify(facts, knowledge);
  assert.equal(d.vendor?.value, 'GE Healthcare');
  assert.ok((d.vendor?.confidence ?? 0) > 0.9, 'two agreeing sources');
  assert.equal(d.type?.value, 'CT scanner');
  assert.equal(d.category.value, 'imaging');
  assert.equal(d.criticality, 'diagnostic');
  assert.equal(d.os?.value, 'Windows 7 / Server 2008 R2 SP1');
  assert.equal(d.os?.releases.length, 2);
  assert.deepEqual(d.os?.conflicts, []);
  assert.match(d.os?.rule ?? '', /ntlmssp.*1 other signal.*tcp/);
  assert.deepEqual(d.hostnames, ['CT-03']);
  assert.ok((d.os?.evidence.length ?? 0) > 0);
});

test('conflicting OS signals: the stronger protocol wins, the loser is shown, and confidence drops', () => {
  const b = builderWith('00:15:5d:00:00:01', '10.1.0.9', [
    ['ntlmssp', 'os', 'Windows Server 2019', 0.9],
    ['tcp', 'os', 'Linux 2.2.x-3.x', 0.6],
  ]);
  const d = identify(b.devices()[0] as never, knowledge);
  assert.equal(d.os?.value, 'Windows Server 2019');
  assert.equal(d.os?.conflicts.length, 1);
  assert.match(d.os?.conflicts[0]?.why ?? '', /tcp said "Linux 2.2.x-3.x", outweighed by ntlmssp/);
  assert.ok((d.os?.confidence ?? 1) < 0.9);
  assert.equal(d.type?.value, 'Windows server');
  assert.equal(d.category.value, 'general-it');
});

test('a p0f guess alone is never a confident OS', () => {
  const b = builderWith('00:15:5d:00:00:02', '10.1.0.10', [['tcp', 'os', 'Windows 7 or 8', 0.6]]);
  const d = identify(b.devices()[0] as never, knowledge);
  assert.equal(d.os?.value, 'Windows 7 or 8');
  assert.ok((d.os?.confidence ?? 1) <= 0.35);
  assert.equal(d.type, undefined, 'too weak to call it a workstation');
});

test('a randomised (locally administered) MAC gives no vendor; no profile leaves the category general IT, support', () => {
  const b = builderWith('da:a1:19:00:00:01', '10.1.0.11', [['mdns', 'mdns.hostname', 'iPhone.local', 0.9]]);
  const d = identify(b.devices()[0] as never, knowledge);
  assert.equal(d.randomMac, true);
  assert.equal(d.vendor, undefined);
  assert.equal(d.category.value, 'general-it');
  assert.equal(d.criticality, 'support');
});

test('vendor names compare by their first word, ignoring legal suffixes', () => {
  assert.ok(sameVendor('GE Healthcare', 'GE HEALTHCARE IT'));
  assert.ok(sameVendor('Baxter Healthcare Corporation', 'Baxter'));
  assert.ok(!sameVendor('Philips Medical Systems', 'Phillips 66'));
  assert.ok(sameVendor('APC (Schneider Electric)', 'Schneider Electric (APC)'));
  assert.ok(!sameVendor('GE Healthcare', 'Philips Healthcare'));
});

test('product tokens, User-Agent OS and DICOM implementation names', () => {
  assert.deepEqual(productTokens('Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1f'), [
    { name: 'Apache', version: '2.4.41' },
    { name: 'OpenSSL', version: '1.1.1f' },
  ]);
  assert.deepEqual(productTokens('Linux/3.14 UPnP/1.0 Portable SDK for UPnP devices/1.6.19'), [
    { name: 'Linux', version: '3.14' },
    { name: 'Portable SDK for UPnP devices', version: '1.6.19' },
  ]);
  assert.deepEqual(productTokens('Microsoft-HTTPAPI/2.0'), [{ name: 'Microsoft-HTTPAPI', version: '2.0' }]);
  assert.deepEqual(productTokens('nginx'), [{ name: 'nginx' }]);
  assert.equal(osFromUserAgent('Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko'), 'Windows 7 / Server 2008 R2 (6.1)');
  assert.equal(osFromServerHeader('Apache/2.4.29 (Ubuntu)'), 'Ubuntu Linux');
  assert.equal(osFromServerHeader('Microsoft-IIS/7.5'), 'Windows 7 / Server 2008 R2 (6.1)');
  assert.equal(osFromServerHeader('nginx/1.18.0'), undefined);
  assert.equal(osFromBanner('OpenBSD/i386 (oof) (ttyp2) | login:'), 'OpenBSD');
  assert.equal(osFromBanner('Ubuntu 14.04.6 LTS | server login:'), 'Ubuntu 14.04.6');
  assert.equal(osFromBanner('Microsoft FTP Service'), 'Windows');
  assert.deepEqual(bannerSoftware('(vsFTPd 3.0.3)'), { name: 'vsFTPd', version: '3.0.3' });
  assert.deepEqual(bannerSoftware('mail.example.org ESMTP Postfix (Debian/GNU)'), { name: 'Postfix' });
  assert.deepEqual(bannerSoftware('pigeon.eyrie.af.mil ESMTP Sendmail 8.8.7/8.8.7'), { name: 'Sendmail', version: '8.8.7' });
  assert.equal(osFromUserAgent('Mozilla/5.0 (Linux; Android 10; SM-G973F)'), 'Android 10');
  assert.equal(osFromUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X)'), 'iOS 15.4');
  assert.equal(osFromUserAgent('curl/7.68.0'), undefined);
  assert.deepEqual(dicomImplementation('OFFIS_DCMTK_367'), { name: 'DCMTK', version: '3.6.7' });
  assert.deepEqual(dicomImplementation('PYNETDICOM_200'), { name: 'PYNETDICOM_200' });
});

test('two devices that state the same things share a key and claims, each with its own evidence; any difference parts them', () => {
  const say = (mac: string, ip: string, confidence = 0.9) =>
    builderWith(mac, ip, [
      ['dicom', 'dicom.implementation_class_uid', '1.2.840.113619.6.1', confidence],
      ['tcp', 'os', 'Windows 7 or 8', 0.3],
    ]).devices()[0]!;
  const a = say('00:1b:2c:00:00:01', '10.0.0.1');
  const b = say('00:1b:2c:00:00:02', '10.0.0.2');
  const key = (d: typeof a) => identityKey(d, macIdentity(d, knowledge));
  assert.equal(key(a), key(b));
  const shared = rebindIdentity(identityOf(a, knowledge, macIdentity(a, knowledge)), evidencePlaces(a), b);
  assert.ok(shared);
  const own = identify(b, knowledge);
  assert.deepEqual(deviceOf(b, shared), own);
  // b's own observations and MAC, not a's.
  assert.deepEqual(shared.vendor?.evidence.map((e) => e.frame), own.vendor?.evidence.map((e) => e.frame));
  assert.ok(shared.vendor?.evidence.every((e) => e.frame === 0 ? e.value === '00:1b:2c:00:00:02' : e.frame > 2));
  // Another confidence, another registry assignment, or a value that ends where another begins: another key.
  assert.notEqual(key(say('00:1b:2c:00:00:03', '10.0.0.3', 0.8)), key(a));
  assert.notEqual(key(say('00:15:5d:00:00:03', '10.0.0.3')), key(a));
  const tricky = builderWith('00:1b:2c:00:00:04', '10.0.0.4', [['http', 'http.server', 'x\u00021:y', 0.9]]).devices()[0]!;
  const plain = builderWith('00:1b:2c:00:00:05', '10.0.0.5', [['http', 'http.server', 'x', 0.9], ['http', 'http.server', 'y', 0.9]]).devices()[0]!;
  assert.notEqual(key(tricky), key(plain));
});
