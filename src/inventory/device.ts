/**
 * The Device record and the vocabulary the inventory and the assessments share.
 *
 * A device is what a hospital would put on an asset list: one physical (or virtual) machine, with
 * its addresses and names, and *claims* about who it is — each with a confidence and the evidence
 * (the observations and the rule) that made it, so an analyst can always ask "why?".
 */

/** Categories as a hospital's clinical engineering and IT teams sort their assets. */
export const CATEGORIES = ['imaging', 'infusion', 'patient-monitoring', 'laboratory', 'clinical-it', 'building-iot', 'general-it'] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Clinical criticality: what a failure or compromise does to patients.
 * life-sustaining — therapy delivery or vital-sign monitoring (pumps, ventilators, monitors);
 * diagnostic — diagnosis depends on it (modalities, lab analysers, PACS);
 * support — everything else (IT, building, printers).
 */
export const CRITICALITIES = ['life-sustaining', 'diagnostic', 'support'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/** One observation that backs a claim: enough to find the packet again. */
export interface Evidence {
  protocol: string;
  attribute: string;
  value: string;
  frame: number;
  time: number;
  /** The dissector's redacted snippet of the bytes. */
  snippet?: string;
}

/** A claim about a device ("vendor = GE Healthcare"), how sure, by which rule, from which observations. */
export interface Claim<T extends string = string> {
  value: T;
  /** 0..1 */
  confidence: number;
  /** The rule that turned the evidence into this value, in words ("DICOM implementation class UID root 1.2.840.113619 → GE Healthcare"). */
  rule: string;
  evidence: Evidence[];
}

/**
 * One operating-system release a device may run, in endoflife.date's terms, with the dates the
 * lifecycle table gives it. A signal that cannot tell releases apart ("Windows 7 / Server 2008 R2")
 * yields several.
 */
export interface OsRelease {
  /** endoflife.date product id: 'windows', 'windows-server', 'windows-embedded', 'debian', 'ubuntu' … */
  product: string;
  /** endoflife.date release cycle within the product: '7-sp1', '2008-r2-sp1', 'standard-7-sp1', '12' … */
  cycle: string;
  /** What people call it: 'Windows 7 SP1', 'Windows Server 2008 R2 SP1'. */
  label: string;
  releaseDate?: string;
  /** End of security support (ISO date); absent when not announced. */
  eol?: string;
  /** The release is known to be out of support but no end date was published (old Android). */
  eolUndated?: true;
  /** End of paid extended security updates (ESU / extended support), where there is one. */
  extendedEol?: string;
  /** Where the dates come from (the vendor lifecycle page endoflife.date cites). */
  source?: string;
}

/** The OS claim: a label, the releases it could be, and the signals that disagreed, if any. */
export interface OsClaim extends Claim {
  family: string;
  releases: OsRelease[];
  /** Other OS values seen for this device that lost, with why. */
  conflicts: { value: string; confidence: number; protocol: string; why: string }[];
}

/** Software seen on a device (a server banner, a DICOM toolkit, a leaked database version). */
export interface Software {
  name: string;
  version?: string;
  vendor?: string;
  evidence: Evidence;
}

/** A service the device answered on (it was the server of a flow). */
export interface Service {
  transport: 'tcp' | 'udp';
  port: number;
  /** The protocol a dissector recognised on it, if any. */
  app?: string;
  flows: number;
}

export interface Device {
  /** Stable key: 'mac:00:1b:…' on the local segment, 'ip:10.2.0.9' for a device seen only by IP. */
  id: string;
  macs: string[];
  ips: string[];
  hostnames: string[];
  vlan?: number;
  firstSeen: number;
  lastSeen: number;
  /** The MAC is locally administered (randomised by a phone, or a virtual NIC): OUI says nothing. */
  randomMac: boolean;
  vendor?: Claim;
  model?: Claim;
  /** What the device is, in words a clinical engineer uses: 'CT scanner', 'infusion pump'. */
  type?: Claim;
  category: Claim<Category>;
  criticality: Criticality;
  os?: OsClaim;
  software: Software[];
  services: Service[];
  /** Distinct peers, internal (private addresses) and external (public internet). */
  peers: { internal: number; external: number };
  /** Observations folded into this device. */
  observations: number;
}
