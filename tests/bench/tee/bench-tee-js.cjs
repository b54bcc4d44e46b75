// bench-tee-js.cjs INTEROP_DIR QUOTE COLLATERAL NOW ITERATIONS
// The baseline of tests/bench/tee: @phala/dcap-qvl (npm, pure JS) verifying
// the same quote with the same collateral at the same time, offline.
// Prints one line: {"status":"…","ms_per_verify":…,"cpu_ms_per_verify":…,"iterations":…}.
const path = require('path');
const fs = require('fs');

const [interop, quoteFile, collateralFile, nowText, itersText] = process.argv.slice(2);
const { verify } = require(path.join(interop, 'node_modules', '@phala', 'dcap-qvl'));

function readQuote(file) {
  const raw = fs.readFileSync(file);
  const text = raw.toString('latin1').trim();
  return /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0
    ? new Uint8Array(Buffer.from(text, 'hex'))
    : new Uint8Array(raw);
}

const quote = readQuote(quoteFile);
const collateral = JSON.parse(fs.readFileSync(collateralFile, 'utf-8'));
const now = Number(nowText);
const iterations = Number(itersText);

// Warm-up: JIT and lazy module state out of the measurement.
let report = verify(quote, collateral, now);
for (let i = 0; i < 20; i++) verify(quote, collateral, now);
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) report = verify(quote, collateral, now);
const ns = Number(process.hrtime.bigint() - start);
const cpu = process.cpuUsage(cpuStart);
console.log(JSON.stringify({
  status: report.status,
  ms_per_verify: ns / 1e6 / iterations,
  cpu_ms_per_verify: (cpu.user + cpu.system) / 1e3 / iterations,
  iterations,
}));
