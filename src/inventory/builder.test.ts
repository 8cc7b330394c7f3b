import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryBuilder } from './builder.ts';
import type { Observation } from '../protocols/observation.ts';
import type { FlowRecord } from '../flow/flow.ts';

let frame = 0;
function obs(o: Partial<Observation> & { attribute: string; value: string }): Observation {
  return { time: 1000 + frame, frame: ++frame, flow: 1, protocol: o.attribute.split('.')[0] ?? 'x', confidence: 0.9, ...o };
}

function flow(f: Partial<FlowRecord> & { clientIp: string; serverIp: string }): FlowRecord {
  return {
    id: ++frame,
    start: 1000,
    end: 1001,
    proto: 'tcp',
    ipVersion: 4,
    clientPort: 50000,
    serverPort: 80,
    clientPackets: 3,
    serverPackets: 3,
    clientBytes: 300,
    serverBytes: 300,
    clientPayloadBytes: 100,
    serverPayloadBytes: 100,
    tcpState: 'closed',
    reason: 'closed',
    firstFrame: frame,
    ...f,
  };
}

const HOST = '00:1b:2c:00:00:01';
const ROUTER = '00:00:0c:aa:bb:cc';

test('a host that renews DHCP onto a new IP stays one device with both IPs', () => {
  const b = new InventoryBuilder();
  b.addObservation(obs({ mac: HOST, attribute: 'dhcp.hostname', value: 'CT-03' }));
  b.addFlow(flow({ clientMac: HOST, clientIp: '10.1.0.5', serverMac: ROUTER, serverIp: '10.1.0.1' }));
  b.addFlow(flow({ clientMac: HOST, clientIp: '10.1.0.77', serverMac: ROUTER, serverIp: '10.1.0.1', start: 5000, end: 5001 }));
  b.addObservation(obs({ mac: HOST, ip: '10.1.0.77', attribute: 'dicom.calling_ae', value: 'CT03' }));
  const devices = b.devices();
  const ct = devices.find((d) => d.id === `mac:${HOST}`);
  assert.ok(ct);
  assert.deepEqual(ct.ips, ['10.1.0.5', '10.1.0.77']);
  assert.deepEqual([...ct.facts.keys()].sort(), ['dhcp.hostname', 'dicom.calling_ae']);
  assert.equal(ct.first, 1000);
});

test('everything behind a router is never one device: internal IPs behind it get their own, public ones are peers', () => {
  const b = new InventoryBuilder();
  // Five remote hosts (another subnet) and three Internet servers all arrive with the router's MAC.
  for (let i = 1; i <= 5; i++) b.addFlow(flow({ clientMac: ROUTER, clientIp: `10.9.0.${i}`, serverMac: HOST, serverIp: '10.1.0.5', serverPort: 104 }));
  for (let i = 1; i <= 3; i++) b.addFlow(flow({ clientMac: HOST, clientIp: '10.1.0.5', serverMac: ROUTER, serverIp: `93.184.216.${i}`, serverPort: 443 }));
  b.addObservation(obs({ mac: ROUTER, ip: '10.9.0.2', attribute: 'dicom.calling_ae', value: 'MR_REMOTE' }));
  const devices = b.devices();
  const ids = devices.map((d) => d.id).sort();
  assert.deepEqual(ids, [`mac:${HOST}`, `mac:${ROUTER}`, 'ip:10.9.0.1', 'ip:10.9.0.2', 'ip:10.9.0.3', 'ip:10.9.0.4', 'ip:10.9.0.5'].sort());
  const router = devices.find((d) => d.id === `mac:${ROUTER}`);
  assert.equal(router?.router, true);
  assert.deepEqual(router?.ips, []);
  const remote = devices.find((d) => d.id === 'ip:10.9.0.2');
  assert.equal(remote?.facts.get('dicom.calling_ae')?.[0]?.value, 'MR_REMOTE');
  const host = devices.find((d) => d.id === `mac:${HOST}`);
  assert.deepEqual(host?.peers, { internal: 5, external: 3 });
  assert.deepEqual(
    host?.services.map((s) => `${s.transport}/${s.port}`),
    ['tcp/104'],
  );
});

test("a device seen only behind a router with a locally administered MAC lists no MAC: the router's is not its own", () => {
  const b = new InventoryBuilder();
  // A virtual router or firewall often has a locally administered MAC (02:…), as do the hosts' randomised ones.
  const VROUTER = '02:00:00:00:00:01';
  for (let i = 1; i <= 5; i++) b.addFlow(flow({ clientMac: VROUTER, clientIp: `192.168.10.${i}`, serverMac: HOST, serverIp: '10.1.0.5', serverPort: 104 }));
  const remote = b.devices().find((d) => d.id === 'ip:192.168.10.2');
  assert.ok(remote);
  assert.deepEqual(remote.macs, []);
  assert.deepEqual(remote.ips, ['192.168.10.2']);
});

test('a device seen only by IP (raw-IP capture) is keyed by IP; multicast and broadcast are never devices', () => {
  const b = new InventoryBuilder();
  b.addFlow(flow({ clientIp: '192.168.1.20', serverIp: '192.168.1.1', proto: 'udp', serverPort: 53 }));
  b.addFlow(flow({ clientIp: '192.168.1.20', serverIp: '224.0.0.251', proto: 'udp', serverPort: 5353 }));
  b.addFlow(flow({ clientIp: '0.0.0.0', serverIp: '255.255.255.255', proto: 'udp', serverPort: 67 }));
  assert.deepEqual(b.devices().map((d) => d.id).sort(), ['ip:192.168.1.1', 'ip:192.168.1.20']);
});

test('an unanswered SYN is not a service; a RST to a SYN is not a service', () => {
  const b = new InventoryBuilder();
  b.addFlow(flow({ clientIp: '10.0.0.1', serverIp: '10.0.0.2', serverPort: 22, serverPackets: 0, serverPayloadBytes: 0, tcpState: 'syn_sent' }));
  b.addFlow(flow({ clientIp: '10.0.0.1', serverIp: '10.0.0.2', serverPort: 23, serverPackets: 1, serverPayloadBytes: 0, tcpState: 'reset' }));
  b.addFlow(flow({ clientIp: '10.0.0.1', serverIp: '10.0.0.2', serverPort: 445, serverPackets: 4, serverPayloadBytes: 0, tcpState: 'established' }));
  const d = b.devices().find((x) => x.id === 'ip:10.0.0.2');
  assert.deepEqual(d?.services.map((s) => s.port), [445]);
});

test('the same private IP in two VLANs is two devices', () => {
  const b = new InventoryBuilder();
  b.addFlow(flow({ clientIp: '10.0.0.9', serverIp: '10.0.0.1', vlan: 10 }));
  b.addFlow(flow({ clientIp: '10.0.0.9', serverIp: '10.0.0.1', vlan: 20 }));
  const ids = b.devices().map((d) => d.id).sort();
  assert.deepEqual(ids, ['ip:10/10.0.0.1', 'ip:10/10.0.0.9', 'ip:20/10.0.0.1', 'ip:20/10.0.0.9']);
});

test('grouped in slices, a VLAN the sensor first sees between two slices still gets its own ids', async () => {
  const b = new InventoryBuilder();
  // More endpoints than one slice groups, so the grouping pauses inside its pass over them.
  for (let i = 0; i < 6000; i++) b.addFlow(flow({ clientIp: `10.1.${i >> 8}.${i & 255}`, serverIp: '10.0.0.1' }));
  let added = 0;
  let grouping = true;
  // Each turn, a flow on a VLAN not seen before.
  const addOnEachTurn = () => {
    added++;
    b.addFlow(flow({ clientIp: `10.9.0.${added}`, serverIp: '10.9.0.254', vlan: 100 + added }));
    if (grouping) setImmediate(addOnEachTurn);
  };
  setImmediate(addOnEachTurn);
  const devices = await b.devicesSliced();
  grouping = false;
  assert.ok(added >= 3, `the sensor added flows while the grouping ran (${added} turns)`);
  const tagged = devices.filter((d) => d.vlan !== undefined);
  assert.ok(tagged.length >= 4, `VLANs first seen mid-grouping are grouped (${tagged.length} devices)`);
  for (const d of tagged) assert.equal(d.id, `ip:${d.vlan}/${d.ips[0]}`);
});

test('memory is bounded: values per attribute keep the strongest, endpoints beyond the cap are counted', () => {
  const b = new InventoryBuilder({ endpoints: 10, valuesPerAttribute: 3 });
  for (let i = 0; i < 20; i++) b.addObservation(obs({ mac: HOST, attribute: 'dns.query', value: `q${i}.example`, confidence: i === 15 ? 0.99 : 0.5 }));
  for (let i = 0; i < 30; i++) b.addFlow(flow({ clientIp: `10.2.0.${i + 1}`, serverIp: '10.2.1.1' }));
  const d = b.devices().find((x) => x.id === `mac:${HOST}`);
  const values = d?.facts.get('dns.query')?.map((v) => v.value) ?? [];
  assert.equal(values.length, 3);
  assert.ok(values.includes('q15.example'));
  assert.equal(b.endpointCount, 10);
  assert.ok(b.droppedEndpoints > 0);
});

test('a gateway that carries only a few addresses is still a router when a host owns one of them', () => {
  const b = new InventoryBuilder();
  const DC = '48:4a:e9:a3:a4:84';
  const GW = '00:1e:7a:00:02:01';
  b.addFlow(flow({ clientMac: DC, clientIp: '10.60.1.15', serverMac: GW, serverIp: '10.30.0.9', vlan: 160 }));
  // The routed copy of the same conversation, tagged with the other VLAN: the gateway's MAC carries the DC's address.
  b.addFlow(flow({ clientMac: GW, clientIp: '10.60.1.15', serverMac: '00:0e:2f:00:00:09', serverIp: '10.30.0.9', vlan: 130 }));
  b.addFlow(flow({ clientMac: GW, clientIp: '10.60.1.14', serverMac: '00:0e:2f:00:00:09', serverIp: '10.30.0.9', vlan: 130 }));
  const devices = b.devices();
  assert.ok(b.routers().has(GW));
  const dc = devices.filter((d) => d.ips.includes('10.60.1.15'));
  assert.deepEqual(dc.map((d) => d.id), [`mac:${DC}`], 'one device for the DC, whatever VLAN tag its packets carried');
});

test("a phone on a randomised MAC does not list the MAC of a virtual router that carried its traffic", () => {
  const b = new InventoryBuilder();
  const PHONE = 'da:a1:19:00:00:01';
  // A KVM guest's MAC (52:54:00:…) is locally administered, as a phone's randomised one is.
  const VROUTER = '52:54:00:aa:bb:cc';
  b.addFlow(flow({ clientMac: PHONE, clientIp: '10.5.0.20', serverMac: '00:0e:2f:00:00:09', serverIp: '10.5.0.9' }));
  // The router carries the phone's address (a routed copy) and many others'.
  for (let i = 20; i <= 26; i++) b.addFlow(flow({ clientMac: VROUTER, clientIp: `10.5.0.${i}`, serverMac: '00:0e:2f:00:00:09', serverIp: '10.5.0.9', vlan: 7 }));
  assert.ok(b.routers().has(VROUTER));
  const phone = b.devices().find((d) => d.id === `mac:${PHONE}`);
  assert.deepEqual(phone?.macs, [PHONE]);
  assert.deepEqual(phone?.ips, ['10.5.0.20']);
});

test('a phone that randomises its MAC is one device while it keeps its name; workstations sharing a name are not merged', () => {
  const b = new InventoryBuilder();
  b.addObservation(obs({ mac: 'da:a1:19:00:00:01', ip: '10.5.0.20', attribute: 'dhcp.hostname', value: 'Lucas-iPhone' }));
  b.addObservation(obs({ mac: 'f6:02:aa:10:20:30', ip: '10.5.0.41', attribute: 'dhcp.hostname', value: 'Lucas-iPhone' }));
  b.addObservation(obs({ mac: '00:1b:2c:00:00:07', ip: '10.5.0.50', attribute: 'dhcp.hostname', value: 'WS01' }));
  b.addObservation(obs({ mac: '00:1b:2c:00:00:08', ip: '10.5.0.51', attribute: 'dhcp.hostname', value: 'WS01' }));
  const devices = b.devices();
  const phone = devices.filter((d) => d.ips.includes('10.5.0.20') || d.ips.includes('10.5.0.41'));
  assert.equal(phone.length, 1);
  assert.deepEqual(phone[0]?.macs, ['da:a1:19:00:00:01', 'f6:02:aa:10:20:30']);
  assert.deepEqual(phone[0]?.ips, ['10.5.0.20', '10.5.0.41']);
  assert.equal(devices.filter((d) => d.ips.includes('10.5.0.50') || d.ips.includes('10.5.0.51')).length, 2);
});

test('a gateway seen with its own private address and two Internet ones is a router, not a device with public addresses', () => {
  const b = new InventoryBuilder();
  const GW = '00:1e:7a:00:03:01';
  const PUMP = '00:0e:2f:00:00:41';
  // The gateway answers DHCP relay on its own address; replies from a vendor cloud arrive through it.
  b.addFlow(flow({ clientMac: PUMP, clientIp: '10.40.0.20', serverMac: GW, serverIp: '10.40.0.1', serverPort: 67, proto: 'udp' }));
  b.addFlow(flow({ clientMac: GW, clientIp: '203.0.113.4', serverMac: PUMP, serverIp: '10.40.0.20', serverPort: 443 }));
  b.addFlow(flow({ clientMac: GW, clientIp: '203.0.113.7', serverMac: PUMP, serverIp: '10.40.0.20', serverPort: 443 }));
  assert.ok(b.routers().has(GW));
  const devices = b.devices();
  assert.ok(!devices.some((d) => d.ips.includes('203.0.113.4')), 'public addresses are peers, not a device');
  // A host with a link-local and a global IPv6 address is not a router for that.
  const c = new InventoryBuilder();
  c.addFlow(flow({ clientMac: HOST, clientIp: 'fe80::21b:2cff:fe00:1', serverMac: ROUTER, serverIp: 'fe80::1', ipVersion: 6 }));
  c.addFlow(flow({ clientMac: HOST, clientIp: '2001:db8::21b:2cff:fe00:1', serverMac: ROUTER, serverIp: '2001:db8::80', ipVersion: 6 }));
  assert.ok(!c.routers().has(HOST));
});

test('services: one port kept inline, more in a map, counted per port and transport, the first protocol named kept', () => {
  const b = new InventoryBuilder({ servicesPerEndpoint: 3 });
  const server = { serverMac: HOST, serverIp: '10.1.0.5', clientMac: '00:1b:2c:00:00:02', clientIp: '10.1.0.6' };
  b.addFlow(flow({ ...server, serverPort: 104, app: 'dicom' }));
  b.addFlow(flow({ ...server, serverPort: 104 }));
  b.addFlow(flow({ ...server, serverPort: 80, app: 'http' }));
  b.addFlow(flow({ ...server, serverPort: 161, proto: 'udp', app: 'snmp' }));
  b.addFlow(flow({ ...server, serverPort: 104, app: 'other' }));
  // Beyond the cap: not kept.
  b.addFlow(flow({ ...server, serverPort: 443 }));
  const d = b.devices().find((x) => x.id === `mac:${HOST}`);
  assert.deepEqual(d?.services, [
    { transport: 'tcp', port: 80, flows: 1, app: 'http' },
    { transport: 'tcp', port: 104, flows: 3, app: 'dicom' },
    { transport: 'udp', port: 161, flows: 1, app: 'snmp' },
  ]);
});

test('kept attributes: facts only of those; every observation still counts for its device', () => {
  const b = new InventoryBuilder({}, new Set(['dhcp.hostname']));
  b.addObservation(obs({ mac: HOST, ip: '10.1.0.5', attribute: 'dhcp.hostname', value: 'CT-03' }));
  b.addObservation(obs({ mac: HOST, ip: '10.1.0.5', attribute: 'tls.cipher', value: 'TLS_AES_128_GCM_SHA256' }));
  const d = b.devices().find((x) => x.id === `mac:${HOST}`);
  assert.deepEqual([...(d?.facts.keys() ?? [])], ['dhcp.hostname']);
  assert.equal(d?.observations, 2);
});

test("peers beyond the cap are counted by class, not kept: a device's reach stays right, for one endpoint or several", () => {
  const b = new InventoryBuilder({ peersPerEndpoint: 2 });
  // A host on one IP talks once with itself, then with 3 internal and 2 Internet servers: 2 are kept (itself
  // among them, which is no peer), all counted.
  for (const server of ['10.1.0.5', '10.1.0.10', '10.1.0.11', '93.184.216.1', '10.1.0.12', '93.184.216.2']) b.addFlow(flow({ clientMac: HOST, clientIp: '10.1.0.5', serverIp: server }));
  // A second host on two IPs (a renewal): 3 internal peers from one, 1 internal and 1 Internet from the other, one shared.
  const TWO = '00:1b:2c:00:00:02';
  for (const server of ['10.1.0.20', '10.1.0.21', '10.1.0.22']) b.addFlow(flow({ clientMac: TWO, clientIp: '10.1.0.6', serverIp: server }));
  for (const server of ['10.1.0.20', '93.184.216.3']) b.addFlow(flow({ clientMac: TWO, clientIp: '10.1.0.7', serverIp: server }));
  const devices = b.devices();
  assert.deepEqual(devices.find((d) => d.id === `mac:${HOST}`)?.peers, { internal: 3, external: 2 });
  // Kept: 10.1.0.20 and .21 (first IP), 10.1.0.20 and 93.184.216.3 (second): 3 distinct; beyond the cap: 10.1.0.22.
  assert.deepEqual(devices.find((d) => d.id === `mac:${TWO}`)?.peers, { internal: 3, external: 1 });
});
