/**
 * The shipped device catalogue (data/simulator/catalogue.json) against the public references its
 * facts were taken from: the IEEE MA-L registry, p0f v3's SYN signatures, Fingerbank and Satori
 * DHCP fingerprints, DICOM UID syntax. Provenance of each fact: data/simulator/SOURCES.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadCatalogue, type OsProfile } from './catalogue.ts';
import { synOptions } from './conversation.ts';
import { matchTcp, p0fDatabase } from '../protocols/p0f-db.ts';
import { readTcpOptions } from '../protocols/tcp-fingerprint.ts';
import { dataFile } from '../knowledge/paths.ts';
import { corpus } from '../../test/helpers/observe.ts';

const cat = loadCatalogue(dataFile('simulator/catalogue.json'));
const osOf = (id: string): OsProfile => {
  const d = cat.devices.find((x) => x.id === id);
  assert.ok(d !== undefined, id);
  return cat.osProfiles[d.os] as OsProfile;
};

test('the shipped catalogue loads, with at least 28 kinds across all seven categories', () => {
  assert.ok(cat.devices.length >= 28, `${cat.devices.length} kinds`);
  const categories = new Set(cat.devices.map((d) => d.category));
  for (const c of ['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it']) assert.ok(categories.has(c as never), c);
});

test('the kinds a hospital has are all there', () => {
  const text = (d: (typeof cat.devices)[number]) => `${d.type} ${d.model}`.toLowerCase();
  const has = (what: string, pred: (d: (typeof cat.devices)[number]) => boolean) => assert.ok(cat.devices.some(pred), `a ${what}`);
  for (const t of ['ct scanner', 'mr scanner', 'x-ray', 'ultrasound', 'mammography', 'pacs', 'worklist', 'radiology reading workstation', 'infusion pump', 'patient monitor', 'central monitoring', 'analyser', 'nurse call', 'medication', 'thin client', 'domain controller', 'interface engine', 'ip camera', 'printer', 'voip', 'building', 'ups']) {
    has(t, (d) => text(d).includes(t));
  }
  // Two vendors each of infusion pumps, patient monitors and lab analysers.
  for (const [what, pred] of [
    ['pump', (d: (typeof cat.devices)[number]) => d.category === 'infusion'],
    ['monitor', (d: (typeof cat.devices)[number]) => /patient monitor/i.test(d.type)],
    ['analyser', (d: (typeof cat.devices)[number]) => /analyser/i.test(d.type)],
  ] as const) {
    assert.ok(new Set(cat.devices.filter(pred).map((d) => d.vendor)).size >= 2, `${what}s from two vendors`);
  }
  // Exactly the DICOM services one of which the simulator looks for.
  assert.equal(cat.devices.filter((d) => d.dicom?.role === 'pacs').length, 1, 'one PACS');
  assert.equal(cat.devices.filter((d) => d.dicom?.role === 'worklist').length, 1, 'one worklist');
  assert.equal(cat.devices.filter((d) => d.hl7?.role === 'engine').length, 1, 'one HL7 engine');
  // Workstations and servers on each Windows generation, and Linux servers.
  const byOs = (o: string) => cat.devices.filter((d) => (cat.osProfiles[d.os]?.name ?? '').includes(o));
  for (const o of ['Windows XP', 'Windows 7', 'Windows 10', 'Windows 11', 'Windows Embedded', 'Windows XP Embedded', 'Windows Server 2008 R2', 'Windows Server 2012 R2', 'Windows Server 2019', 'Linux']) {
    assert.ok(byOs(o).length > 0, `a device on ${o}`);
  }
  assert.ok(byOs('Windows Embedded').some((d) => d.category === 'imaging' && d.dicom?.role === 'modality'), 'a modality console on Windows Embedded');
  assert.ok(cat.devices.some((d) => d.category === 'general-it' && cat.osProfiles[d.os]?.family === 'linux' && /server/i.test(d.type)), 'a Linux server');
});

test('the mix suits a ~500-bed hospital: many workstations, pumps and monitors, few big modalities', () => {
  const total = cat.devices.reduce((s, d) => s + d.per100, 0);
  const share = (pred: (d: (typeof cat.devices)[number]) => boolean) => (100 * cat.devices.filter(pred).reduce((s, d) => s + d.per100, 0)) / total;
  assert.ok(share((d) => /workstation|thin client/i.test(d.type)) > 25, 'workstations');
  assert.ok(share((d) => d.category === 'infusion') > 15, 'pumps');
  assert.ok(share((d) => d.category === 'patient-monitoring') > 8, 'monitors');
  assert.ok(share((d) => /CT scanner|MR scanner/.test(d.type)) < 1, 'CT and MR are rare');
  for (const d of cat.devices) if (d.dicom?.role === 'pacs' || d.dicom?.role === 'worklist' || d.hl7?.role === 'engine') assert.ok(d.per100 <= 0.1 && d.min === 1, `${d.id}: one per site`);
});

const IEEE = corpus('knowledge/oui/ieee-data/oui.csv');
test('every OUI is an IEEE MA-L assignment of the vendor named in its source note', { skip: !existsSync(IEEE) && 'corpus not present' }, () => {
  const registry = new Map<string, string>();
  for (const line of readFileSync(IEEE, 'utf8').split('\n')) {
    // MA-L,<hex>,<organisation (quoted when it holds a comma)>,<address>
    const m = /^MA-L,([0-9A-F]{6}),("([^"]*)"|[^,]*)/.exec(line);
    if (m !== null) registry.set(m[1] as string, m[3] ?? (m[2] as string));
  }
  assert.ok(registry.size > 30000, 'registry parsed');
  for (const d of cat.devices) {
    for (const oui of d.oui) {
      const org = registry.get(oui.replace(/:/g, ''));
      assert.ok(org !== undefined, `${d.id}: ${oui} is not in the IEEE registry`);
      // The registry's organisation (its first real word: "Dell", "Hewlett", "Becton", "Intel" …) is
      // named in the kind's vendor or source note, so an OUI of the wrong company is caught.
      const word = (org.split(/[\s,.]+/).find((w) => w.length >= 3) ?? org).toLowerCase();
      assert.ok(`${d.vendor} ${d.source ?? ''}`.toLowerCase().includes(word), `${d.id}: ${oui} belongs to "${org}", not mentioned for this kind`);
    }
  }
});

test('DICOM: UIDs are valid (≤ 64 characters, no leading zeros), AE titles fit, roots are the vendors’ own', () => {
  const uid = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
  const roots: Record<string, string> = {
    'GE Healthcare': '1.2.840.113619.',
    'Siemens Healthineers': '1.3.12.2.1107.5.',
    Philips: '1.3.46.670589.',
    'Agfa HealthCare': '1.2.124.113532.',
    'Canon Medical Systems': '1.2.392.200036.9116.',
    FUJIFILM: '1.2.392.200036.9125.',
    'Carestream Health': '1.2.840.113564.',
  };
  let n = 0;
  for (const d of cat.devices) {
    if (d.dicom === undefined) continue;
    n++;
    for (const u of [d.dicom.implementationClassUid, ...d.dicom.sopClasses]) assert.ok(u.length <= 64 && uid.test(u), `${d.id}: ${u}`);
    for (const s of d.dicom.sopClasses) assert.ok(s.startsWith('1.2.840.10008.'), `${d.id}: ${s} is not a standard SOP class`);
    assert.ok(d.dicom.aeTitle.replace(/\{n(:\d+)?\}/g, (_, w: string | undefined) => '9'.repeat(Math.max(2, Number(w?.slice(1) ?? 2)))).length <= 16, `${d.id}: AE title too long`);
    const root = roots[d.vendor];
    if (root !== undefined) assert.ok(d.dicom.implementationClassUid.startsWith(root), `${d.id}: ${d.dicom.implementationClassUid} is not under ${root}`);
    // A modality stores its own image class; the worklist answers MWL C-FIND.
    if (d.dicom.role === 'modality') assert.ok(d.dicom.sopClasses.some((s) => s.startsWith('1.2.840.10008.5.1.4.1.1.')), `${d.id}: no storage class`);
    if (d.dicom.role === 'worklist') assert.ok(d.dicom.sopClasses.includes('1.2.840.10008.5.1.4.31'), `${d.id}: no MWL`);
  }
  assert.ok(n >= 8);
  const sop = (id: string) => cat.devices.find((d) => d.id === id)?.dicom?.sopClasses ?? [];
  assert.ok(sop('ct-ge-revolution').includes('1.2.840.10008.5.1.4.1.1.2'));
  assert.ok(sop('mr-siemens-vida').includes('1.2.840.10008.5.1.4.1.1.4'));
  assert.ok(sop('dx-philips').includes('1.2.840.10008.5.1.4.1.1.1.1'));
  assert.ok(sop('us-ge-logiq').includes('1.2.840.10008.5.1.4.1.1.6.1'));
  assert.ok(sop('mg-fujifilm').includes('1.2.840.10008.5.1.4.1.1.1.2'));
  assert.ok(sop('pacs-agfa').includes('1.2.840.10008.1.1') && sop('pacs-agfa').includes('1.2.840.10008.5.1.4.1.2.2.2'));
});

/** The [tcp:request] signatures of a p0f v3 database, by label. Just enough of the format for this test. */
function p0fRequestSigs(text: string): Map<string, string[]> {
  const sigs = new Map<string, string[]>();
  let section = '';
  let label = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    else if (section === '[tcp:request]' && line.startsWith('label')) label = line.replace(/^label\s*=\s*/, '');
    else if (section === '[tcp:request]' && line.startsWith('sig')) (sigs.get(label) ?? sigs.set(label, []).get(label))?.push(line.replace(/^sig\s*=\s*/, ''));
  }
  return sigs;
}

/** Whether an OS profile's SYN is exactly one p0f signature: ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass. */
function synMatches(os: OsProfile, sig: string): boolean {
  const [ver, ittl, olen, mss, win, olayout, quirks] = sig.split(':');
  const [wsize, scale] = (win ?? '').split(',');
  const t = os.tcp;
  const num = (field: string | undefined, v: number) => field === '*' || Number(field) === v;
  const window = (() => {
    if (wsize === '*') return true;
    const m = /^(mss|mtu)\*(\d+)$/.exec(wsize ?? '');
    if (m !== null) return t.window === (m[1] === 'mss' ? t.mss : t.mss + 40) * Number(m[2]);
    return Number(wsize) === t.window;
  })();
  return (
    (ver === '*' || ver === '4') &&
    Number(ittl) === os.ttl &&
    olen === '0' &&
    num(mss, t.mss) &&
    window &&
    num(scale, t.wscale ?? 0) &&
    olayout === t.options &&
    (quirks ?? '').split(',').includes('df') === t.df
  );
}

test('every OS profile’s SYN (TTL, window, MSS, scale, options, DF) is a signature of its p0f label', () => {
  const sigs = p0fRequestSigs(readFileSync(dataFile('p0f.fp'), 'utf8'));
  assert.ok(sigs.size > 30, 'p0f.fp parsed');
  let labelled = 0;
  for (const [key, os] of Object.entries(cat.osProfiles)) {
    // p0f knows the Windows and Linux stacks; the embedded stacks (VxWorks, printers, phones) have no signature there.
    if (os.family === 'windows' || os.family === 'linux') assert.ok(os.tcp.p0f !== undefined, `${key}: no p0f label`);
    if (os.tcp.p0f === undefined) continue;
    labelled++;
    const candidates = sigs.get(os.tcp.p0f);
    assert.ok(candidates !== undefined, `${key}: p0f has no label "${os.tcp.p0f}"`);
    assert.ok(candidates.some((s) => synMatches(os, s)), `${key}: SYN ${os.ttl}:${os.tcp.mss}:${os.tcp.window},${os.tcp.wscale ?? 0}:${os.tcp.options} is none of ${os.tcp.p0f}'s ${candidates.join(' | ')}`);
  }
  assert.ok(labelled >= 12);
});

test('the SYN the simulator builds from each profile is what Vigil’s own p0f matcher names with that label', () => {
  const db = p0fDatabase();
  for (const [key, os] of Object.entries(cat.osProfiles)) {
    if (os.tcp.p0f === undefined) continue;
    const opts = synOptions(os, 12345, 0).bytes;
    const tcp = Buffer.alloc(20 + opts.length);
    tcp[12] = ((20 + opts.length) / 4) << 4;
    tcp[13] = 0x02;
    tcp.writeUInt32BE(1, 4);
    tcp.writeUInt16BE(os.tcp.window, 14);
    opts.copy(tcp, 20);
    const o = readTcpOptions(tcp, false);
    let quirks = o.quirks;
    if (os.tcp.df) quirks |= 1 | 2; // df, id+ (the simulator's IP IDs are never zero)
    const m = matchTcp(db.request, { ipVersion: 4, ttl: os.ttl, olen: 0, mss: o.mss, win: os.tcp.window, wscale: o.wscale, olayout: o.olayout, eolPad: o.eolPad, quirks, pclass: 0, totHdr: 40 + opts.length, synMss: 0, ts1: o.ts1 });
    assert.equal(m?.sig.label, os.tcp.p0f, key);
  }
});

test('Windows profiles: versions, NTLMSSP, SMB dialects and DHCP as each release sends them', () => {
  const expect: Record<string, [string, string, string[]]> = {
    'ws-xp-ecg': ['5.1.2600', '5.1.2600', []],
    'bms-jci-nae': ['5.1.2600', '5.1.2600', []],
    'ws-win7-clinical': ['6.1.7601', '6.1.7601', ['2.0.2', '2.1']],
    'thin-client-wes7': ['6.1.7601', '6.1.7601', ['2.0.2', '2.1']],
    'ws-win10-clinical': ['10.0.19045', '10.0.19045', ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1']],
    'ws-win11-office': ['10.0.22631', '10.0.22631', ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1']],
    'srv-app-2008': ['6.1.7601', '6.1.7601', ['2.0.2', '2.1']],
    'srv-backup-2012': ['6.3.9600', '6.3.9600', ['2.0.2', '2.1', '3.0', '3.0.2']],
    'srv-dc-2019': ['10.0.17763', '10.0.17763', ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1']],
  };
  for (const [id, [version, ntlm, dialects]] of Object.entries(expect)) {
    const os = osOf(id);
    assert.equal(os.version, version, id);
    assert.equal(os.ntlmVersion, ntlm, id);
    assert.deepEqual(os.smbDialects, dialects, id);
    assert.equal(os.ttl, 128, id);
    assert.equal(os.dhcp?.vendorClass, 'MSFT 5.0', id);
  }
  const xp = osOf('ws-xp-ecg');
  assert.equal(xp.smbNativeOs, 'Windows 5.1');
  assert.equal(xp.smbNativeLanman, 'Windows 2000 LAN Manager');
  assert.equal(osOf('ws-win10-clinical').dhcp?.paramList, '1,3,6,15,31,33,43,44,46,47,119,121,249,252');
  assert.equal(osOf('ws-win7-clinical').dhcp?.paramList, '1,15,3,6,44,46,47,31,33,121,249,43');
  assert.equal(osOf('ws-xp-ecg').dhcp?.paramList, '1,15,3,6,44,46,47,31,33,249,43');
});

const FINGERBANK = corpus('knowledge/fingerprints/fingerbank/dhcp_fingerprints.conf');
const SATORI = corpus('knowledge/fingerprints/satori/dhcp.xml');
test('every DHCP parameter request list and vendor class is in Fingerbank or Satori', { skip: !(existsSync(FINGERBANK) && existsSync(SATORI)) && 'corpus not present' }, () => {
  const lists = new Set<string>();
  for (const line of readFileSync(FINGERBANK, 'utf8').split('\n')) if (/^[\d,]+$/.test(line.trim())) lists.add(line.trim());
  const satori = readFileSync(SATORI, 'utf8');
  for (const m of satori.matchAll(/dhcpoption55="([\d,]+)\s*"/g)) lists.add(m[1] as string);
  const vendors = new Set<string>([...satori.matchAll(/dhcpvendorcode="([^"]*)"/g)].map((m) => m[1] as string));
  assert.ok(lists.size > 500);
  for (const [key, os] of Object.entries(cat.osProfiles)) {
    if (os.dhcp === undefined) continue;
    assert.ok(lists.has(os.dhcp.paramList), `${key}: option 55 "${os.dhcp.paramList}" is in neither database`);
    const vc = os.dhcp.vendorClass;
    // Axis puts its model in the class ("AXIS,Network Camera,<model>"): the family must be known.
    if (vc !== undefined) assert.ok(vendors.has(vc) || [...vendors].some((v) => v.startsWith(vc.split(',').slice(0, 2).join(',') + ',')), `${key}: vendor class "${vc}" is in neither database`);
  }
});

test('HL7 senders, the engine and its receivers fit together', () => {
  const senders = cat.devices.filter((d) => d.hl7?.role === 'sender');
  const receivers = cat.devices.filter((d) => d.hl7?.role === 'receiver');
  assert.ok(senders.some((d) => d.hl7?.sendingApplication === 'EPIC' && d.hl7.messages.includes('ADT^A01') && d.hl7.messages.includes('ADT^A08')));
  assert.ok(senders.some((d) => d.hl7?.messages.includes('ORU^R01')));
  assert.ok(receivers.some((d) => d.hl7?.sendingApplication === 'LAB_SYS'));
  assert.ok(receivers.length >= 2);
  for (const d of [...senders, ...receivers]) assert.ok(/^2\.(3|3\.1|4|5|5\.1|6)$/.test(d.hl7?.version ?? ''), `${d.id}: HL7 version`);
  for (const d of senders) for (const m of d.hl7?.messages ?? []) assert.match(m, /^(ADT\^A0[1-8]|ORM\^O01|ORU\^R01)$/, d.id);
});

test('HTTP, SNMP and discovery identities are device-true', () => {
  const enterprise: Record<string, string> = { HP: '11', 'Axis Communications': '368', 'Schneider Electric (APC)': '318', Cisco: '9' };
  for (const d of cat.devices) {
    if (d.snmp !== undefined) {
      assert.match(d.snmp.sysObjectId, /^1\.3\.6\.1\.4\.1\.\d+(\.\d+)*$/, d.id);
      const pen = enterprise[d.vendor];
      if (pen !== undefined) assert.ok(d.snmp.sysObjectId.startsWith(`1.3.6.1.4.1.${pen}.`), `${d.id}: enterprise ${pen}`);
    }
    const server = d.http?.headers.Server;
    if (server?.startsWith('Microsoft-IIS/')) {
      // IIS ships with the OS: 5.1 = XP, 7.5 = 2008 R2 / 7, 8.5 = 2012 R2, 10.0 = 2016 / 2019 / 10.
      const iis = { '5.1': '5.1.', '7.5': '6.1.', '8.5': '6.3.', '10.0': '10.0.' }[server.slice('Microsoft-IIS/'.length)];
      assert.ok(iis !== undefined && (cat.osProfiles[d.os]?.version ?? '').startsWith(iis), `${d.id}: ${server} on ${cat.osProfiles[d.os]?.name}`);
    }
  }
  const printer = cat.devices.find((d) => d.mdns?.service === '_ipp._tcp');
  assert.ok(printer !== undefined);
  for (const k of ['ty', 'product', 'usb_MFG', 'usb_MDL']) assert.ok(printer.mdns?.txt[k] !== undefined, k);
  // The recon incident needs web interfaces that leak in different ways among the one-per-site kinds.
  const styles = new Set(cat.devices.filter((d) => d.min >= 1 && d.http !== undefined && d.http.tls !== true).map((d) => d.http?.errorStyle));
  for (const s of ['aspnet', 'java', 'php']) assert.ok(styles.has(s as never), s);
});
