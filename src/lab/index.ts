// The lab: real Linux TCP over trace-driven emulated links, for training data, tests and demos.
export * from './session';
export * from './trace';
export * from './netns';
export * from './pcap';
export * from './emulog';
