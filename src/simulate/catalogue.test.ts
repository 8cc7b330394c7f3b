import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadCatalogue } from './catalogue.ts';
import { synOptions } from './conversation.ts';
import { matchTcp, p0fDatabase } from '../protocols/p0f-db.ts';
import { readTcpOptions } from '../protocols/tcp-fingerprint.ts';
import { dataFile } from '../knowledge/paths.ts';
import { corpus } from '../../test/helpers/observe.ts';

const cat = loadCatalogue(dataFile('simulator/catalogue.json'));

test('the shipped catalogue: at least 28 kinds across every category a hospital has', () => {
  assert.ok(cat.devices.length >= 28, `${cat.devices.length} kinds`);
  const categories = new Set(cat.devices.map((d) => d.category));
  for (const c of ['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it']) assert.ok(categories.has(c as never), c);
  const types = cat.devices.map((d) => `${d.type} ${d.model}`.toLowerCase()).join('\n');
  for (const t of ['ct scanner', 'mr scanner', 'x-ray', 'ultrasound', 'mammography', 'pacs', 'worklist', 'infusion pump', 'patient monitor', 'central monitoring', 'analyser', 'nurse call', 'medication', 'ip camera', 'printer', 'voip', 'building', 'thin client', 'domain controller', 'interface engine']) {
    assert.ok(types.includes(t), `a ${t}`);
  }
  const oses = new Set(cat.devices.map((d) => cat.osProfiles[d.os]?.name ?? ''));
  for (const o of ['Windows XP', 'Windows 7', 'Windows 10', 'Windows 11', 'Windows Embedded', 'Windows Server 2008', 'Windows Server 2012', 'Windows Server 2019', 'Linux']) {
    assert.ok([...oses].some((n) => n.includes(o)), `a device on ${o}`);
  }
});

test('every OUI is an IEEE MA-L assignment (registry copy in the corpus)', { skip: !existsSync(corpus('knowledge/oui/ieee-data/oui.csv')) && 'corpus not present' }, () => {
  const registry = new Map<string, string>();
  for (const line of readFileSync(corpus('knowledge/oui/ieee-data/oui.csv'), 'utf8').split('\n')) {
    const [kind, hex, org] = line.split(',');
    if (kind === 'MA-L' && hex !== undefined) registry.set(hex.toUpperCase(), (org ?? '').replace(/"/g, ''));
  }
  for (const d of cat.devices) {
    for (const oui of d.oui) assert.ok(registry.has(oui.replace(/:/g, '')), `${d.id}: ${oui} is not in the IEEE registry`);
  }
});

test('DICOM UIDs are valid (≤ 64 characters, numeric components without leading zeros)', () => {
  for (const d of cat.devices) {
    if (d.dicom === undefined) continue;
    for (const uid of [d.dicom.implementationClassUid, ...d.dicom.sopClasses]) {
      assert.ok(uid.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(uid), `${d.id}: ${uid}`);
    }
    assert.ok(d.dicom.aeTitle.replace(/\{n(:\d+)?\}/, '00').length <= 16, `${d.id}: AE title too long`);
  }
});

test('every OS profile that names a p0f label sends a SYN that p0f’s database matches to it', () => {
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
    else quirks |= 0;
    const m = matchTcp(db.request, { ipVersion: 4, ttl: os.ttl, olen: 0, mss: o.mss, win: os.tcp.window, wscale: o.wscale, olayout: o.olayout, eolPad: o.eolPad, quirks, pclass: 0, totHdr: 40 + opts.length, synMss: 0, ts1: o.ts1 });
    assert.equal(m?.sig.label, os.tcp.p0f, `${key}`);
  }
});
