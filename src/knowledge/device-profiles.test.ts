import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  DeviceProfiles,
  deviceProfiles,
  loadDeviceProfileData,
  modalityOfSopClass,
  normaliseHostname,
  profileLiterals,
  type DeviceProfile,
  type DeviceProfileData,
  type ProfileMatch,
} from './device-profiles.ts';
import { parseDeviceProfileData } from './device-profiles-schema.ts';
import { dataFile } from './paths.ts';
import registry from '../../data/dicom-uids.json' with { type: 'json' };
import { corpus, hasCorpus, observeCapture, values } from '../../test/helpers/observe.ts';

const data = loadDeviceProfileData();
const kb = deviceProfiles();

function conditions(p: DeviceProfile) {
  return p.match.any ?? p.match.all ?? [];
}
function attrs(a: string | string[]): string[] {
  return typeof a === 'string' ? [a] : a;
}
function clone(d: DeviceProfileData): DeviceProfileData {
  return JSON.parse(JSON.stringify(d)) as DeviceProfileData;
}
const byProfile = (ms: ProfileMatch[], id: string): ProfileMatch | undefined => ms.find((m) => m.profile === id);

test('the shipped knowledge base validates and is read as validation returns it (the loader skips validating it)', () => {
  const raw = JSON.parse(readFileSync(dataFile('device-profiles.json'), 'utf8')) as unknown;
  assert.deepEqual(parseDeviceProfileData(raw), raw);
  assert.deepEqual(data, raw);
});

test('the knowledge base is broad', () => {
  assert.ok(data.profiles.length >= 80, `${data.profiles.length} profiles`);
  const categories = new Set(data.profiles.map((p) => p.category));
  for (const c of ['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it'] as const) assert.ok(categories.has(c), `no profile for ${c}`);
  // The kinds of evidence the issue asks for are all represented.
  const attributes = new Set(data.profiles.flatMap((p) => conditions(p).flatMap((c) => attrs(c.attribute))));
  for (const a of ['dicom.implementation_class_uid', 'dicom.implementation_version', 'dicom.ae_title', 'dicom.abstract_syntax', 'hl7.sending_application', 'http.server', 'http.title', 'dhcp.vendor_class', 'mdns.txt', 'ssdp.server', 'snmp.sys_descr', 'tls.cert_subject', 'hostname', 'oui.vendor']) {
    assert.ok(attributes.has(a), `no profile on ${a}`);
  }
  const types = new Set(data.profiles.map((p) => p.type));
  for (const t of ['CT scanner', 'MR scanner', 'infusion pump', 'patient monitor', 'laboratory analyser', 'PACS', 'DICOM workstation', 'HL7 interface engine', 'printer', 'IP camera', 'building controller', 'ventilator', 'nurse call system']) {
    assert.ok(types.has(t), `no profile of type ${t}`);
  }
});

test('every profile names a public source and explains itself', () => {
  for (const p of data.profiles) {
    assert.match(p.source, /https?:\/\/|www\.|PS3\.|RFC \d+|IEEE|IANA|conformance statement/i, `${p.id}: source "${p.source}"`);
    assert.ok(p.rule.length >= 20, `${p.id}: rule too short`);
    const claims = [p.vendor, p.productLine, p.model, p.type, p.modality, p.software, p.category].filter((v) => v !== undefined);
    assert.ok(claims.length > 0, `${p.id} claims nothing`);
  }
});

test('the loader rejects what zod cannot see: bad regexes, groups that do not exist, duplicate ids, unknown SOP modalities', () => {
  const base = clone(data);
  const bad = (mutate: (d: DeviceProfileData) => void, why: RegExp): void => {
    const d = clone(base);
    mutate(d);
    assert.throws(() => parseDeviceProfileData(d), why);
  };
  const first = (d: DeviceProfileData): DeviceProfile => d.profiles[0] as DeviceProfile;
  bad((d) => ((first(d) as { source?: string }).source = undefined), /source/);
  bad((d) => (first(d).category = 'toaster' as DeviceProfile['category']), /category/);
  bad((d) => (first(d).confidence = 1.5), /confidence/);
  bad((d) => (first(d).match = { any: [{ attribute: 'http.server', regex: '(' }] }), /does not compile/);
  bad((d) => (first(d).match = { any: [{ attribute: 'http.server', regex: '^x(y)$' }] }, (first(d).model = '$2')), /only 1 group/);
  bad((d) => (first(d).match = { any: [{ attribute: 'http.server', equals: 'x' }] }, (first(d).model = '$1')), /not every condition is a regex/);
  bad((d) => (first(d).match = { any: [{ attribute: 'http.server', equals: 'x', prefix: 'y' }] }), /exactly one/);
  bad((d) => d.profiles.push(first(d)), /duplicate id/);
  bad((d) => (first(d).match = { any: [{ attribute: 'dicom.abstract_syntax', sopModality: 'ZZ' }] }), /no SOP class has modality ZZ/);
  assert.doesNotThrow(() => parseDeviceProfileData(clone(base)));
});

test('no two profiles contradict each other on the same condition', () => {
  const CLAIMS = ['vendor', 'type', 'modality', 'category', 'criticality', 'software'] as const;
  const seen = new Map<string, DeviceProfile>();
  for (const p of data.profiles) {
    for (const c of conditions(p)) {
      for (const a of attrs(c.attribute)) {
        const key = `${a}|${JSON.stringify([c.equals?.toLowerCase(), c.prefix?.toLowerCase(), c.regex, c.sopModality])}|${p.match.all !== undefined}`;
        const other = seen.get(key);
        if (other === undefined) {
          seen.set(key, p);
          continue;
        }
        for (const k of CLAIMS) {
          if (p[k] !== undefined && other[k] !== undefined) assert.equal(p[k], other[k], `${p.id} and ${other.id} share ${key} but disagree on ${k}`);
        }
      }
    }
  }
  // And no example value makes two confident profiles name different vendors.
  for (const p of data.profiles) {
    for (const ex of p.examples ?? []) {
      for (const a of new Set(conditions(p).flatMap((c) => attrs(c.attribute)))) {
        const vendors = new Set(kb.match(a, ex).filter((m) => m.vendor !== undefined && m.confidence >= 0.8).map((m) => m.vendor));
        assert.ok(vendors.size <= 1, `${a} = "${ex}" names ${[...vendors].join(' and ')}`);
      }
    }
  }
});

test("every profile's examples match it", () => {
  let checked = 0;
  for (const p of data.profiles) {
    for (const ex of p.examples ?? []) {
      const as = [...new Set(conditions(p).flatMap((c) => attrs(c.attribute)))];
      const hit = as.some((a) => byProfile(kb.match(a, ex), p.id) !== undefined);
      assert.ok(hit, `${p.id}: example "${ex}" does not match on ${as.join(', ')}`);
      checked++;
    }
  }
  assert.ok(checked >= 150, `${checked} examples`);
  // A profile without examples must be a SOP-class or "all of" profile (checked through the SOP table below).
  for (const p of data.profiles) {
    if ((p.examples ?? []).length === 0) assert.ok(p.match.all !== undefined || conditions(p).every((c) => c.sopModality !== undefined), `${p.id} has no examples`);
  }
});

test('claims come from regex groups: model, version, product line', () => {
  const hp = byProfile(kb.match('http.server', 'HP HTTP Server; HP Color LaserJet MFP M477fdw - CF379A; Serial Number: X'), 'http-hp-printer');
  assert.equal(hp?.model, 'Color LaserJet MFP M477fdw');
  assert.equal(hp?.vendor, 'HP');
  const iis = byProfile(kb.match('http.server', 'Microsoft-IIS/7.5'), 'http-iis');
  assert.equal(iis?.softwareVersion, '7.5');
  const cisco = byProfile(kb.match('dhcp.vendor_class', 'Cisco Systems, Inc. IP Phone CP-7965G'), 'dhcp-cisco-phone');
  assert.equal(cisco?.model, 'CP-7965G');
  const ct = byProfile(kb.match('http.title', 'SOMATOM go.Up'), 'modality-names-ct');
  assert.equal(ct?.productLine, 'SOMATOM');
  assert.equal(ct?.modality, 'CT');
  // A group that did not take part leaves the claim out rather than inventing "undefined".
  const dcmtkRoot = byProfile(kb.match('dicom.implementation_class_uid', '1.2.276.0.7230010.3.1.2'), 'dcmtk-uid');
  assert.equal(dcmtkRoot?.software, 'DCMTK');
  assert.equal(dcmtkRoot?.softwareVersion, undefined);
});

test('vendor UID roots name the vendor strongly and the modality not at all', () => {
  const ge = kb.match('dicom.implementation_class_uid', '1.2.840.113619.6.374');
  const m = byProfile(ge, 'dicom-root-ge');
  assert.equal(m?.vendor, 'GE Healthcare');
  assert.equal(m?.modality, undefined);
  assert.ok((m?.confidence ?? 0) >= 0.85);
  assert.equal(m?.rule, "DICOM implementation class UID 1.2.840.113619.6.374 has GE Healthcare's root 1.2.840.113619");
  // A root is a root: 1.2.840.1136190 is not GE's.
  assert.equal(byProfile(kb.match('dicom.implementation_class_uid', '1.2.840.1136190.1'), 'dicom-root-ge'), undefined);
  const siemens = kb.match('dicom.implementation_class_uid', '1.3.12.2.1107.5.2');
  assert.equal(siemens[0]?.vendor, 'Siemens Healthineers');
  // An SOP class says the modality, at ~0.7, and no vendor.
  const ct = kb.match('dicom.abstract_syntax', '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)');
  assert.equal(ct.length, 1);
  assert.equal(ct[0]?.modality, 'CT');
  assert.equal(ct[0]?.type, 'CT scanner');
  assert.equal(ct[0]?.vendor, undefined);
  assert.ok(Math.abs((ct[0]?.confidence ?? 0) - 0.7) < 0.11);
  // Verification and Secondary Capture say nothing about the device.
  assert.deepEqual(kb.match('dicom.abstract_syntax', '1.2.840.10008.1.1 (Verification)'), []);
  assert.deepEqual(kb.match('dicom.abstract_syntax', '1.2.840.10008.5.1.4.1.1.7 (Secondary Capture Image Storage)'), []);
});

test('SOP class table: PS3.6 names reused from data/dicom-uids.json, only new storage classes added', () => {
  const uids = registry.uids as Record<string, { name: string; kind: string; modality?: string }>;
  for (const [uid, e] of Object.entries(data.sopClasses.classes)) {
    assert.equal(uids[uid]?.modality, undefined, `${uid} (${e.name}) is already in data/dicom-uids.json`);
    assert.match(uid, /^1\.2\.840\.10008\.5\.1\.4\.1\.1\./, `${uid} is not a storage SOP class`);
    assert.equal(modalityOfSopClass(uid), e.modality);
  }
  assert.equal(modalityOfSopClass('1.2.840.10008.5.1.4.1.1.4 (MR Image Storage)'), 'MR');
  assert.equal(modalityOfSopClass('1.2.840.10008.5.1.4.1.1.1.2'), 'MG');
  assert.equal(modalityOfSopClass('1.2.840.10008.5.1.4.1.1.9.1.1'), 'ECG');
  assert.equal(modalityOfSopClass('1.2.840.10008.5.1.4.1.1.77.1.5.4'), 'OPT');
  assert.equal(modalityOfSopClass('1.2.840.10008.5.1.4.31 (Modality Worklist Information Model - FIND)'), undefined);
  assert.equal(modalityOfSopClass('not a uid'), undefined);
  // Every modality a profile relies on has a SOP class, and each SOP-class profile fires on one of them.
  const table = new Map<string, string>([...Object.entries(uids).flatMap(([u, e]) => (e.kind === 'storage' && e.modality !== undefined ? [[u, e.modality] as [string, string]] : [])), ...Object.entries(data.sopClasses.classes).map(([u, e]) => [u, e.modality] as [string, string])]);
  for (const p of data.profiles.filter((q) => q.match.any !== undefined && conditions(q).some((c) => c.sopModality !== undefined))) {
    const uid = [...table].find(([, mod]) => conditions(p).some((c) => c.sopModality === mod))?.[0];
    assert.ok(uid !== undefined, `${p.id}: no SOP class`);
    assert.ok(byProfile(kb.match('dicom.abstract_syntax', uid), p.id), `${p.id} does not fire on ${uid}`);
  }
});

test('pseudo-attributes: any hostname the device claims, either AE title, the OUI vendor', () => {
  assert.equal(normaliseHostname('XRX9C934E949FEF<20>'), 'XRX9C934E949FEF');
  assert.equal(normaliseHostname('Lucas-iMac.local.'), 'Lucas-iMac');
  assert.equal(normaliseHostname('10.1.2.3'), '10.1.2.3');
  for (const a of ['dhcp.hostname', 'netbios.name', 'mdns.hostname', 'llmnr.hostname', 'snmp.sys_name']) {
    const m = byProfile(kb.match(a, a === 'netbios.name' ? 'XRX9C934E949FEF<00>' : 'XRX9C934E949FEF.corp.example'), 'host-xerox');
    assert.equal(m?.vendor, 'Xerox', a);
    assert.equal(m?.attribute, a);
  }
  assert.equal(byProfile(kb.match('http.title', 'XRX9C934E949FEF'), 'host-xerox'), undefined);
  assert.equal(kb.match('dicom.calling_ae', 'ORTHANC')[0]?.software, 'Orthanc');
  assert.equal(kb.match('dicom.called_ae', 'ORTHANC')[0]?.software, 'Orthanc');
  const pump = kb.match('oui.vendor', 'B.Braun Melsungen AG');
  assert.equal(pump[0]?.vendor, 'B. Braun');
  assert.equal(pump[0]?.category, 'infusion');
  assert.equal(pump[0]?.criticality, 'life-sustaining');
  assert.ok((pump[0]?.typeConfidence ?? 1) < (pump[0]?.confidence ?? 0));
});

test('OUI profiles match the organisation names IEEE actually registered', { skip: !hasCorpus() && 'shared corpus not present' }, () => {
  // The IEEE registries (MA-L, MA-M, MA-S, IAB) as Debian's ieee-data shipped them, plus the oui-data package Vigil reads at run time.
  const names = new Set<string>();
  for (const f of ['oui.csv', 'mam.csv', 'oui36.csv', 'iab.csv']) {
    const csv = corpus(`knowledge/oui/ieee-data/${f}`);
    if (!existsSync(csv)) continue;
    for (const l of readFileSync(csv, 'utf8').split('\n').slice(1)) {
      const n = /^[^,]*,[^,]*,("(?:[^"]|"")*"|[^,]*)/.exec(l)?.[1]?.replace(/^"|"$/g, '').replace(/""/g, '"').trim();
      if (n !== undefined && n !== '') names.add(n);
    }
  }
  try {
    const index = createRequire(import.meta.url).resolve('oui-data');
    for (const v of Object.values(JSON.parse(readFileSync(index, 'utf8')) as Record<string, string>)) names.add(v.split('\n', 1)[0]?.trim() ?? '');
  } catch {
    // oui-data not installed: the corpus snapshot alone.
  }
  if (names.size === 0) return;
  const unmatched: string[] = [];
  for (const p of data.profiles.filter((q) => conditions(q).some((c) => attrs(c.attribute).includes('oui.vendor')))) {
    if (![...names].some((n) => byProfile(kb.match('oui.vendor', n), p.id) !== undefined)) unmatched.push(p.id);
  }
  assert.deepEqual(unmatched, [], 'OUI profiles matching no IEEE organisation');
});

test('"all of" profiles need every condition, from any of the device\'s facts', () => {
  const ct = { attribute: 'dicom.abstract_syntax', value: '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)' };
  const mr = { attribute: 'dicom.abstract_syntax', value: '1.2.840.10008.5.1.4.1.1.4 (MR Image Storage)' };
  const us = { attribute: 'dicom.abstract_syntax', value: '1.2.840.10008.5.1.4.1.1.6.1 (Ultrasound Image Storage)' };
  assert.equal(byProfile(kb.matchAll([ct, mr]), 'sop-pacs-router'), undefined);
  const all = kb.matchAll([ct, mr, us, ct]);
  const router = byProfile(all, 'sop-pacs-router');
  assert.equal(router?.type, 'PACS or DICOM router');
  assert.equal(router?.facts?.length, 3);
  assert.equal(all.filter((m) => m.profile === 'sop-ct').length, 1, 'each profile/value once');
  // match() alone never reports an "all of" profile.
  assert.equal(byProfile(kb.match(ct.attribute, ct.value), 'sop-pacs-router'), undefined);
});

test('results are memoised but the caller owns the returned array', () => {
  const a = kb.match('http.server', 'Microsoft-IIS/10.0');
  a.length = 0;
  assert.equal(kb.match('http.server', 'Microsoft-IIS/10.0').length, 1);
  assert.deepEqual(kb.match('no.such.attribute', 'x'), []);
  assert.deepEqual(kb.match('http.server', '   '), []);
});

test('performance sanity: 100,000 distinct values through a small cache', () => {
  const small = new DeviceProfiles(loadDeviceProfileData(), { cacheSize: 1000 });
  const attributes = ['http.server', 'dicom.implementation_class_uid', 'dhcp.hostname', 'oui.vendor', 'http.title', 'dicom.abstract_syntax', 'hl7.sending_application', 'mdns.txt'];
  let hits = 0;
  for (let i = 0; i < 100_000; i++) {
    const a = attributes[i % attributes.length] as string;
    const v = a === 'dicom.implementation_class_uid' ? `1.2.840.113619.6.${i}` : a === 'oui.vendor' ? `Vendor ${i} Inc` : `device-${i}-${a}`;
    hits += small.match(a, v).length;
  }
  assert.equal(hits, 12_500); // every GE UID, nothing else
  // Evicted values are recomputed identically.
  assert.equal(small.match('dicom.implementation_class_uid', '1.2.840.113619.6.0')[0]?.vendor, 'GE Healthcare');
});

// ---------------------------------------------------------------------------------------------
// Real values: Vigil's own sensor over the shared corpus captures.

const DICOM = 'pcaps/medical/dicom/dicom-dcmtk-loopback.pcap';
const HL7 = 'pcaps/medical/hl7/ndpi-hl7.pcap';

test('DICOM capture (dcmtk 3.6.7): the toolkit is named as software, not as a vendor', { skip: !hasCorpus() && 'shared corpus not present' }, async () => {
  const { observations } = await observeCapture(corpus(DICOM));
  const versions = values(observations, 'dicom.implementation_version');
  assert.ok(versions.includes('OFFIS_DCMTK_367'));
  const v = kb.match('dicom.implementation_version', 'OFFIS_DCMTK_367');
  assert.equal(v.length, 1);
  assert.equal(v[0]?.software, 'DCMTK');
  assert.equal(v[0]?.softwareVersion, '3.6.7');
  assert.equal(v[0]?.vendor, undefined);
  for (const uid of values(observations, 'dicom.implementation_class_uid')) {
    const m = kb.match('dicom.implementation_class_uid', uid);
    assert.equal(m[0]?.software, 'DCMTK', uid);
    assert.equal(m[0]?.softwareVersion, '3.6.7', uid);
    assert.ok(m.every((x) => x.vendor === undefined), uid);
  }
  const facts = observations.map((o) => ({ attribute: o.attribute, value: o.value }));
  const all = kb.matchAll(facts);
  assert.ok(all.every((m) => m.vendor === undefined), 'a dcmtk capture names no device vendor');
  // The AE titles the capture used follow the modality naming convention: weak type hints only.
  const ct = kb.match('dicom.calling_ae', 'CT_SCANNER01')[0];
  assert.equal(ct?.modality, 'CT');
  assert.ok((ct?.confidence ?? 1) < 0.5);
  assert.equal(kb.match('dicom.calling_ae', 'MR_SCANNER02')[0]?.modality, 'MR');
  assert.equal(kb.match('dicom.called_ae', 'PACS_QR')[0]?.type, 'PACS');
  // storescu proposes every storage class it knows: that is what a generic sender does.
  assert.ok(byProfile(all, 'sop-pacs-router') !== undefined);
  assert.ok(values(observations, 'dicom.abstract_syntax').some((s) => modalityOfSopClass(s) === 'CT'));
});

test('HL7 capture: placeholder application names claim no vendor', { skip: !hasCorpus() && 'shared corpus not present' }, async () => {
  const { observations } = await observeCapture(corpus(HL7));
  const apps = values(observations, 'hl7.sending_application');
  assert.ok(apps.includes('SENDING_APPLICATION'));
  for (const a of apps) assert.deepEqual(kb.match('hl7.sending_application', a), [], a);
  // And the engine names a real interface would carry do match.
  assert.equal(kb.match('hl7.sending_application', 'EPIC')[0]?.vendor, 'Epic Systems');
  assert.equal(kb.match('http.title', 'Mirth Connect Administrator')[0]?.type, 'HL7 interface engine');
});

const NDPI = ['identity/ndpi', 'leaks/ndpi'];

test('HTTP Server headers and DHCP vendor classes from the nDPI captures', { skip: !hasCorpus() && 'shared corpus not present' }, async () => {
  const { readdirSync } = await import('node:fs');
  const seen = new Map<string, Set<string>>();
  for (const dir of NDPI) {
    const abs = corpus(`pcaps/${dir}`);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs)) {
      if (!/\.pcap(ng)?$/.test(f)) continue;
      const { observations } = await observeCapture(`${abs}/${f}`);
      for (const o of observations) {
        if (!['http.server', 'dhcp.vendor_class', 'tls.cert_subject', 'dhcp.hostname', 'mdns.txt', 'snmp.engine_enterprise'].includes(o.attribute)) continue;
        let s = seen.get(o.attribute);
        if (s === undefined) seen.set(o.attribute, (s = new Set()));
        s.add(o.value);
      }
    }
  }
  const servers = seen.get('http.server') ?? new Set();
  for (const v of servers) kb.match('http.server', v); // none throws, whatever the bytes
  const expect = (attribute: string, value: string, check: (m: ProfileMatch[]) => void): void => {
    if (!(seen.get(attribute)?.has(value) ?? false)) assert.fail(`${attribute} "${value}" no longer in the corpus`);
    check(kb.match(attribute, value));
  };
  expect('http.server', 'Microsoft-IIS/10.0', (m) => assert.equal(m[0]?.software, 'IIS'));
  // The Windows HTTP stack names the OS and its software, not the hardware's maker: no vendor claim.
  expect('http.server', 'Microsoft-HTTPAPI/2.0', (m) => {
    assert.equal(m[0]?.software, 'HTTP.sys');
    assert.equal(m[0]?.vendor, undefined);
  });
  expect('http.server', 'Virata-EmWeb/R6_2_1', (m) => assert.equal(m[0]?.type, 'printer'));
  expect('http.server', 'Apache/2.4.18 (Ubuntu)', (m) => assert.equal(m[0]?.type, 'Linux server'));
  expect('http.server', 'SimpleHTTP/0.6 Python/3.4.2', (m) => assert.equal(m[0]?.softwareVersion, '3.4.2'));
  expect('http.server', 'nginx', (m) => assert.deepEqual(m, []));
  expect('dhcp.vendor_class', 'android-dhcp-9', (m) => {
    assert.equal(m[0]?.software, 'Android');
    assert.equal(m[0]?.softwareVersion, '9');
  });
  expect('tls.cert_subject', 'C=US, ST=Connecticut, L=Norwalk, O=Xerox Corporation, OU=Global Product Delivery Group, CN=XRX9C934E949FEF', (m) => assert.equal(m[0]?.vendor, 'Xerox'));
  expect('dhcp.hostname', 'Lucas-iPhone', (m) => assert.equal(m[0]?.vendor, 'Apple'));
  expect('mdns.txt', 'model=iMac11,3', (m) => assert.equal(m[0]?.model, 'iMac11,3'));
  expect('snmp.engine_enterprise', '9', (m) => assert.equal(m[0]?.vendor, 'Cisco'));
});

// ---------------------------------------------------------------------------------------------
// Cross-check of the DHCP vendor-class profiles against Satori (GPL-2.0) and FingerBank (ODbL),
// read here at test time only: neither is bundled or copied into Vigil.

function satoriVendorClasses(): { code: string; label: string }[] {
  const xml = corpus('knowledge/fingerprints/satori/dhcp.xml');
  if (!existsSync(xml)) return [];
  const out: { code: string; label: string }[] = [];
  for (const fp of readFileSync(xml, 'utf8').split('<fingerprint ').slice(1)) {
    const label = ['name', 'os_name', 'os_vendor', 'device_vendor'].map((k) => new RegExp(`${k}="([^"]*)"`).exec(fp)?.[1] ?? '').join(' ');
    for (const m of fp.matchAll(/dhcpvendorcode="([^"]+)"/g)) out.push({ code: m[1] as string, label });
  }
  return out;
}

function fingerbankVendorClasses(): { code: string; label: string }[] {
  const conf = corpus('knowledge/fingerprints/fingerbank/dhcp_fingerprints.conf');
  if (!existsSync(conf)) return [];
  const out: { code: string; label: string }[] = [];
  for (const block of readFileSync(conf, 'utf8').split(/\n\[/).slice(1)) {
    const label = /description=(.*)/.exec(block)?.[1] ?? '';
    const ids = /vendor_id=<<EOT\n([\s\S]*?)\nEOT/.exec(block)?.[1];
    for (const code of ids?.split('\n') ?? []) if (code.trim() !== '') out.push({ code: code.trim(), label });
  }
  return out;
}

test('DHCP vendor-class profiles agree with Satori and FingerBank', { skip: !hasCorpus() && 'shared corpus not present' }, () => {
  const entries = [...satoriVendorClasses(), ...fingerbankVendorClasses()];
  if (entries.length === 0) return;
  const labels = new Map<string, string[]>();
  for (const { code, label } of entries) {
    const l = labels.get(code);
    if (l === undefined) labels.set(code, [label]);
    else l.push(label);
  }
  const alias: Record<string, RegExp> = { Microsoft: /Microsoft|Windows/i, Polycom: /Polycom|Poly/i };
  let agreed = 0;
  for (const [code, ls] of labels) {
    for (const m of kb.match('dhcp.vendor_class', code)) {
      // Profiles that name software only (dhcpcd, udhcpc, PXE) describe the client, which those databases label by device.
      const word = m.vendor !== undefined ? (m.vendor.split(/[ (]/)[0] as string) : m.software === 'Android' ? 'Android' : undefined;
      if (word === undefined) continue;
      const re = alias[word] ?? new RegExp(word, 'i');
      const agree = ls.filter((l) => re.test(l)).length;
      // A vendor class can be imitated (some IP cameras send "MSFT 98"): the databases must mostly agree, and a profile they disagree with must not be confident.
      assert.ok(agree > 0, `"${code}": ${m.profile} says ${word}, the databases say ${ls.join(' | ')}`);
      if (agree < ls.length) assert.ok(m.confidence <= 0.6, `"${code}": ${m.profile} is confident, but the databases also say ${ls.filter((l) => !re.test(l)).join(' | ')}`);
      agreed++;
    }
  }
  assert.ok(agreed >= 5, `${agreed} vendor classes cross-checked`);
});

test('HTTP Server profiles agree with Satori\'s web-server fingerprints', { skip: !hasCorpus() && 'shared corpus not present' }, () => {
  const xml = corpus('knowledge/fingerprints/satori/web.xml');
  if (!existsSync(xml)) return;
  let checked = 0;
  for (const fp of readFileSync(xml, 'utf8').split('<fingerprint ').slice(1)) {
    const label = /name="([^"]*)"/.exec(fp)?.[1] ?? '';
    for (const w of fp.matchAll(/webserver="([^"]+)"/g)) {
      for (const m of kb.match('http.server', w[1] as string)) {
        if (m.vendor === undefined || label === '') continue;
        const re = m.vendor === 'Microsoft' ? /Microsoft|Windows|IIS/i : new RegExp((m.vendor.split(/[ (]/)[0] as string), 'i');
        // Satori sometimes names only the kind ("Generic Printer"): then the kind must agree.
        const kind = m.type === undefined ? undefined : new RegExp(m.type.split(' ')[0] as string, 'i');
        assert.ok(re.test(label) || (/generic/i.test(label) && kind?.test(label) === true), `"${w[1]}": ${m.profile} says ${m.vendor} ${m.type ?? ''}, Satori says "${label}"`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 3, `${checked} server strings cross-checked`);
});

test('the shipped file is the one the loader reads', () => {
  assert.ok(existsSync(dataFile('device-profiles.json')));
  assert.equal(DeviceProfiles.load(), kb);
});

test('literals worked out at build time (profileLiterals) give the same matches; a pattern they do not know is worked out as before', () => {
  const prepared = profileLiterals(data);
  assert.ok(Object.keys(prepared).length >= 50, `${Object.keys(prepared).length} patterns`);
  const withPrepared = new DeviceProfiles(data, { literals: prepared });
  const without = new DeviceProfiles(data);
  // Every example of every profile, on every attribute its conditions read: the same matches both ways.
  for (const p of data.profiles) {
    for (const ex of p.examples ?? []) {
      for (const a of new Set(conditions(p).flatMap((c) => attrs(c.attribute)))) assert.deepEqual(withPrepared.match(a, ex), without.match(a, ex), `${p.id} ${a} ${ex}`);
    }
  }
  // A prepared map that lacks a pattern (a profile added since the build) still matches it.
  const edited = clone(data);
  const one = edited.profiles.find((p) => conditions(p).some((c) => c.regex !== undefined && (p.examples ?? []).length > 0)) as DeviceProfile;
  const partial = new DeviceProfiles(edited, { literals: {} });
  const ex = (one.examples ?? [])[0] as string;
  assert.ok(new Set(conditions(one).flatMap((c) => attrs(c.attribute))).size > 0);
  assert.ok([...new Set(conditions(one).flatMap((c) => attrs(c.attribute)))].some((a) => byProfile(partial.match(a, ex), one.id) !== undefined), one.id);
});
