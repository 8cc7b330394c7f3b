#!/usr/bin/env bash
# Benchmarks, beside their peers, on the same input, in one run. Prints the tables the README quotes.
#   bash bench/run.sh            # 1M-packet corpus capture: Vigil vs tshark vs Suricata; 1 GB capture: Vigil's peak RSS
# Installs the peers from Debian if missing (tshark from main, Suricata from bookworm-backports).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v suricata >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports suricata >/dev/null
fi
npm run build --silent
mkdir -p bench/out
# Two 1M-packet inputs: a simulated hospital (the traffic Vigil is for: long DICOM, HL7, SMB sessions)
# and the real third-party captures of the corpus replayed (short flows, scans, many handshakes).
[ -f bench/out/hospital-1m.pcap ] || node bin/vigil.js simulate -n 200 -d 24h --start 2026-11-23T06:00:00Z --max-packets 1000000 -o bench/out/hospital-1m.pcap
[ -f bench/out/corpus-1m.pcap ] || node --import tsx bench/make-capture.ts bench/out/corpus-1m.pcap --packets 1000000
node --import tsx bench/sensor.ts bench/out/hospital-1m.pcap --runs "${RUNS:-3}" | tee bench/out/sensor-hospital.md
node --import tsx bench/sensor.ts bench/out/corpus-1m.pcap --runs "${RUNS:-3}" | tee bench/out/sensor-corpus.md
[ -f bench/out/corpus-1g.pcap ] || node --import tsx bench/make-capture.ts bench/out/corpus-1g.pcap --bytes 1073741824
echo; echo "Peak memory on a 1 GB capture:"
node --import tsx bench/sensor.ts bench/out/corpus-1g.pcap --runs 1 --skip-tshark --skip-suricata | tee bench/out/memory.md
echo; echo "Simulator:"
node --import tsx bench/simulate.ts | tee bench/out/simulate.md
echo; echo "Inventory (cost against the sensor; 100,000 devices):"
node --import tsx --expose-gc bench/inventory.ts bench/out/hospital-1m.pcap bench/out/corpus-1m.pcap | tee bench/out/inventory.md
echo; echo "Server (100,000 devices, 1,000,000 alerts; SQLite and PostgreSQL):"
node --import tsx bench/api.ts --capture bench/out/hospital-1m.pcap | tee bench/out/api.md
echo; echo "Dashboard (50,000 devices, Chromium):"
node --import tsx bench/dashboard.ts | tee bench/out/dashboard.md
echo; echo "Behaviour (the online model; baseline and model in the pipeline):"
node --import tsx bench/behavior.ts | tee bench/out/behavior.md
node --import tsx bench/baseline.ts | tee bench/out/baseline.md
