import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dicomWords, dnsName, hl7Words, noveltyKey, registrableDomain, usageOf } from './usage.ts';
import type { Observation } from '../protocols/observation.ts';

const obs = (attribute: string, value: string): Observation => ({ time: 1, frame: 1, flow: 1, protocol: 'x', ip: '10.0.0.1', attribute, value, confidence: 0.9 });

test('DNS names a device talks to: lower case, no trailing dot; reverse lookups, .local, single labels and service discovery are not', () => {
  assert.equal(dnsName('Update.Evil.Example.'), 'update.evil.example');
  for (const n of ['4.3.2.10.in-addr.arpa', 'printer.local', 'wpad', '_ldap._tcp.dc._msdcs.corp.example', '', 'a b.example']) assert.equal(dnsName(n), undefined, n);
});

test('registrable domains: two labels, three under a country code\'s generic second level', () => {
  assert.equal(registrableDomain('update.evil.example'), 'evil.example');
  assert.equal(registrableDomain('d1.cdn.cloudfront.net'), 'cloudfront.net');
  assert.equal(registrableDomain('example.com'), 'example.com');
  assert.equal(registrableDomain('www.trust.nhs.uk'), 'trust.nhs.uk');
  assert.equal(registrableDomain('a.b.example.co.uk'), 'example.co.uk');
  assert.equal(registrableDomain('example.co.uk'), 'example.co.uk');
  assert.equal(registrableDomain('co.uk'), 'co.uk');
  assert.equal(registrableDomain('localhost'), 'localhost');
  // A two-letter TLD whose second label is a brand: the brand is registered.
  assert.equal(registrableDomain('updates.vendor.de'), 'vendor.de');
});

test('observations the baseline keeps, and the ones it does not', () => {
  assert.deepEqual(usageOf(obs('dns.query', 'Insite.GEHealthcare.com')), { kind: 'use', usage: 'dns', value: 'insite.gehealthcare.com' });
  assert.deepEqual(usageOf(obs('dns.server', 'recursive')), { kind: 'resolver' });
  assert.deepEqual(usageOf(obs('dns.resolved', 'emr.simhosp.example A 10.6.0.20')), { kind: 'local-domain', domain: 'simhosp.example' });
  assert.equal(usageOf(obs('dns.resolved', 'www.example.com A 93.184.216.34')), undefined);
  assert.equal(usageOf(obs('dns.resolved', 'www.example.com CNAME edge.example.net')), undefined);
  assert.deepEqual(usageOf(obs('dns.hostname', 'ct-03.simhosp.example')), { kind: 'local-domain', domain: 'simhosp.example' });
  assert.deepEqual(usageOf(obs('dicom.command', 'C-MOVE-RQ')), { kind: 'use', usage: 'dicom-command', value: 'C-MOVE-RQ' });
  assert.deepEqual(usageOf(obs('dicom.abstract_syntax', '1.2.840.10008.5.1.4.1.2.2.2 (Study Root Query/Retrieve Information Model - MOVE)')), { kind: 'use', usage: 'dicom-sop', value: '1.2.840.10008.5.1.4.1.2.2.2 (Study Root Query/Retrieve Information Model - MOVE)' });
  assert.deepEqual(usageOf(obs('hl7.message_type', 'ADT^A01')), { kind: 'use', usage: 'hl7', value: 'ADT^A01' });
  // Identity and patient-adjacent attributes are not usage.
  for (const a of ['dicom.calling_ae', 'hl7.sending_application', 'hl7.error', 'http.request']) assert.equal(usageOf(obs(a, 'X')), undefined, a);
});

test('novelty keys: a domain, a command (never a cancel), one key for every storage class, the HL7 message code', () => {
  assert.equal(noveltyKey('dns', 'a.cdn.vendor.example'), 'vendor.example');
  assert.equal(noveltyKey('dicom-command', 'C-MOVE-RQ'), 'C-MOVE-RQ');
  assert.equal(noveltyKey('dicom-command', 'C-CANCEL-RQ'), undefined);
  assert.equal(noveltyKey('dicom-sop', '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)'), 'storage');
  assert.equal(noveltyKey('dicom-sop', '1.2.840.10008.5.1.4.1.1.4 (MR Image Storage)'), 'storage');
  assert.equal(noveltyKey('dicom-sop', '1.3.12.2.1107.5.9.1'), 'storage');
  assert.equal(noveltyKey('dicom-sop', '1.2.840.10008.5.1.4.1.2.2.2 (Study Root Query/Retrieve Information Model - MOVE)'), '1.2.840.10008.5.1.4.1.2.2.2');
  assert.equal(noveltyKey('hl7', 'ADT^A40'), 'ADT');
  assert.equal(noveltyKey('hl7', 'ACK^A01'), 'ACK');
});

test('words', () => {
  assert.equal(dicomWords('dicom-command', 'C-MOVE-RQ'), 'sent DICOM C-MOVE requests');
  assert.equal(dicomWords('dicom-command', 'C-FIND-RSP'), 'answered DICOM C-FIND requests');
  assert.equal(dicomWords('dicom-sop', '1.2.840.10008.5.1.4.1.2.2.2 (Study Root Query/Retrieve Information Model - MOVE)'), 'proposed DICOM Study Root Query/Retrieve Information Model - MOVE');
  assert.equal(dicomWords('dicom-sop', '1.2.3.4'), 'proposed DICOM 1.2.3.4');
  assert.equal(hl7Words('ORU^R01'), 'ORU^R01 messages');
  assert.equal(hl7Words('ACK^A01'), 'ACK^A01 acknowledgements');
});
