// The package entry (package.json `main`): the programmatic API — capture, forecast, sinks, pipeline and the window schema.
export { openCapture, listDevices, dropPrivileges, Capture, type CaptureOptions, type PacketBatch } from './capture';
export { Pipeline, type PipelineOptions, type PipelineStats, type WindowSource } from './pipeline';
export { Forecaster, type ForecasterOptions, type ForecastStats } from './forecast';
export type { Sink } from './sinks/sink';
export { CsvSink, InfluxSink } from './sinks';
export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard';
export * from './features';
export { COUNTERS, WINDOW_COLUMNS, type CounterName, type SchemaColumn, type SchemaCounter } from './schema';
export { TcpcastError, type TcpcastErrorCode } from './errors';
