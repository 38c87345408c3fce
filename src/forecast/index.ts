// Public surface of the forecasting area: what the pipeline, commands and bench import.
export { Forecaster, type ForecasterOptions, type ForecastStats, type SeriesForecast } from './forecaster';
export { OnlineSeries, type HorizonForecast, type ServedBy } from './online';
export { ForecastError, type ForecastErrorCode } from './errors';
export { TcpcastError } from '../errors';
export { loadModel, checkEngineCompatibility, validateModelSpec, modelHorizons, modelQuantiles, ENGINE_DEFAULT_WINDOW_MS, MODEL_FORMAT, type ModelSpec, type HorizonSpec } from './spec';
export { SequenceBuffers } from './sequences';
export { InferencePool, type PoolStats } from './pool';
export { encodeSequence, fitRobustScaler, outputToMbps, scaleValue, unscaleValue, type OutputMapping, type RobustScalerParams } from './scaler';
export { benchInference, type InferenceBenchResult } from './bench';
