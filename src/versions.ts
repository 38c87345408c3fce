// Versions of tcpcast and what it runs on (libpcap, onnxruntime, Node.js), for --version and tcpcast_build_info.

/** Each value or "unknown"; never throws (a missing addon still lets --version print the rest). */
export function versionLabels(): Record<'version' | 'libpcap' | 'onnxruntime' | 'node', string> {
  let libpcap = 'unknown';
  try {
    libpcap = (require('./native') as typeof import('./native')).native().pcapVersion.replace(/^libpcap version /, '');
  } catch {
    // addon not built: the other versions are still useful
  }
  let onnxruntime = 'unknown';
  try {
    onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // not installed
  }
  return { version: (require('../../package.json') as { version: string }).version, libpcap, onnxruntime, node: process.version };
}
