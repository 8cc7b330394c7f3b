/**
 * The unit every dissector produces, once the sensor has said who and when: "device X (MAC, IP)
 * revealed attribute A = V, with this confidence, in this flow and frame, and here is the evidence".
 */
export interface Observation {
  /** Capture time, seconds since the epoch (fractional). */
  time: number;
  /** Frame number in the capture (1-based, as Wireshark counts): the packet to look at. */
  frame: number;
  /** Flow id (see FlowRecord.id). */
  flow: number;
  /** Dissector that produced it. */
  protocol: string;
  /** Subject identity: MAC where the link layer (or the protocol) gives it, IP where known. */
  mac?: string;
  ip?: string;
  vlan?: number;
  attribute: string;
  value: string;
  confidence: number;
  evidence?: string;
}

/**
 * Attributes whose every occurrence is an event, not a repeat: an error answer, a request line.
 * The sensor does not fold these per (subject, value), because how often they happen — and to whom —
 * is the evidence (reconnaissance provokes the same "500" a hundred times).
 */
export const EVENT_ATTRIBUTES: ReadonlySet<string> = new Set(['http.status', 'http.request', 'dicom.reject', 'dicom.abort', 'hl7.ack_code', 'ftp.error', 'smtp.error']);
