/**
 * The registry of dissectors the sensor runs. Adding a protocol: write src/protocols/<name>.ts
 * exporting a Dissector, and list it here.
 */
import type { Dissector, SynDissector } from './dissector.ts';
import { dhcp } from './dhcp.ts';
import { dicom } from './dicom.ts';
import { dns, dnsTcp } from './dns.ts';
import { llmnr } from './llmnr.ts';
import { mdns } from './mdns.ts';
import { netbios } from './netbios.ts';
import { hl7 } from './hl7.ts';
import { http } from './http.ts';
import { smb } from './smb.ts';
import { snmp } from './snmp.ts';
import { ssdp } from './ssdp.ts';
import { tls } from './tls.ts';
import { ftp } from './ftp.ts';
import { smtp } from './smtp.ts';
import { telnet } from './telnet.ts';
import { createTcpFingerprinter } from './tcp-fingerprint.ts';

export const ALL_DISSECTORS: readonly Dissector[] = [dhcp, dns, dnsTcp, mdns, llmnr, netbios, ssdp, snmp, http, tls, dicom, hl7, smb, ftp, smtp, telnet];

/** SYN dissectors keep per-analysis memory (what they already reported): a fresh set for every sensor. */
export function synDissectors(): SynDissector[] {
  return [createTcpFingerprinter()];
}
