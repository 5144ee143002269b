// Reading slices of a GPU buffer back to the CPU. Imported by the runtime's session module, which also runs in Node
// without WebGPU: nothing here touches a WebGPU global until a function is called.

/** Where the rows `readRows` copies lie in their buffer, in elements. */
export interface RowSlices {
  /** Bytes per element (4 for float32, 2 for float16). */
  elementBytes: number;
  rows: number;
  /** Element offset of row 0's slice. */
  offset: number;
  /** Elements from one row's slice to the next. */
  rowStride: number;
  /** Elements per slice. */
  length: number;
}

/**
 * Copies one slice per row of `source` to the CPU, packed ([rows × length] elements), with one submission and one
 * map: e.g. the last position's logits of each row out of [rows, positions, vocab] without reading the rest.
 * WebGPU copies run in 4-byte units (`copyBufferToBuffer` offsets and sizes), so a slice whose bytes do not start or
 * end on one (float16 with an odd offset or length) is copied with its neighbouring bytes and cut out here.
 * Returns null, reading nothing, when a widened slice would pass the end of `source` (the caller reads it whole).
 */
export async function readRows(device: GPUDevice, source: GPUBuffer, s: RowSlices): Promise<ArrayBuffer | null> {
  const sliceBytes = s.length * s.elementBytes;
  const spans: { from: number; to: number; at: number; skip: number }[] = [];
  let size = 0;
  for (let r = 0; r < s.rows; r++) {
    const start = (s.offset + r * s.rowStride) * s.elementBytes;
    const from = Math.floor(start / 4) * 4;
    const to = Math.ceil((start + sliceBytes) / 4) * 4;
    if (to > source.size) return null;
    spans.push({ from, to, at: size, skip: start - from });
    size += to - from;
  }
  const staging = device.createBuffer({ label: 'readRows.staging', size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readRows.encoder' });
  for (const span of spans) if (span.to > span.from) encoder.copyBufferToBuffer(source, span.from, staging, span.at, span.to - span.from);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const mapped = new Uint8Array(staging.getMappedRange());
  const out = new Uint8Array(s.rows * sliceBytes);
  spans.forEach((span, r) => out.set(mapped.subarray(span.at + span.skip, span.at + span.skip + sliceBytes), r * sliceBytes));
  staging.unmap();
  staging.destroy();
  return out.buffer;
}
