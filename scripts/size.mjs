// Prints the min+gzip size of the browser bundle (the figure the README quotes).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const file = 'dist/browser/heartline.min.js';
const min = readFileSync(file);
const gz = gzipSync(min, { level: 9 });
console.log(
  `${file}: ${min.length} B min, ${gz.length} B min+gzip (${(gz.length / 1024).toFixed(2)} KiB)`,
);
