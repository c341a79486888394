// NumPy .npy reading and writing for the ORT peer: little-endian float32, int64 and
// uint8 in C order (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
'use strict';

const fs = require('fs');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

// ORT tensor type <-> .npy descr and the typed array that holds it.
const TYPES = [
  { ort: 'float32', descr: '<f4', array: Float32Array },
  { ort: 'int64', descr: '<i8', array: BigInt64Array },
  { ort: 'uint8', descr: '|u1', array: Uint8Array },
];

function typeByDescr(descr, file) {
  const normalized = descr.replace(/^=/, '<').replace(/^<(u1|i1|b1)$/, '|$1');
  const type = TYPES.find((t) => t.descr === normalized);
  if (!type) {
    const known = TYPES.map((t) => t.descr).join(', ');
    throw new Error(`${file}: unsupported .npy dtype '${descr}' (supported: ${known})`);
  }
  return type;
}

function headerField(header, key, file) {
  const match = header.match(new RegExp(`'${key}'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))`));
  if (!match) throw new Error(`${file}: .npy header has no '${key}' entry`);
  return match[1];
}

function parseShape(tuple, file) {
  return tuple
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) throw new Error(`${file}: bad .npy shape ${tuple}`);
      return Number(s);
    });
}

// Returns { type: 'float32' | 'int64' | 'uint8', shape: number[], data: TypedArray }.
function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${file}: not a .npy file (bad magic)`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${file}: unsupported .npy format version ${major}`);
  // Version 1 stores the header length in 2 bytes, later versions in 4.
  const lengthSize = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataOffset = 8 + lengthSize + headerLength;
  if (dataOffset > bytes.length) throw new Error(`${file}: truncated .npy header`);
  const header = bytes.toString('latin1', 8 + lengthSize, dataOffset);

  const type = typeByDescr(headerField(header, 'descr', file).slice(1, -1), file);
  if (headerField(header, 'fortran_order', file) !== 'False') {
    throw new Error(`${file}: Fortran-order .npy arrays are not supported`);
  }
  const shape = parseShape(headerField(header, 'shape', file), file);
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * type.array.BYTES_PER_ELEMENT;
  if (dataOffset + byteLength > bytes.length) {
    throw new Error(`${file}: holds ${bytes.length - dataOffset} data bytes, shape needs ${byteLength}`);
  }
  // Copy into a fresh buffer: typed arrays need offsets aligned to their element size.
  const data = new type.array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataOffset, dataOffset + byteLength));
  return { type: type.ort, shape, data };
}

// Writes format 1.0 with the header padded so the data starts on a 64-byte boundary.
function writeNpy(file, type, shape, data) {
  const entry = TYPES.find((t) => t.ort === type);
  if (!entry) throw new Error(`cannot write an ORT tensor of type ${type} as .npy`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${entry.descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const typed = data instanceof entry.array ? data : entry.array.from(data);
  const body = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

module.exports = { readNpy, writeNpy };
