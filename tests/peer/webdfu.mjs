#!/usr/bin/env node
// Flipper Zero's WebUSB DFU/DfuSe driver (npm `dfu`, github.com/Flipper-Zero/webdfu) driven in
// Node through node-usb's WebUSB implementation (npm `usb`, libusb underneath), so that it sees
// whatever libusb sees: inside stm32dfu-sim, the virtual chips. We call only the driver's public
// API (init, connect, read, write), the way a web page does. One step per run:
//
//   webdfu.mjs list                 one `Found DFU:`-style line per DFU alt setting, the DFU
//                                   functional descriptor as the driver parsed it, and the
//                                   driver's memory map of each alt (`layout` lines)
//   webdfu.mjs write ADDR FILE [XFER]
//                                   erase + program FILE at ADDR in blocks of XFER bytes (default
//                                   the functional descriptor's wTransferSize), then the driver's
//                                   manifestation (DfuSe leave: the chip resets or runs its
//                                   application)
//   webdfu.mjs read ADDR SIZE OUT   upload SIZE bytes from ADDR into OUT
//   webdfu.mjs count                how many DFU devices there are (`devices=N`)
//
// A step waits up to WEBDFU_WAIT_MS (default 5000) for exactly one DFU device (not for `count`).
// Exit 0 on success, 1 on any failure (the reason on stderr).
//
// An ES module: the driver's CommonJS build requires nanoevents, which is ES-only, and Node 18
// (Debian 12's) cannot require() an ES module.
import fs from 'node:fs';
import usb from 'usb';
import { WebDFU, WebDFUType, dfuCommands } from 'dfu';

const { WebUSB } = usb;

// node-usb gives each control transfer 1 s by default. A browser's WebUSB gives a control
// transfer no timeout at all, and an STM32F2/F4/F7 ROM holds the GETSTATUS that follows an erase
// until the erase is over (a 128 KiB F4 sector takes 1-2 s). 20 s covers the longest sector erase
// of the modelled chips (F7 256 KiB: 2 s typical, 4 s max) with room, and still ends a hang.
const TRANSFER_TIMEOUT_MS = 20000;
const WAIT_MS = Number(process.env.WEBDFU_WAIT_MS || 5000);

const log = {
  info: (m) => process.stderr.write(`webdfu: ${m}\n`),
  warning: (m) => process.stderr.write(`webdfu warning: ${m}\n`),
  progress: () => {},
};

const hex = (n, w) => n.toString(16).padStart(w, '0');
// bcdDevice as dfu-util prints it (`ver=2200`), from WebUSB's three version fields
const bcd = (d) => String(d.deviceVersionMajor).padStart(2, '0') +
  hex(d.deviceVersionMinor, 1) + hex(d.deviceVersionSubminor, 1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every device on which the driver finds a DFU interface, with its initialised WebDFU.
async function dfuDevices() {
  const usb = new WebUSB({ allowAllDevices: true, deviceTimeout: TRANSFER_TIMEOUT_MS });
  const found = [];
  for (const device of await usb.getDevices()) {
    const dfu = new WebDFU(device, { forceInterfacesName: true }, log);
    await dfu.init();
    if (dfu.interfaces.length > 0)
      found.push(dfu);
  }
  return found;
}

async function theDevice() {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const found = await dfuDevices();
    if (found.length === 1)
      return found[0];
    if (found.length > 1)
      throw new Error(`${found.length} DFU devices; this test drives exactly one`);
    if (Date.now() >= until)
      throw new Error(`no DFU device appeared within ${WAIT_MS} ms`);
    await sleep(100);
  }
}

// Sector runs of a memory map, e.g. `0x08000000 4x16K,1x64K,7x128K rew`, one line per run of
// equal access rights.
function layoutLines(alt, segments) {
  const size = (n) => (n % 1024 === 0 ? `${n / 1024}K` : `${n}`);
  const rights = (s) => (s.readable ? 'r' : '-') + (s.erasable ? 'e' : '-') + (s.writable ? 'w' : '-');
  const lines = [];
  let cur = null;
  for (const s of segments) {
    const runs = `${(s.end - s.start) / s.sectorSize}x${size(s.sectorSize)}`;
    if (cur && cur.rights === rights(s) && cur.next === s.start) {
      cur.runs.push(runs);
    } else {
      cur = { start: s.start, rights: rights(s), runs: [runs] };
      lines.push(cur);
    }
    cur.next = s.end;
  }
  if (lines.length === 0)
    return [`layout alt=${alt} none`];
  return lines.map((l) => `layout alt=${alt} 0x${hex(l.start, 8)} ${l.runs.join(',')} ${l.rights}`);
}

async function list() {
  const dfu = await theDevice();
  const d = dfu.device;
  for (const i of dfu.interfaces) {
    console.log(`Found DFU: [${hex(d.vendorId, 4)}:${hex(d.productId, 4)}] ` +
      `ver=${bcd(d)}, ` +
      `cfg=${i.configuration.configurationValue}, intf=${i.interface.interfaceNumber}, ` +
      `alt=${i.alternate.alternateSetting}, name="${i.name}", serial="${d.serialNumber}"`);
  }
  // connect() reads the functional descriptor and parses the alt's name as a DfuSe memory map
  for (let n = 0; n < dfu.interfaces.length; n++) {
    await dfu.connect(n);
    if (n === 0) {
      const p = dfu.properties;
      if (!p)
        throw new Error('the driver found no DFU functional descriptor');
      console.log(`functional transfer_size=${p.TransferSize} dfu_version=0x${hex(p.DFUVersion, 4)} ` +
        `detach_timeout=${p.DetachTimeOut} can_download=${+p.CanDownload} can_upload=${+p.CanUpload} ` +
        `manifestation_tolerant=${+p.ManifestationTolerant} will_detach=${+p.WillDetach} ` +
        `dfuse=${+(dfu.type === WebDFUType.SDFUse)}`);
    }
    const alt = dfu.interfaces[n].alternate.alternateSetting;
    for (const line of layoutLines(alt, dfu.dfuseMemoryInfo ? dfu.dfuseMemoryInfo.segments : []))
      console.log(line);
  }
  await dfu.close();
}

const STATES = ['appIDLE', 'appDETACH', 'dfuIDLE', 'dfuDNLOAD-SYNC', 'dfuDNBUSY', 'dfuDNLOAD-IDLE',
  'dfuMANIFEST-SYNC', 'dfuMANIFEST', 'dfuMANIFEST-WAIT-RESET', 'dfuUPLOAD-IDLE', 'dfuERROR'];

// Connects to the alt setting whose memory map holds ADDR (the driver's own map), and prints the
// state the chip is in (`start state=... status=N`).
//
// Workaround: some ROMs start in dfuERROR (the F0's listing in ../shared/data/dfu-list/ozseccon2019-
// badge...: "state = dfuERROR, status = 10"). The driver's DfuSe write sends its first ERASE
// without looking at the state, and a DNLOAD in dfuERROR STALLs (DFU 1.1; ST's USB middleware);
// its read starts with ABORT, which is not a request for dfuERROR either. A page using the driver
// has to clear the error itself, through the driver's public clearStatus(), as we do here.
async function connectFor(addr) {
  const dfu = await theDevice();
  for (let n = 0; n < dfu.interfaces.length; n++) {
    await dfu.connect(n);
    if (dfu.type !== WebDFUType.SDFUse)
      throw new Error('the driver does not see a DfuSe device (DFU 1.1a, protocol 2)');
    if (!dfu.getDfuseSegment(addr))
      continue;
    const st = await dfu.getStatus();
    console.log(`start state=${STATES[st.state] || st.state} status=${st.status}`);
    if (st.state === dfuCommands.dfuERROR)
      await dfu.clearStatus();
    return dfu;
  }
  throw new Error(`no alt setting's memory map (as the driver parsed it) holds 0x${hex(addr, 8)}`);
}

// Runs a driver process (its events), resolving at `end` with the end event's argument.
function finish(proc, onEvents) {
  return new Promise((resolve, reject) => {
    if (onEvents)
      onEvents(proc.events);
    proc.events.on('error', (e) => reject(e instanceof Error ? e : new Error(String(e))));
    proc.events.on('end', resolve);
  });
}

async function write(addr, file, xfer) {
  const data = fs.readFileSync(file);
  const dfu = await connectFor(addr);
  dfu.dfuseStartAddress = addr;
  let erased = 0;
  let written = 0;
  const block = xfer || dfu.properties.TransferSize;
  await finish(dfu.write(block, data.buffer.slice(data.byteOffset, data.byteOffset + data.length), true),
    (ev) => {
      ev.on('erase/process', (done) => { erased = done; });
      ev.on('write/end', (n) => { written = n; });
    });
  console.log(`block=${block} erased=${erased} written=${written}`);
  if (written !== data.length)
    throw new Error(`the driver wrote ${written} of ${data.length} bytes`);
  // After manifestation the chip has left the bus; closing the handle may find it gone.
  await dfu.close().catch(() => {});
}

async function read(addr, size, out) {
  const dfu = await connectFor(addr);
  dfu.dfuseStartAddress = addr;
  const blob = await finish(dfu.read(dfu.properties.TransferSize, size));
  const buf = Buffer.from(await blob.arrayBuffer());
  fs.writeFileSync(out, buf);
  console.log(`read=${buf.length}`);
  await dfu.close();
  if (buf.length !== size)
    throw new Error(`the driver read ${buf.length} of ${size} bytes`);
}

async function main(argv) {
  const num = (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`not a number: ${s}`);
    return n;
  };
  switch (argv[0]) {
  case 'list':
    return list();
  case 'write':
    if (argv.length !== 3 && argv.length !== 4)
      break;
    return write(num(argv[1]), argv[2], argv.length === 4 ? num(argv[3]) : 0);
  case 'read':
    if (argv.length !== 4)
      break;
    return read(num(argv[1]), num(argv[2]), argv[3]);
  case 'count':
    console.log(`devices=${(await dfuDevices()).length}`);
    return undefined;
  default:
    break;
  }
  throw new Error('usage: webdfu.mjs list | write ADDR FILE [XFER] | read ADDR SIZE OUT | count');
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`webdfu.mjs: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
