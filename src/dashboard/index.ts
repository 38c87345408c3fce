// The live dashboard's public surface: start it (a Sink plus a stats hook), parse its --dashboard address, measure phase.
export { startDashboard, type Dashboard, type DashboardOptions } from './server';
export { parseDashboardAddress, dashboardUrl, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, type ListenAddress } from './address';
export { measurePhase, type PhaseOptions, type PhaseResult } from './phase';
