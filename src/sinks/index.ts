// The sinks' public surface: the Sink contract, the CSV sink, and the InfluxDB writer with its flags.
export type { Sink } from './sink';
export * from './csv';
export * from './influx';
export * from './influx-schema';
export * from './influx-options';
export { syntheticRows, writeSyntheticRows } from './influx-synthetic';
